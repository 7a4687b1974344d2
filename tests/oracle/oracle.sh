#!/usr/bin/env bash
# natsim oracle: one case of natsim against the Linux kernel's NAT.
#
#   oracle.sh TRAFFIC-PROGRAM PORTS-PROGRAM CASE     (as root; NATSIM = natsim)
#
# For CASE it writes an open-loop traffic plan (natsim-oracle-traffic reads
# it on both sides) and runs it twice, each time in three network namespaces
# of its own (inside host, NAT, server) joined by veth pairs, with
# documentation addresses only (inside 192.0.2.0/24, public 203.0.113.0/24,
# servers 198.51.100.0/24):
#   1. through nftables SNAT to a small port range, with conntrack timeouts
#      set in the NAT namespace: the kernel's truth (what the server and the
#      inside host received, conntrack's insert_failed counter);
#   2. through plain routing, captured with tcpdump on the NAT namespace's
#      inside interface: the traffic as offered, every packet in inside
#      addressing, also those the NAT dropped in run 1.
# It replays capture 2 with `natsim replay --set nat.preset=linux` and the
# same port range and timeouts, and requires natsim's allocation failures,
# binding losses and forwarded / delivered packets to equal the kernel's.
#
# Exit 0 pass, 1 fail, 77 skip (not root, tools or namespaces unavailable).
# Everything it creates (namespaces, the veth pairs inside them, nft tables
# inside them, its work directory unless ORACLE_KEEP=1 or a failure) goes on
# exit, interruption or termination.  It never changes the host's network.

set -u
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C

TRAFFIC=${1:?usage: oracle.sh TRAFFIC-PROGRAM PORTS-PROGRAM CASE}
PORTS=${2:?usage: oracle.sh TRAFFIC-PROGRAM PORTS-PROGRAM CASE}
CASE=${3:?usage: oracle.sh TRAFFIC-PROGRAM PORTS-PROGRAM CASE}
NATSIM=${NATSIM:?NATSIM must name the natsim executable}

