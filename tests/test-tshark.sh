#!/usr/bin/env bash
# natsim synth output checked by independent tools: tshark (Wireshark's
# dissectors: every IPv4/UDP/TCP checksum good, the SIP REGISTERs decode as
# SIP, frame count as synth reported; CRLF and STUN keepalives, RTP with
# valid headers, RTCP, no malformed packet) and tcpcapinfo (tcpreplay's
# capture checker: every record OK).  Skips (exit 77) where either tool is
# missing.
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

# What the models send, as tshark decodes it (RTP, RTCP and STUN by their
# heuristic dissectors: nothing in the capture announces them; ASTERIX,
# registered on UDP 8600 where the app sends video, is turned off).
heur=(--enable-heuristic rtp_udp --enable-heuristic rtcp_udp --enable-heuristic stun_udp
      --disable-protocol asterix)
count() { tshark -r "$1" "${heur[@]}" -Y "$2" 2>/dev/null | wc -l; }

# sip-udp-site: STUN and CRLF keepalives on the SIP flow, never REGISTERs.
crlf=$(count "$work/s.pcap" 'data.data == 0d:0a:0d:0a')
stun_req=$(count "$work/s.pcap" 'stun.type == 0x0001')
stun_resp=$(count "$work/s.pcap" 'stun.type == 0x0101 && stun.att.ipv4-xord')
[ "$crlf" -gt 0 ] || { echo "FAIL: no CRLF keepalive"; exit 1; }
[ "$stun_req" -gt 0 ] && [ "$stun_resp" -eq "$stun_req" ] \
  || { echo "FAIL: STUN: $stun_req binding requests, $stun_resp responses with a mapped address"; exit 1; }
"$NATSIM" analyze "$work/s.pcap" --out "$work/a" --format json -q
counted=$(sed -n 's/^ *"register_requests": \([0-9]*\),/\1/p' "$work/a/analysis.json")
[ "$counted" -eq "$registers" ] \
  || { echo "FAIL: natsim analyze counts $counted REGISTERs, tshark $registers"; exit 1; }

# default.ini: phones, rooms, the app, a gateway: RTP with a valid header
# (version 2, the codecs' payload types, no sequence gap), RTCP sender
# reports, STUN checks; no malformed packet anywhere.
"$NATSIM" synth scenarios/default.ini -o "$work/d.pcap" --set simulation.duration=5m \
  --set simulation.warmup=0s >/dev/null
rtp=$(count "$work/d.pcap" 'rtp.version == 2')
odd_pt=$(count "$work/d.pcap" 'rtp && !(rtp.p_type == 0 || rtp.p_type == 96 || rtp.p_type == 111)')
rtcp=$(count "$work/d.pcap" 'rtcp.pt == 200')
stun_d=$(count "$work/d.pcap" 'stun')
malformed=$(count "$work/d.pcap" '_ws.malformed')
malformed_s=$(count "$work/s.pcap" '_ws.malformed')
lost=$(tshark -r "$work/d.pcap" "${heur[@]}" -q -z rtp,streams 2>/dev/null \
        | awk '$0 ~ /%\)/ { for (i = 1; i <= NF; i++) if ($i ~ /^\(/ && $(i - 1) != 0) n++ } END { print n + 0 }')
[ "$rtp" -gt 0 ] && [ "$odd_pt" -eq 0 ] || { echo "FAIL: $rtp RTP packets, $odd_pt with another payload type"; exit 1; }
[ "$lost" -eq 0 ] || { echo "FAIL: $lost RTP streams with lost packets"; exit 1; }
[ "$rtcp" -gt 0 ] || { echo "FAIL: no RTCP sender report"; exit 1; }
[ "$stun_d" -gt 0 ] || { echo "FAIL: no STUN in the default scenario"; exit 1; }
[ "$malformed" -eq 0 ] && [ "$malformed_s" -eq 0 ] \
  || { echo "FAIL: $malformed + $malformed_s malformed packets"; exit 1; }

echo "ok: $written frames, $good UDP checksums verified, $registers REGISTERs (natsim analyze agrees),"
echo "    $crlf CRLF and $stun_req STUN keepalives, $rtp RTP, $rtcp RTCP SR, tcpcapinfo all OK"
