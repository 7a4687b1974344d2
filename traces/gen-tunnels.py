#!/usr/bin/python3
"""Writes the tunnel sample captures of traces/ with scapy.

The same SIP registration traffic (a phone at 10.1.1.10 registering to
203.0.113.5 over UDP 5060 every 120 s with Expires 3600, each REGISTER
answered by a 200 OK 30 ms later, plus one DNS query and answer), as seen
through the encapsulations operators capture from: plain GRE, GRE with key
and sequence number, ERSPAN types I, II and III, VXLAN, Geneve and an MPLS
label stack.  Deterministic: fixed timestamps, addresses and IP ids, so a
rerun writes the same bytes.  Run from the repository root:

    /usr/bin/python3 traces/gen-tunnels.py

natsim's tests do not need scapy: the captures are committed.
"""
import os

from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap
from scapy.layers.l2 import GRE
from scapy.contrib.erspan import ERSPAN_I, ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.layers.vxlan import VXLAN
from scapy.contrib.geneve import GENEVE
from scapy.contrib.mpls import MPLS

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1704067200  # 2024-01-01T00:00:00Z

PHONE, SERVER, DNS = "10.1.1.10", "203.0.113.5", "10.1.1.1"
PHONE_MAC, GW_MAC = "02:00:00:00:01:0a", "02:00:00:00:01:01"


def register(cseq):
    return ("REGISTER sip:example.net SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 10.1.1.10:5060;branch=z9hG4bK%d\r\n"
            "From: <sip:1001@example.net>;tag=a1\r\n"
            "To: <sip:1001@example.net>\r\n"
            "Call-ID: reg-1001@10.1.1.10\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1001@10.1.1.10:5060>\r\n"
            "Expires: 3600\r\n"
            "Content-Length: 0\r\n\r\n" % (cseq, cseq)).encode()


def ok(cseq):
    return ("SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/UDP 10.1.1.10:5060;branch=z9hG4bK%d\r\n"
            "From: <sip:1001@example.net>;tag=a1\r\n"
            "To: <sip:1001@example.net>;tag=b2\r\n"
            "Call-ID: reg-1001@10.1.1.10\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1001@10.1.1.10:5060>;expires=3600\r\n"
            "Content-Length: 0\r\n\r\n" % (cseq, cseq)).encode()


def inner_packets():
    """(time, Ethernet frame) of the traffic inside the tunnel."""
    out = []
    ipid = 100
    for i in range(3):
        t = T0 + 120 * i
        out.append((t, Ether(src=PHONE_MAC, dst=GW_MAC) /
                    IP(src=PHONE, dst=SERVER, id=ipid) / UDP(sport=5060, dport=5060) /
                    Raw(register(i + 1))))
        out.append((t + 0.03, Ether(src=GW_MAC, dst=PHONE_MAC) /
                    IP(src=SERVER, dst=PHONE, id=ipid + 1) / UDP(sport=5060, dport=5060) /
                    Raw(ok(i + 1))))
        ipid += 2
    dns_q = bytes.fromhex("1234010000010000000000000373697007" + "6578616d706c65036e65740000010001")
    out.append((T0 + 1, Ether(src=PHONE_MAC, dst=GW_MAC) /
                IP(src=PHONE, dst=DNS, id=200) / UDP(sport=40000, dport=53) / Raw(dns_q)))
    out.append((T0 + 1.002, Ether(src=GW_MAC, dst=PHONE_MAC) /
                IP(src=DNS, dst=PHONE, id=201) / UDP(sport=53, dport=40000) / Raw(dns_q)))
    out.sort(key=lambda p: p[0])
    return out


# The mirror session: a switch at 192.0.2.1 sends to a collector at
# 192.0.2.100 (outer addresses are outside the default inside set, so a
# study with --outer sees the tunnel as outside-to-outside traffic).
OUTER = Ether(src="02:00:00:00:02:01", dst="02:00:00:00:02:64")
OUT_SRC, OUT_DST = "192.0.2.1", "192.0.2.100"


def outer_ip(n):
    return IP(src=OUT_SRC, dst=OUT_DST, id=1000 + n, ttl=64)


def write(name, frames):
    pkts = []
    for t, p in frames:
        p.time = t
        pkts.append(p)
    wrpcap(os.path.join(HERE, name), pkts)


def gre_plain():
    return [(t, OUTER / outer_ip(n) / GRE(proto=0x0800) / f[IP])
            for n, (t, f) in enumerate(inner_packets())]


def gre_key_seq():
    # GRE with a key and sequence numbers (RFC 2890) and a checksum.
    return [(t, OUTER / outer_ip(n) /
             GRE(chksum_present=1, key_present=1, seqnum_present=1, key=42, seqence_number=n,
                 proto=0x0800) / f[IP])
            for n, (t, f) in enumerate(inner_packets())]


def erspan1():
    return [(t, OUTER / outer_ip(n) / GRE(proto=0x88be) / ERSPAN_I() / f)
            for n, (t, f) in enumerate(inner_packets())]


def erspan2():
    return [(t, OUTER / outer_ip(n) / GRE(seqnum_present=1, seqence_number=n, proto=0x88be) /
             ERSPAN_II(ver=1, vlan=0, session_id=7, index=n) / f)
            for n, (t, f) in enumerate(inner_packets())]


def erspan3():
    # Type III with the optional platform-specific subheader (O bit) on
    # every other packet.
    out = []
    for n, (t, f) in enumerate(inner_packets()):
        if n % 2:
            hdr = (ERSPAN_III(ver=2, session_id=9, timestamp=n, o=1) /
                   ERSPAN_PlatformSpecific(platf_id=3, info1=0, info2=n))
        else:
            hdr = ERSPAN_III(ver=2, session_id=9, timestamp=n, o=0)
        out.append((t, OUTER / outer_ip(n) / GRE(seqnum_present=1, seqence_number=n,
                                                 proto=0x22eb) / hdr / f))
    return out


def vxlan():
    return [(t, OUTER / outer_ip(n) / UDP(sport=50000 + n, dport=4789) / VXLAN(vni=5001) / f)
            for n, (t, f) in enumerate(inner_packets())]


def geneve():
    return [(t, OUTER / outer_ip(n) / UDP(sport=51000 + n, dport=6081) /
             GENEVE(vni=77, proto=0x6558) / f)
            for n, (t, f) in enumerate(inner_packets())]


def mpls():
    # Two labels (transport, service) on 0x8847; the DNS exchange on
    # 0x8848 (multicast MPLS) with one label.
    out = []
    for n, (t, f) in enumerate(inner_packets()):
        if f[IP].dport == 53 or f[IP].sport == 53:
            out.append((t, Ether(src="02:00:00:00:03:01", dst="02:00:00:00:03:02", type=0x8848) /
                        MPLS(label=300, s=1, ttl=63) / f[IP]))
        else:
            out.append((t, Ether(src="02:00:00:00:03:01", dst="02:00:00:00:03:02", type=0x8847) /
                        MPLS(label=16001, s=0, ttl=63) / MPLS(label=24, s=1, ttl=63) / f[IP]))
    return out


if __name__ == "__main__":
    write("scapy-gre-sip.pcap", gre_plain())
    write("scapy-gre-key-seq-sip.pcap", gre_key_seq())
    write("scapy-erspan1-sip.pcap", erspan1())
    write("scapy-erspan2-sip.pcap", erspan2())
    write("scapy-erspan3-sip.pcap", erspan3())
    write("scapy-vxlan-sip.pcap", vxlan())
    write("scapy-geneve-sip.pcap", geneve())
    write("scapy-mpls-sip.pcap", mpls())