STATUS=1
skip () { echo "SKIP: $*"; STATUS=77; exit 77; }
note () { echo "oracle[$CASE]: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
for tool in ip nft tcpdump conntrack; do
  command -v "$tool" > /dev/null 2>&1 || skip "$tool is not installed (Debian: iproute2 nftables tcpdump conntrack)"
done
[ -x "$TRAFFIC" ] || { echo "oracle: $TRAFFIC is not executable"; exit 1; }
[ -x "$NATSIM" ] || { echo "oracle: $NATSIM is not executable"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/natsim-oracle-$CASE.XXXXXX") || exit 1
PFX="natsim-orc-$$"
NAMESPACES=()
PIDS=()

cleanup () {
  local pid ns
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
  done
  PIDS=()
  for ns in "${NAMESPACES[@]}"; do
    ip netns del "$ns" 2> /dev/null
  done
  NAMESPACES=()
}
finish () {
  trap - EXIT INT TERM
  cleanup
  if { [ "$STATUS" = 0 ] || [ "$STATUS" = 77 ]; } && [ "${ORACLE_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "oracle[$CASE]: files kept in $WORK"
  fi
  exit "$STATUS"
}
trap finish EXIT
trap 'STATUS=130; finish' INT
trap 'STATUS=143; finish' TERM

# ---------------------------------------------------------------------------
# Case definitions: the plan, the NAT's addresses and ports, the timeouts.

PUB="203.0.113.1"          # SNAT addresses (a-b for a range)
RANGE="1024-1033"          # SNAT port range
UDP_T=5                    # nf_conntrack_udp_timeout
UDP_STREAM_T=10            # nf_conntrack_udp_timeout_stream
TCP_EST_T=5                # nf_conntrack_tcp_timeout_established
EXPECT=""                  # the kernel's figures docs/reference.md section 3 states
CHECK_PORTS=0              # compare preserved source ports too

PLAN="$WORK/plan"
S1=198.51.100.10; S2=198.51.100.11; S3=198.51.100.12
A=192.0.2.10; B=192.0.2.11

# t(I, STEP, BASE): BASE + I * STEP with three decimals
t () { awk -v i="$1" -v s="$2" -v b="$3" 'BEGIN { printf "%.3f", b + i * s }'; }

case "$CASE" in
  exhaustion)
    # 30 flows from distinct source ports to one server ip:port, 10 ports:
    # 10 pass, 20 are refused; the server answers every flow it heard.
    EXPECT="failures 20, delivered in 10, binding losses 20"
    { for i in $(seq 0 29); do echo "flow $i udp $A $((40000 + i)) $S1 5000"; done
      for i in $(seq 0 29); do echo "out $(t "$i" 0.05 0.2) $i"; done
      for i in $(seq 0 29); do echo "in $(t "$i" 0.02 2.5) $i"; done
      echo "end 3.5"; } > "$PLAN" ;;
  spread-ports)
    # the same 30 flows over 3 server ports: a port serves one flow per
    # destination (port overlapping), so all pass on 10 ports
    EXPECT="failures 0, delivered in 30, binding losses 0"
    { for i in $(seq 0 29); do echo "flow $i udp $A $((40000 + i)) $S1 $((5000 + i % 3))"; done
      for i in $(seq 0 29); do echo "out $(t "$i" 0.05 0.2) $i"; done
      for i in $(seq 0 29); do echo "in $(t "$i" 0.02 2.5) $i"; done
      echo "end 3.5"; } > "$PLAN" ;;
  spread-addresses)
    EXPECT="failures 0, delivered in 30, binding losses 0"
    SRVS=("$S1" "$S2" "$S3")
    { for i in $(seq 0 29); do echo "flow $i udp $A $((40000 + i)) ${SRVS[$((i % 3))]} 5000"; done
      for i in $(seq 0 29); do echo "out $(t "$i" 0.05 0.2) $i"; done
      for i in $(seq 0 29); do echo "in $(t "$i" 0.02 2.5) $i"; done
      echo "end 3.5"; } > "$PLAN" ;;
  keepalive-short)
    # udp timeout 5 s, outbound keepalives every 3 s keep the mapping: the
    # server's sends 4 s after the last keepalive are delivered
    EXPECT="failures 0, delivered in 3, binding losses 0"
    { for f in 0 1 2; do echo "flow $f udp $A $((41000 + f)) $S1 5000"; done
      for k in 0 3 6 9; do for f in 0 1 2; do echo "out $(t "$f" 0.1 "$k") $f"; done; done
      for f in 0 1 2; do echo "in $(t "$f" 0.1 13) $f"; done
      echo "end 14"; } > "$PLAN" ;;
  keepalive-long)
    # keepalives every 6 s, longer than the 5 s timeout: each finds the
    # mapping gone and makes a new one (a rebinding); the server, answering
    # the latest source, reaches the flow 4 s after it but not 7 s after
    EXPECT="failures 0, delivered in 3, binding losses 3"
    { for f in 0 1 2; do echo "flow $f udp $A $((41000 + f)) $S1 5000"; done
      for k in 0 6; do for f in 0 1 2; do echo "out $(t "$f" 0.1 "$k") $f"; done; done
      for f in 0 1 2; do echo "in $(t "$f" 0.1 10) $f"; done
      for f in 0 1 2; do echo "in $(t "$f" 0.1 17) $f"; done
      echo "end 18"; } > "$PLAN" ;;
  inbound-refresh)
    # one outbound packet, then the server alone every 3 s: inbound packets
    # refresh the mapping (stream timeout = udp timeout = 5 s here); 7 s of
    # silence ends it
    UDP_STREAM_T=5
    EXPECT="failures 0, delivered in 8, binding losses 2"
    { for f in 0 1; do echo "flow $f udp $A $((42000 + f)) $S1 5000"; done
      for f in 0 1; do echo "out $(t "$f" 0.1 0.2) $f"; done
      for k in 3 6 9 12; do for f in 0 1; do echo "in $(t "$f" 0.1 "$k") $f"; done; done
      for f in 0 1; do echo "in $(t "$f" 0.1 19) $f"; done
      echo "end 20"; } > "$PLAN" ;;
  udp-stream)
    # udp timeout 5 s, stream timeout 10 s.  Flow 0: a reply at 3 s (the
    # first reply still gets 5 s), then an outbound packet at 4 s (after a
    # reply, flow older than 2 s: stream, 10 s); the server's send 8 s later
    # is delivered, 11.3 s after it lost.  Flow 1: reply at 1 s and outbound at
    # 1.5 s (younger than 2 s: still 5 s); the send at 8 s is lost.
    EXPECT="failures 0, delivered in 3, binding losses 2"
    { echo "flow 0 udp $A 43000 $S1 5000"
      echo "flow 1 udp $A 43001 $S1 5000"
      echo "out 0.2 0"; echo "out 0.3 1"
      echo "in 1.3 1"; echo "out 1.8 1"
      echo "in 3.2 0"; echo "out 4.2 0"
      echo "in 8.3 1"
      echo "in 12.2 0"; echo "in 23.5 0"
      echo "end 24"; } > "$PLAN" ;;
  filtering)
    # address-and-port-dependent filtering: while the mapping lives, a probe
    # from another port of the server and one from another server address
    # are dropped; the server's own port gets through
    EXPECT="failures 0, delivered in 2, binding losses 0, probes dropped 4"
    { for f in 0 1; do echo "flow $f udp $A $((44000 + f)) $S1 5000"; done
      for f in 0 1; do echo "out $(t "$f" 0.1 0.2) $f"; done
      for f in 0 1; do echo "probe $(t "$f" 0.1 1) $f $S1 5001"; done
      for f in 0 1; do echo "probe $(t "$f" 0.1 1.5) $f $S2 5000"; done
      for f in 0 1; do echo "in $(t "$f" 0.1 2) $f"; done
      echo "end 3"; } > "$PLAN" ;;
  tcp-established)
    # TCP established timeout 5 s: after 7 s idle the server's send is lost
    EXPECT="failures 0, binding losses 1"
    { echo "flow 0 tcp $A 45000 $S1 6000"
      echo "out 0.2 0"; echo "in 1 0"; echo "in 8.5 0"; echo "out 9.5 0"
      echo "end 10.5"; } > "$PLAN" ;;
  port-preservation)
    # a source port inside the range is kept when free toward the server;
    # B's 1025 toward the same server ip:port is taken by A's, so B's moves.
    # The flows whose ports must be kept go first: a moved flow takes a
    # random port (docs/reference.md section 3), which could otherwise be B's
    # 1030 and make the kernel's answer depend on chance.
    CHECK_PORTS=1
    EXPECT="failures 0, delivered in 5, binding losses 0, ports kept 1025 1027 (A) and 1030 (B)"
    { echo "flow 0 udp $A 1025 $S1 5000"
      echo "flow 1 udp $A 1027 $S1 5000"
      echo "flow 2 udp $B 1030 $S1 5000"
      echo "flow 3 udp $B 1025 $S1 5000"
      echo "flow 4 udp $A 46000 $S1 5000"
      for f in 0 1 2 3 4; do echo "out $(t "$f" 0.1 0.2) $f"; done
      for f in 0 1 2 3 4; do echo "in $(t "$f" 0.1 1.5) $f"; done
      echo "end 2.5"; } > "$PLAN" ;;
  two-addresses)
    # snat to two addresses: an inside host's flows toward one server use
    # one address (no fall-back to the other): 10 of 30 pass; spread over
    # three servers, all pass
    PUB="203.0.113.1-203.0.113.2"
    EXPECT="failures 20, delivered in 40, binding losses 20"
    SRVS=("$S1" "$S2" "$S3")
    { for i in $(seq 0 29); do echo "flow $i udp $A $((40000 + i)) $S1 5000"; done
      for i in $(seq 30 59); do echo "flow $i udp $A $((40000 + i)) ${SRVS[$((i % 3))]} 5001"; done
      for i in $(seq 0 59); do echo "out $(t "$i" 0.03 0.2) $i"; done
      for i in $(seq 0 59); do echo "in $(t "$i" 0.02 2.5) $i"; done
      echo "end 4"; } > "$PLAN" ;;
  *)
    echo "oracle: unknown case '$CASE'"; exit 2 ;;
