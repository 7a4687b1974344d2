#!/usr/bin/env bash
# natsim synth output checked by independent tools: tshark (Wireshark's
# dissectors: every IPv4/UDP/TCP checksum good, the SIP REGISTERs decode as
# SIP, frame count as synth reported) and tcpcapinfo (tcpreplay's capture
# checker: every record OK).  Skips (exit 77) where either tool is missing.
set -euo pipefail

command -v tshark >/dev/null 2>&1 || { echo "tshark not installed: skipped"; exit 77; }
command -v tcpcapinfo >/dev/null 2>&1 || { echo "tcpcapinfo (tcpreplay) not installed: skipped"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$NATSIM_SOURCE_ROOT"

out=$("$NATSIM" synth scenarios/sip-udp-site.ini -o "$work/s.pcap" \
        --set simulation.duration=5m --set simulation.warmup=0s)
echo "$out"
written=$(sed -n 's/^Wrote \([0-9]*\) packets.*/\1/p' <<<"$out")
[ -n "$written" ] && [ "$written" -gt 0 ] || { echo "FAIL: no packet count from synth"; exit 1; }

frames=$(tshark -r "$work/s.pcap" 2>/dev/null | wc -l)
[ "$frames" -eq "$written" ] || { echo "FAIL: tshark reads $frames frames, synth wrote $written"; exit 1; }

bad=$(tshark -r "$work/s.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
        -o tcp.check_checksum:TRUE \
        -Y 'ip.checksum.status==2 || udp.checksum.status==2 || tcp.checksum.status==2' \
        2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || { echo "FAIL: $bad frames with a bad checksum"; exit 1; }

good=$(tshark -r "$work/s.pcap" -o udp.check_checksum:TRUE -Y 'udp.checksum.status==1' \
         2>/dev/null | wc -l)
[ "$good" -gt 0 ] || { echo "FAIL: no UDP checksum verified"; exit 1; }

registers=$(tshark -r "$work/s.pcap" -Y 'sip.Method == "REGISTER"' 2>/dev/null | wc -l)
[ "$registers" -gt 0 ] || { echo "FAIL: no SIP REGISTER decoded"; exit 1; }

records=$(tcpcapinfo "$work/s.pcap" 2>&1 | awk '$1 ~ /^[0-9]+$/ { n++; if ($NF != "OK") bad++ } END { print n + 0, bad + 0 }')
read -r n notok <<<"$records"
[ "$n" -eq "$written" ] && [ "$notok" -eq 0 ] \
  || { echo "FAIL: tcpcapinfo: $n records, $notok not OK"; exit 1; }

echo "ok: $written frames, $good UDP checksums verified, $registers REGISTERs, tcpcapinfo all OK"
