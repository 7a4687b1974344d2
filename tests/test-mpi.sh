#!/usr/bin/env bash
# natsim --mpi end to end under mpirun (3 processes on however many cores):
#  - a sweep, a plan and a simulate with several replications give files
#    byte-identical to --jobs 1 (report.json, sweep.json, the CSV, text and
#    Markdown, the narration), ranks other than 0 ran units, and only
#    rank 0 printed (stdout as with --jobs 1, once);
#  - failures end the run with their message and a non-zero status instead
#    of hanging (every mpirun under a timeout): rank 0 cannot write its
#    reports; ranks 1 and 2 cannot read their input; rank 0 cannot read its
#    input while the others wait in a run; ranks 1 and 2 were given
#    another scenario, or other --vary (another number of units); rank 2
#    is killed mid-run; a unit fails on rank 2, rank 2 fails after the
#    runs (test-mpi-runner, which also checks that the work queue reaches
#    every rank);
#  - the memory guard gives each of 3 ranks on one node a third of the
#    memory; NATSIM_MPI_VERBOSE=1 keeps the other ranks' standard error.
# Argument: the test-mpi-runner binary, or "none" when natsim was built
# without MPI: then --mpi must be refused with one line and exit 2, and
# the rest is skipped (77).  Skipped too where mpirun is missing.
set -euo pipefail

runner=${1:-none}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$NATSIM_SOURCE_ROOT"

fail () { echo "FAIL: $*"; exit 1; }

if [ "$runner" = none ]; then
  set +e
  msg=$("$NATSIM" sweep scenarios/sweep-timeout.ini --vary nat.udp_timeout=30s --mpi \
          --out "$work/x" 2>&1)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "--mpi without MPI: exit $rc, expected 2"
  [ "$(printf '%s\n' "$msg" | wc -l)" -eq 1 ] || fail "--mpi without MPI: not one line: $msg"
  grep -q "natsim was built without MPI" <<<"$msg" || fail "--mpi without MPI said: $msg"
  [ ! -e "$work/x" ] || fail "--mpi without MPI wrote something"
  [ "${NATSIM_TEST_MPI_REQUIRED:-0}" != 1 ] || fail "natsim was built without MPI"
  echo "natsim built without MPI: --mpi refused as it should; MPI runs skipped"
  exit 77
fi
if ! command -v mpirun >/dev/null 2>&1; then
  # CI sets NATSIM_TEST_MPI_REQUIRED=1: there a missing mpirun is a failure.
  [ "${NATSIM_TEST_MPI_REQUIRED:-0}" != 1 ] || fail "mpirun not installed"
  echo "mpirun not installed: skipped"
  exit 77
fi

# mpirun on one node, robust in a container: no ssh needed (local launch),
# the plain point-to-point layer over shared memory (no UCX or InfiniBand
# probing), shared memory without cross-memory attach (often not
# permitted), no core binding (3 processes may share 2 cores), as root
# when CI runs as root.
export OMPI_MCA_plm_rsh_agent=
export OMPI_MCA_pml=ob1
export OMPI_MCA_btl=self,vader
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_hwloc_base_binding_policy=none
export OMPI_MCA_rmaps_base_oversubscribe=1
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -ne 0 ] || mpi+=(--allow-run-as-root)

# Every MPI run is bounded: a hang is a failure, not a stuck CI job.
# run_np N COMMAND... (more "-np M COMMAND..." after a ':' for ranks that
# run something else).
run_np () { local np=$1; shift; timeout -k 5 90 "${mpi[@]}" -np "$np" "$@"; }
run_mpi () { run_np 3 "$@"; }