esac

# ---------------------------------------------------------------------------
# Topology

# nsctl NS KEY VALUE: a sysctl of that namespace (/proc/sys/net is the
# reading process's own namespace's), without procps
nsctl () {
  ip netns exec "$1" sh -c 'echo "$2" > "/proc/sys/$1"' nsctl "$2" "$3" 2> "$WORK/sysctl.err" ||
    { note "cannot set $2 in $1: $(cat "$WORK/sysctl.err")"; return 1; }
}

# setup RUN MODE: three namespaces; MODE nat adds the SNAT rule and timeouts
setup () {
  local run=$1 mode=$2
  IN_NS="$PFX-$run-in"; NAT_NS="$PFX-$run-nat"; SRV_NS="$PFX-$run-srv"
  for ns in "$IN_NS" "$NAT_NS" "$SRV_NS"; do
    ip netns add "$ns" 2> "$WORK/netns.err" || {
      if [ "$run" = r1 ]; then skip "cannot create network namespaces: $(cat "$WORK/netns.err")"; fi
      return 1
    }
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up || return 1
  done
  # both ends of each veth pair are created inside the namespaces
  ip -n "$NAT_NS" link add nat-in type veth peer name eth0 netns "$IN_NS" 2> "$WORK/veth.err" &&
  ip -n "$NAT_NS" link add nat-out type veth peer name eth0 netns "$SRV_NS" 2>> "$WORK/veth.err" || {
    if [ "$run" = r1 ]; then skip "cannot create veth pairs: $(cat "$WORK/veth.err")"; fi
    return 1
  }
  ip -n "$IN_NS" addr add "$A/24" dev eth0 && ip -n "$IN_NS" addr add "$B/24" dev eth0 &&
  ip -n "$IN_NS" link set eth0 up && ip -n "$IN_NS" route add default via 192.0.2.1 &&
  ip -n "$NAT_NS" addr add 192.0.2.1/24 dev nat-in &&
  ip -n "$NAT_NS" addr add 203.0.113.1/24 dev nat-out &&
  ip -n "$NAT_NS" addr add 203.0.113.2/24 dev nat-out &&
  ip -n "$NAT_NS" link set nat-in up && ip -n "$NAT_NS" link set nat-out up &&
  ip -n "$NAT_NS" route add 198.51.100.0/24 via 203.0.113.254 &&
  ip -n "$SRV_NS" addr add 203.0.113.254/24 dev eth0 &&
  ip -n "$SRV_NS" addr add "$S1/32" dev eth0 && ip -n "$SRV_NS" addr add "$S2/32" dev eth0 &&
  ip -n "$SRV_NS" addr add "$S3/32" dev eth0 &&
  ip -n "$SRV_NS" link set eth0 up && ip -n "$SRV_NS" route add 192.0.2.0/24 via 203.0.113.1 &&
  nsctl "$NAT_NS" net/ipv4/ip_forward 1 || return 1
  if [ "$mode" = nat ]; then
    ip netns exec "$NAT_NS" nft -f - > "$WORK/nft.err" 2>&1 << EOF || { [ "$run" = r1 ] && skip "nftables SNAT unavailable: $(cat "$WORK/nft.err")"; return 1; }
table ip natsim_oracle {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "nat-out" meta l4proto { tcp, udp } snat ip to $PUB:$RANGE
  }
}
EOF
    nsctl "$NAT_NS" net/netfilter/nf_conntrack_udp_timeout "$UDP_T" &&
    nsctl "$NAT_NS" net/netfilter/nf_conntrack_udp_timeout_stream "$UDP_STREAM_T" &&
    nsctl "$NAT_NS" net/netfilter/nf_conntrack_tcp_timeout_established "$TCP_EST_T" || return 1
  fi
  # permanent neighbour entries: no ARP delay in the timed traffic
  local mac_in mac_nin mac_nout mac_srv
  mac_in=$(ip -n "$IN_NS" -br link show dev eth0 | awk '{ print $3 }')
  mac_nin=$(ip -n "$NAT_NS" -br link show dev nat-in | awk '{ print $3 }')
  mac_nout=$(ip -n "$NAT_NS" -br link show dev nat-out | awk '{ print $3 }')
  mac_srv=$(ip -n "$SRV_NS" -br link show dev eth0 | awk '{ print $3 }')
  ip -n "$IN_NS" neigh replace 192.0.2.1 lladdr "$mac_nin" dev eth0 nud permanent &&
  ip -n "$NAT_NS" neigh replace "$A" lladdr "$mac_in" dev nat-in nud permanent &&
  ip -n "$NAT_NS" neigh replace "$B" lladdr "$mac_in" dev nat-in nud permanent &&
  ip -n "$NAT_NS" neigh replace 203.0.113.254 lladdr "$mac_srv" dev nat-out nud permanent &&
  ip -n "$SRV_NS" neigh replace 203.0.113.1 lladdr "$mac_nout" dev eth0 nud permanent &&
  ip -n "$SRV_NS" neigh replace 203.0.113.2 lladdr "$mac_nout" dev eth0 nud permanent
}

