#!/usr/bin/env bash
# natsim oracle: `natsim classify` against the Linux kernel's NAT.
#
#   oracle-classify.sh PROBE-PROGRAM CASE        (as root; NATSIM = natsim)
#
# CASE plain:   nftables SNAT to 203.0.113.1 (what `masquerade` does);
#               every test, lifetimes included (UDP and TCP established
#               timeouts set to 5 s in the NAT namespace);
#               natsim classify --set nat.preset=linux with the same timeouts.
# CASE hairpin: the same plus the rules Linux needs to hairpin: a DNAT rule
#               for each mapped address the hairpinning test sends to (Linux
#               hairpins only what DNAT rules name) and an SNAT rule that
#               gives hairpinned packets the public address as their source
#               (RFC 4787 REQ-9b); lifetimes are not run again;
#               natsim classify --set nat.hairpinning=true.
# Three network namespaces (inside hosts 192.0.2.10, .11, .20; the NAT;
# the server 198.51.100.1 and .2) joined by veth pairs, documentation
# addresses only.  The probe program runs the RFC 5780 tests as
# src/analysis/nat-classify.c does; every answer must equal natsim's.
#
# Exit 0 pass, 1 fail, 77 skip (not root, tools or namespaces unavailable).
# Everything it creates goes on exit; it never changes the host's network.

set -u
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C

PROBE=${1:?usage: oracle-classify.sh PROBE-PROGRAM CASE}
CASE=${2:?usage: oracle-classify.sh PROBE-PROGRAM CASE}
NATSIM=${NATSIM:?NATSIM must name the natsim executable}

STATUS=1
skip () { echo "SKIP: $*"; STATUS=77; exit 77; }
note () { echo "oracle-classify[$CASE]: $*"; }

case "$CASE" in plain|hairpin) ;; *) echo "oracle-classify: unknown case '$CASE'"; exit 2 ;; esac
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
for tool in ip nft python3; do
  command -v "$tool" > /dev/null 2>&1 || skip "$tool is not installed (Debian: iproute2 nftables python3)"
done
[ -x "$PROBE" ] || { echo "oracle-classify: $PROBE is not executable"; exit 1; }
[ -x "$NATSIM" ] || { echo "oracle-classify: $NATSIM is not executable"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/natsim-oracle-classify-$CASE.XXXXXX") || exit 1
PFX="natsim-ocl-$$"
IN_NS="$PFX-in"; NAT_NS="$PFX-nat"; SRV_NS="$PFX-srv"
NAMESPACES=()
SRV_PID=""

finish () {
  trap - EXIT INT TERM
  if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2> /dev/null; wait "$SRV_PID" 2> /dev/null; fi
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2> /dev/null; done
  if { [ "$STATUS" = 0 ] || [ "$STATUS" = 77 ]; } && [ "${ORACLE_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "oracle-classify[$CASE]: files kept in $WORK"
  fi
  exit "$STATUS"
}
trap finish EXIT
trap 'STATUS=130; finish' INT
trap 'STATUS=143; finish' TERM

UDP_T=5; TCP_EST_T=5; UDP_STREAM_T=120

nsctl () {
  ip netns exec "$1" sh -c 'echo "$2" > "/proc/sys/$1"' nsctl "$2" "$3" 2> "$WORK/sysctl.err" ||
    { note "cannot set $2 in $1: $(cat "$WORK/sysctl.err")"; return 1; }
}

for ns in "$IN_NS" "$NAT_NS" "$SRV_NS"; do
  ip netns add "$ns" 2> "$WORK/netns.err" || skip "cannot create network namespaces: $(cat "$WORK/netns.err")"
  NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up || exit 1
done
ip -n "$NAT_NS" link add nat-in type veth peer name eth0 netns "$IN_NS" 2> "$WORK/veth.err" &&
ip -n "$NAT_NS" link add nat-out type veth peer name eth0 netns "$SRV_NS" 2>> "$WORK/veth.err" ||
  skip "cannot create veth pairs: $(cat "$WORK/veth.err")"
{
  for a in 192.0.2.10 192.0.2.11 192.0.2.20; do ip -n "$IN_NS" addr add "$a/24" dev eth0 || exit 1; done
  ip -n "$IN_NS" link set eth0 up && ip -n "$IN_NS" route add default via 192.0.2.1 &&
  ip -n "$NAT_NS" addr add 192.0.2.1/24 dev nat-in &&
  ip -n "$NAT_NS" addr add 203.0.113.1/24 dev nat-out &&
  ip -n "$NAT_NS" link set nat-in up && ip -n "$NAT_NS" link set nat-out up &&
  ip -n "$NAT_NS" route add 198.51.100.0/24 via 203.0.113.254 &&
  ip -n "$SRV_NS" addr add 203.0.113.254/24 dev eth0 &&
  ip -n "$SRV_NS" addr add 198.51.100.1/32 dev eth0 && ip -n "$SRV_NS" addr add 198.51.100.2/32 dev eth0 &&
  ip -n "$SRV_NS" link set eth0 up && ip -n "$SRV_NS" route add 192.0.2.0/24 via 203.0.113.1 &&
  nsctl "$NAT_NS" net/ipv4/ip_forward 1
} || { note "setting up the namespaces failed"; exit 1; }

HAIRPIN_RULES=""
if [ "$CASE" = hairpin ]; then
  # Linux hairpins only what a DNAT rule names: the two mapped addresses
  # the hairpinning test sends to (Linux keeps the ports, so they are the
  # inside ports), and an SNAT rule gives hairpinned packets the public
  # address as their source (RFC 4787 REQ-9b) instead of the inside one.
  HAIRPIN_RULES='
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "nat-in" ip daddr 203.0.113.1 udp dport 40200 dnat to 192.0.2.10:40200
    iifname "nat-in" ip daddr 203.0.113.1 udp dport 40202 dnat to 192.0.2.11:40202
  }'
fi
ip netns exec "$NAT_NS" nft -f - > "$WORK/nft.err" 2>&1 << EOF || skip "nftables NAT unavailable: $(cat "$WORK/nft.err")"
table ip natsim_oracle {$HAIRPIN_RULES
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "nat-out" meta l4proto { tcp, udp } snat ip to 203.0.113.1
    oifname "nat-in" ip saddr 192.0.2.0/24 ct status dnat snat ip to 203.0.113.1
  }
}
EOF
nsctl "$NAT_NS" net/netfilter/nf_conntrack_udp_timeout "$UDP_T" &&
nsctl "$NAT_NS" net/netfilter/nf_conntrack_udp_timeout_stream "$UDP_STREAM_T" &&
nsctl "$NAT_NS" net/netfilter/nf_conntrack_tcp_timeout_established "$TCP_EST_T" || exit 1