same_files () {
  local a=$1 b=$2 n=0
  for f in "$a"/*; do
    cmp "$f" "$b/$(basename "$f")" || fail "$(basename "$f") differs between --jobs 1 and --mpi"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || fail "nothing written in $a"
  [ "$(ls "$a" | wc -l)" -eq "$(ls "$b" | wc -l)" ] || fail "$b holds other files than $a"
}

# Standard output of both runs, the output directory named alike.
same_stdout () {
  sed "s#$2#OUT#g" "$1.out" >"$work/a.txt"
  sed "s#$4#OUT#g" "$3.out" >"$work/b.txt"
  diff "$work/a.txt" "$work/b.txt" >/dev/null || fail "stdout differs between --jobs 1 and --mpi"
}

spread () {
  # "natsim: --mpi: units run by rank: 0:12 1:6 2:6": ranks other than 0
  # ran units (test-mpi-runner checks that every rank gets work).
  local line
  line=$(grep "units run by rank" "$1") || fail "no unit count from rank 0 ($1)"
  grep -Eq " [12]:[1-9][0-9]*" <<<"$line" || fail "only rank 0 ran units: $line"
  echo "$line"
}

export NATSIM_MPI_VERBOSE=1

echo "== sweep: 6 points x 4 replications"
vary=(--vary nat.udp_timeout=30s..180s:30s)
"$NATSIM" sweep scenarios/sweep-timeout.ini "${vary[@]}" --jobs 1 --out "$work/s1" \
  --format text,json,md >"$work/s1.out"
run_mpi "$NATSIM" sweep scenarios/sweep-timeout.ini "${vary[@]}" --mpi --jobs 2 \
  --out "$work/s3" --format text,json,md >"$work/s3.out" 2>"$work/s3.err" \
  || { cat "$work/s3.err"; fail "sweep --mpi failed"; }
same_files "$work/s1" "$work/s3"
same_stdout "$work/s1" "$work/s1" "$work/s3" "$work/s3"
spread "$work/s3.err"

echo "== plan: every stage's simulations"
"$NATSIM" plan scenarios/plan-erlang.ini --jobs 1 --out "$work/p1" --format json,text,md \
  >"$work/p1.out"
run_mpi "$NATSIM" plan scenarios/plan-erlang.ini --mpi --out "$work/p3" --format json,text,md \
  >"$work/p3.out" 2>"$work/p3.err" || { cat "$work/p3.err"; fail "plan --mpi failed"; }
same_files "$work/p1" "$work/p3"
same_stdout "$work/p1" "$work/p1" "$work/p3" "$work/p3"
spread "$work/p3.err"

echo "== plan with port blocks (usage figures per subscriber travel too)"
"$NATSIM" plan scenarios/plan-ports.ini --jobs 1 --out "$work/q1" --format json >/dev/null
run_mpi "$NATSIM" plan scenarios/plan-ports.ini --mpi --jobs 2 --out "$work/q3" --format json \
  >/dev/null 2>"$work/q3.err" || { cat "$work/q3.err"; fail "plan --mpi (ports) failed"; }
same_files "$work/q1" "$work/q3"

echo "== simulate: 8 replications, replication 1 narrated"
"$NATSIM" simulate scenarios/erlang-b.ini -r 8 --jobs 1 --out "$work/r1" \
  --format json,text,md,csv --events "$work/r1.events" >"$work/r1.out"
run_mpi "$NATSIM" simulate scenarios/erlang-b.ini -r 8 --mpi --out "$work/r3" \
  --format json,text,md,csv --events "$work/r3.events" >"$work/r3.out" 2>"$work/r3.err" \
  || { cat "$work/r3.err"; fail "simulate --mpi failed"; }
same_files "$work/r1" "$work/r3"
same_stdout "$work/r1" "$work/r1" "$work/r3" "$work/r3"
cmp "$work/r1.events" "$work/r3.events" || fail "the narration differs"
spread "$work/r3.err"

unset NATSIM_MPI_VERBOSE

# A failing run: a non-zero status, the message once, nothing hanging.
expect_failure () {
  local want_rc=$1 want_msg=$2 np=$3 rc
  shift 3
  set +e
  run_np "$np" "$@" >"$work/f.out" 2>"$work/f.err"
  rc=$?
  set -e
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "hung (killed by timeout): $*"
  [ "$rc" -eq "$want_rc" ] || { cat "$work/f.err"; fail "exit $rc, expected $want_rc: $*"; }
  [ "$(grep -c "^natsim: " "$work/f.err")" -eq 1 ] \
    || { cat "$work/f.err"; fail "not one natsim message: $*"; }
  grep -q "^natsim: .*$want_msg" "$work/f.err" || { cat "$work/f.err"; fail "no '$want_msg'"; }
  grep "^natsim: " "$work/f.err"
}

echo "== failure: rank 0 cannot write its reports"
touch "$work/file"
expect_failure 1 "cannot create directory" 3 "$NATSIM" sweep scenarios/sweep-timeout.ini \
  --vary nat.udp_timeout=30s,60s --mpi --out "$work/file/out" -q

echo "== failure: ranks 1 and 2 cannot read their input (rank 0 can)"
args=(--vary nat.udp_timeout=30s,60s --mpi --out "$work/f2" -q)
expect_failure 2 "rank [12]: $work/missing.ini" 1 \
  "$NATSIM" sweep scenarios/sweep-timeout.ini "${args[@]}" : \
  -np 2 "$NATSIM" sweep "$work/missing.ini" "${args[@]}"
[ ! -e "$work/f2" ] || fail "a failed run wrote its reports"

echo "== failure: ranks 1 and 2 run another scenario (same number of units)"
# --jobs 1: rank 0 cannot take every unit itself.
args=(scenarios/sweep-timeout.ini --mpi --jobs 1 --out "$work/f3" -q)
two=(--vary nat.udp_timeout=30s,60s)
# Rank 0 finds it in a result of rank 1 or 2, or (when it ran every unit
# itself) ranks 1 and 2 find it in rank 0's.
expect_failure 1 "rank [0-2] ran unit [0-9]* from another scenario (different inputs on the ranks)" \
  1 "$NATSIM" sweep "${args[@]}" "${two[@]}" : \
  -np 2 "$NATSIM" sweep "${args[@]}" "${two[@]}" --set nat.port_range=1024-1060
[ ! -e "$work/f3" ] || fail "a run of mixed inputs wrote its reports"

echo "== failure: ranks 1 and 2 have more units than rank 0"
expect_failure 1 "rank [12]: rank 0 ran 8 units where this rank has 12" 1 \
  "$NATSIM" sweep "${args[@]}" "${two[@]}" : \
  -np 2 "$NATSIM" sweep "${args[@]}" --vary nat.udp_timeout=30s,60s,90s
[ ! -e "$work/f3" ] || fail "a run with other unit counts wrote its reports"

echo "== failure: ranks 1 and 2 have fewer units than rank 0"
# (rank 0 hands out a unit they do not have, or ran all 8 itself)
expect_failure 1 "rank [12]: rank 0 \\(handed out unit [4-7] where this rank has 4 units\\|ran 8 units where this rank has 4\\)" 1 \
  "$NATSIM" sweep "${args[@]}" "${two[@]}" : \
  -np 2 "$NATSIM" sweep "${args[@]}" --vary nat.udp_timeout=30s
[ ! -e "$work/f3" ] || fail "a run with other unit counts wrote its reports"

echo "== failure: rank 0 cannot read its input while ranks 1 and 2 wait in a run"
expect_failure 2 "$work/missing.ini" 1 "$NATSIM" plan "$work/missing.ini" --mpi -q : \
  -np 2 "$NATSIM" plan scenarios/plan-erlang.ini --mpi -q

echo "== the memory guard counts the processes of a node"
# The guard's estimate for one replication; memory for two of them is
# enough for one process, not for three sharing the node.
est=$("$NATSIM" check scenarios/erlang-b.ini --jobs 1 --set simulation.replications=1 \
        | sed -n 's/^simulate needs about \([0-9]*\) MiB.*/\1/p')
[ -n "$est" ] || fail "no memory estimate from natsim check"
export NATSIM_MEMORY_AVAILABLE=$((2 * est * 1048576))
mem=(scenarios/erlang-b.ini -r 1 --jobs 1 -q --set simulation.duration=10m
     --set simulation.warmup=1m)
"$NATSIM" simulate "${mem[@]}" --out "$work/m1" >/dev/null \
  || fail "the memory guard refused one process"
expect_failure 2 "available to each of the 3 processes on this node" 3 \
  "$NATSIM" simulate "${mem[@]}" --mpi --out "$work/m3"
[ ! -e "$work/m3" ] || fail "a refused run wrote its reports"
unset NATSIM_MEMORY_AVAILABLE

echo "== NATSIM_MPI_VERBOSE=1: the other ranks' standard error is kept"
set +e
NATSIM_MPI_VERBOSE=1 run_np 1 "$NATSIM" sweep scenarios/sweep-timeout.ini "${two[@]}" --mpi -q \
  --out "$work/v" : -np 2 "$NATSIM" sweep "$work/missing.ini" "${two[@]}" --mpi -q \
  --out "$work/v" >/dev/null 2>"$work/v.err"
set -e
grep -q "^natsim: rank [12]: $work/missing.ini" "$work/v.err" \
  || { cat "$work/v.err"; fail "verbose: no message from rank 0"; }
grep -q "^natsim: $work/missing.ini" "$work/v.err" \
  || { cat "$work/v.err"; fail "verbose: the failing ranks' own message was not kept"; }

echo "== failure: a bad option, said once"
expect_failure 2 "Unknown option --bogus" 3 "$NATSIM" simulate scenarios/erlang-b.ini --mpi --bogus

echo "== failure: rank 2 killed in the middle of a sweep"
# Open MPI's part: mpirun ends the job when a process dies; natsim must
# not stand in its way (no blocking wait it could not leave).
big=(scenarios/sweep-timeout.ini --vary nat.udp_timeout=30s..180s:30s
     --set population.flows.count=5000 --set population.flows.flows_per_second=50
     --mpi -q --out "$work/k")
set +e
run_np 2 "$NATSIM" sweep "${big[@]}" : -np 1 sh -c \
  "\"\$0\" sweep \"\$@\" & p=\$!; sleep 0.5; kill -9 \$p; wait \$p" "$NATSIM" "${big[@]}" \
  >"$work/k.out" 2>&1
rc=$?
set -e
[ "$rc" -ne 124 ] && [ "$rc" -ne 0 ] || { cat "$work/k.out"; fail "killed rank: exit $rc"; }
[ ! -e "$work/k/sweep.json" ] || fail "killed rank: reports written"
echo "exit $rc"

echo "== the work queue, and a unit failing on rank 2"
run_mpi "$runner" || fail "test-mpi-runner"

echo "all MPI checks passed"