# traffic: both sides of the plan in both runs (r1: NAT, r2: routed), all
# four programs started together 1.5 s from now; the runs share nothing
traffic () {
  local start pid rc=0 run
  local -a pids=()
  start=$(( $(date +%s%N) + 1500000000 ))
  for run in r1 r2; do
    ip netns exec "$PFX-$run-srv" "$TRAFFIC" server "$PLAN" "$start" "$WORK/$run-server.log" &
    pids+=($!)
    ip netns exec "$PFX-$run-in" "$TRAFFIC" client "$PLAN" "$start" "$WORK/$run-client.log" &
    pids+=($!)
  done
  PIDS+=("${pids[@]}")
  for pid in "${pids[@]}"; do
    wait "$pid" || rc=1
  done
  return $rc
}

conntrack_stat () {  # sum of one counter of conntrack -S in the NAT namespace
  ip netns exec "$PFX-r1-nat" conntrack -S 2> /dev/null |
    awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) s += substr($i, length(k) + 2) } END { print s + 0 }'
}

# ---------------------------------------------------------------------------
# Counting: the plan's events by index, the logs' lines by event

# count RUN: sets out_sent srv_got in_plan in_got probe_plan probe_got
#            in_unsent tcp
count () {
  local run=$1
  read -r out_plan out_sent srv_got in_plan in_got probe_plan probe_got in_unsent < <(
    awk -v C="$WORK/$run-client.log" -v S="$WORK/$run-server.log" '
      BEGIN { n = 0 }
      $1 == "out" || $1 == "in" || $1 == "probe" || $1 == "end" { type[n++] = $1 }
      END {
        while ((getline l < C) > 0) { split(l, f, " ")
          if (f[2] == "sent" && type[f[3]] == "out") out_sent++
          if (f[2] == "recv" && !seen_c[f[3]]++) { if (type[f[3]] == "in") in_got++; if (type[f[3]] == "probe") probe_got++ } }
        while ((getline l < S) > 0) { split(l, f, " ")
          if (f[2] == "recv" && type[f[3]] == "out" && !seen_s[f[3]]++) srv_got++
          if (f[2] == "unsent" && type[f[3]] == "in") in_unsent++ }
        for (i = 0; i < n; i++) { if (type[i] == "out") out_plan++; if (type[i] == "in") in_plan++; if (type[i] == "probe") probe_plan++ }
        printf "%d %d %d %d %d %d %d %d\n", out_plan, out_sent, srv_got, in_plan, in_got, probe_plan, probe_got, in_unsent
      }' "$PLAN")
}

json_total () {  # json_total FILE KEY: a number of the report's "totals"
  tr -d '\n' < "$1" | sed -e 's/.*"totals"[[:space:]]*:[[:space:]]*{//' -e 's/}.*//' |
    tr ',' '\n' | sed -n "s/^[[:space:]]*\"$2\"[[:space:]]*:[[:space:]]*\\([-0-9.eE+]*\\).*/\\1/p"
}

# ---------------------------------------------------------------------------
# The two runs, side by side: r1 through the kernel's NAT, r2 plain routing
# captured on the NAT namespace's inside interface

TCP=0; grep -q '^flow [0-9]* tcp' "$PLAN" && TCP=1

setup r1 nat || { note "setting up the NAT namespaces failed"; exit 1; }
setup r2 routed || { note "setting up the routed namespaces failed"; exit 1; }
# --immediate-mode: without it packets still in the capture buffer when
# tcpdump is stopped are counted but never written
ip netns exec "$PFX-r2-nat" tcpdump -i nat-in -n -s 256 --immediate-mode -U -Z root \
  -w "$WORK/offered.pcap" 'udp or tcp' 2> "$WORK/tcpdump.err" &
TPID=$!
PIDS+=("$TPID")
for _ in $(seq 1 50); do
  grep -q 'listening on' "$WORK/tcpdump.err" 2> /dev/null && break
  sleep 0.1
done
grep -q 'listening on' "$WORK/tcpdump.err" || { note "tcpdump did not start: $(cat "$WORK/tcpdump.err")"; exit 1; }
if_before=$(conntrack_stat insert_failed); drop_before=$(conntrack_stat drop)
traffic || { note "the traffic program failed"; exit 1; }
insert_failed=$(( $(conntrack_stat insert_failed) - if_before ))
drops=$(( $(conntrack_stat drop) - drop_before ))
ip netns exec "$PFX-r1-nat" conntrack -L > "$WORK/r1-conntrack.txt" 2> /dev/null
sleep 0.3
kill -INT "$TPID"; wait "$TPID"
PIDS=()
cleanup

count r1
k_out_sent=$out_sent; k_srv_got=$srv_got; k_in_got=$in_got; k_probe_got=$probe_got
k_in_lost=$(( in_plan - in_got )); k_probe_dropped=$(( probe_plan - probe_got ))
k_out_lost=$(( out_sent - srv_got )); k_unsent=$in_unsent
# source address and port the server saw, per flow (first packet)
awk '$2 == "recv" && !seen[$4]++ { print $4, $5, $6 }' "$WORK/r1-server.log" \
  > "$WORK/kernel-ports.txt"

count r2
if [ "$out_sent" != "$out_plan" ] || [ "$srv_got" != "$out_plan" ] ||
   { [ "$TCP" = 0 ] && { [ "$in_got" != "$in_plan" ] || [ "$probe_got" != "$probe_plan" ]; }; }; then
  note "the routed run did not deliver every planned packet (out $srv_got/$out_plan, in $in_got/$in_plan, probes $probe_got/$probe_plan): the capture is not the offered traffic"
  exit 1
fi

# ---------------------------------------------------------------------------
# natsim on the offered traffic

NATKV=(nat.preset=linux "nat.addresses=$PUB" "nat.port_range=$RANGE"
       "nat.udp_timeout=${UDP_T}s" "nat.udp_stream_timeout=${UDP_STREAM_T}s"
       "nat.tcp_established_timeout=${TCP_EST_T}s")
SETS=()
for kv in "${NATKV[@]}"; do SETS+=(--set "$kv"); done
"$NATSIM" replay "$WORK/offered.pcap" --inside 192.0.2.0/24 "${SETS[@]}" --out "$WORK/natsim" \
  > "$WORK/natsim.txt" 2>&1 || { note "natsim replay failed:"; cat "$WORK/natsim.txt"; exit 1; }
R="$WORK/natsim/report.json"
read -r r_out r_in < <(sed -n 's/.*(\([0-9]*\) outbound, \([0-9]*\) inbound.*/\1 \2/p' "$WORK/natsim.txt")
if [ "$TCP" = 0 ] && { [ "${r_out:-}" != "$out_plan" ] || [ "${r_in:-}" != "$(( in_plan + probe_plan ))" ]; }; then
  note "the capture holds ${r_out:-?} outbound and ${r_in:-?} inbound packets, the plan $out_plan and $(( in_plan + probe_plan ))"
  exit 1
fi
n_fail=$(json_total "$R" allocation_failures); n_lost=$(json_total "$R" binding_losses)
n_out=$(json_total "$R" packets_out); n_in=$(json_total "$R" packets_in)
n_dropped=$(json_total "$R" packets_dropped); n_filtered=$(json_total "$R" filtered)
n_rebind=$(json_total "$R" rebindings)
n_other=$(( n_dropped - n_fail - n_lost ))

# ---------------------------------------------------------------------------
# Compare

FAILED=0
row () {  # row WHAT KERNEL NATSIM
  local verdict=ok
  if [ "$2" != "$3" ]; then verdict=DIFFERS; FAILED=1; fi
  printf '  %-44s %8s %8s  %s\n' "$1" "$2" "$3" "$verdict"
}
echo "oracle case $CASE: SNAT to $PUB:$RANGE, udp ${UDP_T}s, udp stream ${UDP_STREAM_T}s, tcp established ${TCP_EST_T}s"
echo "  expected from docs/reference.md section 3: $EXPECT"
printf '  %-44s %8s %8s\n' "figure" "kernel" "natsim"
if [ "$k_out_lost" != "$insert_failed" ] && [ "$TCP" = 0 ]; then
  note "kernel: $k_out_lost outbound packets did not reach the server but insert_failed rose by $insert_failed (drop $drops)"
  FAILED=1
fi
row "allocation failures (insert_failed)" "$insert_failed" "$n_fail"
row "binding losses (server sends not received)" "$k_in_lost" "$n_lost"
if [ "$TCP" = 0 ]; then
  row "outbound packets forwarded" "$k_srv_got" "$n_out"
  row "inbound packets delivered" "$(( k_in_got + k_probe_got ))" "$n_in"
  row "other inbound drops (filtered, unsolicited)" "$k_probe_dropped" "$n_other"
else
  # a TCP stack reacts to losses (retransmissions, resets), so the packet
  # counts of the two runs differ; only the application's sends compare
  printf '  %-44s %8s %8s\n' "packets out / in (not compared for TCP)" "-" "$n_out/$n_in"
fi
printf '  %-44s %8s %8s\n' "(info) conntrack drop / natsim filtered" "$drops" "$n_filtered"
printf '  %-44s %8s %8s\n' "(info) server sends with no address known" "$k_unsent" "-"
printf '  %-44s %8s %8s\n' "(info) natsim rebindings" "-" "$n_rebind"

if [ "$CHECK_PORTS" = 1 ]; then
  # kernel: the server saw flow F from public port P; natsim: the port the
  # engine gave F's first binding.  Which random port a flow gets is
  # random in both, so only kept (preserved) ports are compared.
  "$PORTS" "$WORK/offered.pcap" 192.0.2.0/24 "${NATKV[@]}" > "$WORK/natsim-ports.txt" ||
    { note "natsim-oracle-ports failed"; exit 1; }
  while read -r flow inport; do
    kport=$(awk -v f="$flow" '$1 == f { print $3 }' "$WORK/kernel-ports.txt")
    nport=$(awk -v p="$inport" -v a="$(awk -v f="$flow" '$1 == "flow" && $2 == f { print $4 }' "$PLAN")" \
              '$1 == a && $2 == p { print $4; exit }' "$WORK/natsim-ports.txt")
    k=changed; [ "$kport" = "$inport" ] && k=kept
    n=changed; [ "$nport" = "$inport" ] && n=kept
    row "flow $flow: inside port $inport kept?" "$k" "$n"
  done < <(awk '$1 == "flow" { print $2, $5 }' "$PLAN")
fi

if [ "$FAILED" = 0 ]; then
  echo "oracle[$CASE]: natsim agrees with the kernel"
  STATUS=0
else
  echo "oracle[$CASE]: natsim and the kernel DIFFER (files in $WORK)"
  STATUS=1
fi
exit "$STATUS"