ip netns exec "$SRV_NS" "$PROBE" server 400 > "$WORK/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 1 50); do grep -q ready "$WORK/server.log" 2> /dev/null && break; sleep 0.1; done
grep -q ready "$WORK/server.log" || { note "the probe server did not start: $(cat "$WORK/server.log")"; exit 1; }

MODE=""; [ "$CASE" = hairpin ] && MODE=quick
note "running the RFC 5780 tests through the kernel (the lifetimes take about a minute)"
ip netns exec "$IN_NS" timeout 300 "$PROBE" client $MODE > "$WORK/kernel.txt" 2> "$WORK/client.err" ||
  { note "the probe client failed: $(cat "$WORK/client.err")"; cat "$WORK/kernel.txt"; exit 1; }

SETS=(--set nat.preset=linux --set nat.addresses=203.0.113.1 --set "nat.udp_timeout=${UDP_T}s"
      --set "nat.udp_stream_timeout=${UDP_STREAM_T}s" --set "nat.tcp_established_timeout=${TCP_EST_T}s")
[ "$CASE" = hairpin ] && SETS+=(--set nat.hairpinning=true)
"$NATSIM" classify "${SETS[@]}" --format json --out "$WORK/natsim" -q > "$WORK/natsim.err" 2>&1 ||
  { note "natsim classify failed: $(cat "$WORK/natsim.err")"; exit 1; }

# natsim's answers in the probe's words
python3 - "$WORK/natsim/classification.json" > "$WORK/natsim.txt" << 'EOF' || { note "cannot read classification.json"; exit 1; }
import json, sys
c = json.load(open(sys.argv[1]))
yn = lambda b: "yes" if b else "no"
print("mapping", c["mapping"])
print("filtering", c["filtering"])
print("hairpinning", yn(c["hairpinning"]))
steps = [t for t in c["tests"] if t["id"] == "hairpinning"][0]["transcript"]
mapped2 = steps[3]["message"].split()[-1] if len(steps) > 3 else None
last = steps[-1]
src = "-"
if last["outcome"] == "delivered":
    src = "mapped" if last["seen_from"] == mapped2 else "other"
print("hairpin_source", src)
print("port_preservation", yn(c["port_preservation"]))
print("parity", yn(c["parity"]))
life = c["binding_lifetime_s"]
print("lifetime_udp", life["udp"] if life["udp"] is not None else -1)
print("refresh_udp", c["refresh"]["udp"])
print("lifetime_tcp", life["tcp"] if life["tcp"] is not None else -1)
EOF

FAILED=0
echo "oracle-classify case $CASE: SNAT to 203.0.113.1, udp ${UDP_T}s, tcp established ${TCP_EST_T}s"
printf '  %-20s %-24s %-24s\n' "test" "kernel" "natsim"
while read -r key kval; do
  nval=$(awk -v k="$key" '$1 == k { print $2 }' "$WORK/natsim.txt")
  verdict=ok
  if [ "$kval" != "$nval" ]; then verdict=DIFFERS; FAILED=1; fi
  printf '  %-20s %-24s %-24s %s\n' "$key" "$kval" "$nval" "$verdict"
done < "$WORK/kernel.txt"
[ -s "$WORK/kernel.txt" ] || { note "the probe printed nothing"; FAILED=1; }

if [ "$FAILED" = 0 ]; then
  echo "oracle-classify[$CASE]: natsim classify agrees with the kernel"
  STATUS=0
else
  echo "oracle-classify[$CASE]: natsim classify and the kernel DIFFER (files in $WORK)"
  STATUS=1
fi
exit "$STATUS"
