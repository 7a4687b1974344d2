#!/usr/bin/env python3
"""Writes natsim's own hostile captures (natsim-*.pcap, natsim-*.pcapng).

Run from this directory:  python3 make-bad-traces.py
Standard library only; the output is deterministic, so re-running it must
leave `git status` clean.  Each file is described in README.md, and
tests/test-trace.c states what the reader must do with it.
"""

import struct

SNAPLEN = 65535
DLT_EN10MB = 1
DLT_NFLOG = 239
DLT_IEEE802_11 = 105


def pcap_header(linktype=DLT_EN10MB, snaplen=SNAPLEN, magic=0xA1B2C3D4):
    return struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def record(data, caplen=None, origlen=None, sec=1700000000, usec=0):
    caplen = len(data) if caplen is None else caplen
    origlen = len(data) if origlen is None else origlen
    return struct.pack("<IIII", sec, usec, caplen, origlen) + data


def capture(frames, **kw):
    out = pcap_header(**kw)
    for i, f in enumerate(frames):
        out += record(f, usec=i * 1000)
    return out


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, ethertype=0x0800):
    return (b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
            + struct.pack("!H", ethertype) + payload)


def ipv4(payload, proto=17, ihl=5, total=None, version=4, frag=0,
         src=b"\x0a\x00\x00\x01", dst=b"\xcb\x00\x71\x0a"):
    total = 4 * ihl + len(payload) if total is None else total
    opts = b"\x01" * max(0, 4 * ihl - 20)
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 15), 0,
                      total & 0xFFFF, 1, frag, 64, proto, 0, src, dst) + opts
    return hdr + payload


def udp(payload, sport=5060, dport=5060, length=None):
    length = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, length, 0) + payload


def tcp(payload, sport=40000, dport=443, doff=5, flags=0x02):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, doff << 4, flags,
                       65535, 0, 0) + payload


def ipv6(payload, nxt, plen=None):
    plen = len(payload) if plen is None else plen
    return (struct.pack("!IHBB", 6 << 28, plen, nxt, 64)
            + bytes.fromhex("fd000000000000000000000000000001")
            + bytes.fromhex("20010db8000000000000000000000002") + payload)


def pcapng_block(btype, body, total=None):
    total = 12 + len(body) if total is None else total
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def pcapng_shb(total=None):
    body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    return pcapng_block(0x0A0D0D0A, body, total)


def pcapng_idb():
    return pcapng_block(1, struct.pack("<HHI", DLT_EN10MB, 0, SNAPLEN))


def pcapng_epb(frame, total=None):
    pad = b"\0" * (-len(frame) % 4)
    body = struct.pack("<IIIII", 0, 0, 1000, len(frame), len(frame)) + frame + pad
    return pcapng_block(6, body, total)


GOOD_UDP = eth(ipv4(udp(b"ping")))

files = {}

# Container-level damage: each must fail at open with one clear error.
files["natsim-empty.pcap"] = b""
files["natsim-garbage.pcap"] = b"This is a text file, not a packet capture.\n" * 3
files["natsim-wrong-magic.pcap"] = (
    pcap_header(magic=0xDEADBEEF) + record(GOOD_UDP))
files["natsim-truncated-global-header.pcap"] = pcap_header()[:13]
files["natsim-unsupported-linktype.pcap"] = capture(
    [b"\x08\x00" + b"\0" * 30], linktype=DLT_IEEE802_11)
files["natsim-pcapng-bad-shb-length.pcapng"] = pcapng_shb(total=13)

# Record-level damage: the good packets before it are returned, then the
# reader reports an error naming the file and the packet number.
files["natsim-truncated-record.pcap"] = (
    capture([GOOD_UDP]) + struct.pack("<IIII", 1700000001, 0, 100, 100)
    + GOOD_UDP[:40])
files["natsim-truncated-record-header.pcap"] = (
    capture([GOOD_UDP]) + struct.pack("<IIII", 1700000001, 0, 100, 100)[:9])
files["natsim-caplen-huge.pcap"] = (
    capture([GOOD_UDP]) + struct.pack("<IIII", 1700000001, 0, 0xFFFFFFFF,
                                      0xFFFFFFFF) + b"\0" * 16)
files["natsim-pcapng-bad-block-length.pcapng"] = (
    pcapng_shb() + pcapng_idb() + pcapng_epb(GOOD_UDP)
    + pcapng_epb(GOOD_UDP, total=13))

# Packet-level damage: counted and skipped by reason.
files["natsim-caplen-over-snaplen.pcap"] = capture([GOOD_UDP, GOOD_UDP],
                                                   snaplen=40)
files["natsim-caplen-over-len.pcap"] = pcap_header() + record(
    GOOD_UDP, origlen=20) + record(GOOD_UDP, usec=1)
