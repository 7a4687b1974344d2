#!/usr/bin/python3
"""Writes the fragmented-SIP sample captures of traces/ with scapy.

A phone at 10.1.1.20 (and fd00::20 over IPv6) registers to 203.0.113.5
(2001:db8::5) over UDP 5060 every 60 s with REGISTERs of about 3.5 kB
(a long header before Expires, as certificates or large Contact lists make
them), so each REGISTER travels in three IPv4 fragments and its Expires
header is in the last one; each is answered by a small 200 OK 40 ms later.

- scapy-sip-fragments.pcap: 4 IPv4 REGISTERs in order, then 2 IPv6 ones
  (fragment header, 1280-byte pieces).
- scapy-sip-fragments-reordered.pcap: the 4 IPv4 REGISTERs with the
  pieces of the 2nd and 4th in reverse order (last piece first).
- scapy-sip-fragments-overlap.pcap: REGISTER 1 whole; REGISTER 2 with an
  extra piece overlapping its second one (dropped, as Linux drops it);
  REGISTER 3 with its second piece sent twice (an exact duplicate,
  ignored); REGISTER 4 missing its last piece (never completes).

Deterministic (fixed times, ids).  Run from the repository root:

    /usr/bin/python3 traces/gen-fragments.py
"""
import os

from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrFragment, UDP, Raw, fragment, fragment6,
                       wrpcap)

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1704067200
PHONE, SERVER = "10.1.1.20", "203.0.113.5"
PHONE6, SERVER6 = "fd00::20", "2001:db8::5"
ETH_OUT = dict(src="02:00:00:00:01:14", dst="02:00:00:00:01:01")
ETH_IN = dict(src="02:00:00:00:01:01", dst="02:00:00:00:01:14")


def register(cseq, host):
    pad = "".join("%04d" % i for i in range(800))  # 3200 bytes
    return ("REGISTER sip:example.net SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKf%d\r\n"
            "From: <sip:1002@example.net>;tag=f1\r\n"
            "To: <sip:1002@example.net>\r\n"
            "Call-ID: reg-1002@%s\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1002@%s:5060>\r\n"
            "X-Padding: %s\r\n"
            "Expires: 1800\r\n"
            "Content-Length: 0\r\n\r\n" % (host, cseq, host, cseq, host, pad)).encode()


def ok(cseq, host):
    return ("SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKf%d\r\n"
            "Call-ID: reg-1002@%s\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1002@%s:5060>;expires=1800\r\n"
            "Content-Length: 0\r\n\r\n" % (host, cseq, host, cseq, host)).encode()


def v4_register(i):
    pkt = IP(src=PHONE, dst=SERVER, id=300 + i) / UDP(sport=5060, dport=5060) / Raw(register(i, PHONE))
    return [Ether(**ETH_OUT) / f for f in fragment(pkt, fragsize=1480)]


def v4_ok(i):
    return Ether(**ETH_IN) / IP(src=SERVER, dst=PHONE, id=400 + i) / UDP(sport=5060, dport=5060) / Raw(ok(i, PHONE))


def v6_register(i):
    pkt = (IPv6(src=PHONE6, dst=SERVER6) / IPv6ExtHdrFragment(id=0x600 + i) /
           UDP(sport=5060, dport=5060) / Raw(register(i, "[fd00::20]")))
    return [Ether(**ETH_OUT) / f for f in fragment6(pkt, 1280)]


def v6_ok(i):
    return Ether(**ETH_IN) / IPv6(src=SERVER6, dst=PHONE6) / UDP(sport=5060, dport=5060) / Raw(ok(i, "[fd00::20]"))


def timed(t, pkts, step=0.0002):
    return [(t + k * step, p) for k, p in enumerate(pkts)]


def write(name, frames):
    out = []
    for t, p in frames:
        p.time = t
        out.append(p)
    wrpcap(os.path.join(HERE, name), out)


def in_order():
    frames = []
    for i in range(1, 5):
        t = T0 + 60 * (i - 1)
        frames += timed(t, v4_register(i)) + [(t + 0.04, v4_ok(i))]
    for i in range(1, 3):
        t = T0 + 300 + 60 * (i - 1)
        frames += timed(t, v6_register(i)) + [(t + 0.04, v6_ok(i))]
    return frames


def reordered():
    frames = []
    for i in range(1, 5):
        t = T0 + 60 * (i - 1)
        pieces = v4_register(i)
        if i in (2, 4):
            pieces = pieces[::-1]
        frames += timed(t, pieces) + [(t + 0.04, v4_ok(i))]
    return frames


def overlap():
    frames = []
    for i in range(1, 5):
        t = T0 + 60 * (i - 1)
        pieces = v4_register(i)
        if i == 2:
            # 400 bytes at offset 1400: inside the second piece (1480-2959)
            # and the first (0-1479).
            bad = pieces[1].copy()
            bad[IP].frag = 1400 // 8
            bad[IP].flags = "MF"
            bad[IP].remove_payload()
            bad[IP].add_payload(Raw(b"Z" * 400))
            bad[IP].proto = 17
            del bad[IP].len
            del bad[IP].chksum
            pieces = [pieces[0], pieces[1], bad, pieces[2]]
        elif i == 3:
            pieces = [pieces[0], pieces[1], pieces[1].copy(), pieces[2]]
        elif i == 4:
            pieces = pieces[:-1]
        frames += timed(t, pieces) + [(t + 0.04, v4_ok(i))]
    return frames


if __name__ == "__main__":
    write("scapy-sip-fragments.pcap", in_order())
    write("scapy-sip-fragments-reordered.pcap", reordered())
    write("scapy-sip-fragments-overlap.pcap", overlap())