files["natsim-non-ip-ethertypes.pcap"] = capture([
    eth(b"\x00\x01\x08\x00\x06\x04\x00\x01" + b"\0" * 20, 0x0806),  # ARP
    eth(b"\x02\x07\x04" + b"\0" * 30, 0x88CC),                      # LLDP
    eth(b"\x42\x42\x03" + b"\0" * 35, 38),                          # 802.3 + LLC (STP)
    eth(b"\x00\x01\x01\x40" + ipv4(udp(b"x")), 0x8847),             # MPLS (IPv4 under it: decoded)
    eth(struct.pack("!HH", 5, 0x0806) + b"\0" * 28, 0x8100),        # VLAN + ARP
    eth(b"\x11\x09\x00\x00\x00\x00", 0x8863),                       # PPPoE discovery
])
files["natsim-link-truncated.pcap"] = capture([
    GOOD_UDP[:10],                                  # inside the MAC addresses
    eth(b"\x00\x05", 0x8100),                       # 802.1Q tag cut short
    eth(struct.pack("!HH", 5, 0x8100) * 11 + struct.pack("!HH", 5, 0x0800)
        + ipv4(udp(b"deep")), 0x8100),              # 12 VLAN tags
])
files["natsim-ipv4-bad-ihl.pcap"] = capture([
    eth(ipv4(udp(b"ihl4"), ihl=4)),
    eth(ipv4(udp(b"ihl0"), ihl=0)),
])
files["natsim-ipv4-bad-length.pcap"] = capture([
    eth(ipv4(udp(b"short"), total=12)),                 # shorter than the header
    eth(ipv4(udp(b"options"), ihl=6, total=22)),        # shorter than IHL
    eth(ipv4(udp(b"long"), total=1400)),                # longer than the frame
    eth(ipv4(udp(b"v6"), version=6)),                   # ethertype IPv4, version 6
    eth(ipv4(b"", proto=17)[:12]),                      # header cut short
])
files["natsim-tcp-bad-offset.pcap"] = capture([
    eth(ipv4(tcp(b"", doff=3), proto=6)),               # data offset < 5
    eth(ipv4(tcp(b"", doff=15), proto=6)),              # offset beyond the datagram
    eth(ipv4(tcp(b"")[:10], proto=6)),                  # 10 bytes of TCP
])
files["natsim-udp-bad-length.pcap"] = capture([
    eth(ipv4(udp(b"1234", length=1000))),               # beyond the captured datagram
    eth(ipv4(udp(b"1234", length=4))),                  # shorter than its header
    eth(ipv4(udp(b"")[:4])),                            # 4 bytes of UDP
    eth(ipv4(b"\x08\x00", proto=1)),                    # 2 bytes of ICMP
    eth(ipv4(b"\x00" * 8, proto=47)),                   # GRE of protocol type 0: not opened
])
# IPv6 extension header chains that run past the packet, or never end.
dstopts = b""
for _ in range(20):
    dstopts += struct.pack("!BB", 60, 0) + b"\x01\x04\0\0\0\0"
files["natsim-ipv6-bad-ext.pcap"] = capture([
    eth(ipv6(struct.pack("!BB", 17, 255) + b"\0" * 14, nxt=0), 0x86DD),    # HBH of 2 KiB
    eth(ipv6(struct.pack("!BBBB", 17, 2, 0, 0) + b"\0" * 4, nxt=43), 0x86DD),  # routing cut
    eth(ipv6(b"\x11\x00\x00", nxt=44), 0x86DD),                          # fragment hdr cut
    eth(ipv6(dstopts + udp(b"x"), nxt=60), 0x86DD),                      # 20 headers
    eth(ipv6(udp(b"x"), nxt=17, plen=3000), 0x86DD),                     # payload length > frame
    eth(ipv6(b"", nxt=17)[:30], 0x86DD),                                 # header cut short
])
# NFLOG with TLVs that are too short (a zero length would loop forever),
# run past the record, or never carry a payload.
nflog_hdr = b"\x02\x00\x00\x14"
files["natsim-nflog-bad-tlv.pcap"] = capture([
    nflog_hdr + struct.pack("<HH", 0, 1) + b"\0" * 8,
    nflog_hdr + struct.pack("<HH", 2, 1) + b"\0" * 8,
    nflog_hdr + struct.pack("<HH", 200, 9) + ipv4(udp(b"x")),
    nflog_hdr + struct.pack("<HH", 8, 1) + b"\0" * 4,
    nflog_hdr[:3],
], linktype=DLT_NFLOG)

for name, data in sorted(files.items()):
    with open(name, "wb") as f:
        f.write(data)
    print("%-42s %5d bytes" % (name, len(data)))
