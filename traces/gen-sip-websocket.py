#!/usr/bin/python3
"""Writes traces/scapy-sip-websocket.pcap with scapy: SIP over WebSocket.

A browser-style client at 10.1.1.40:50200 upgrades an HTTP connection to
203.0.113.5:8080 to WebSocket with the "sip" subprotocol (RFC 7118), then
registers over it every 60 s (3 REGISTERs with Expires 300, in masked text
frames as RFC 6455 requires of clients; the second REGISTER's frame split
over two TCP segments), each answered by a 200 OK in an unmasked frame; a
WebSocket ping and pong between the first two.  Deterministic.  Run from
the repository root:

    /usr/bin/python3 traces/gen-sip-websocket.py
"""
import os
import struct

from scapy.all import Ether, IP, TCP, Raw, wrpcap

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1704067200
CLIENT, SERVER, CPORT, SPORT = "10.1.1.40", "203.0.113.5", 50200, 8080
EO = dict(src="02:00:00:00:01:28", dst="02:00:00:00:01:01")
EI = dict(src="02:00:00:00:01:01", dst="02:00:00:00:01:28")

UPGRADE = (b"GET / HTTP/1.1\r\nHost: 203.0.113.5:8080\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Origin: http://example.net\r\nSec-WebSocket-Protocol: sip\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
SWITCH = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
          b"Sec-WebSocket-Protocol: sip\r\n\r\n")


def register(cseq):
    return ("REGISTER sip:example.net SIP/2.0\r\n"
            "Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKw%d\r\n"
            "From: <sip:1004@example.net>;tag=w1\r\n"
            "To: <sip:1004@example.net>\r\n"
            "Call-ID: reg-1004@ws\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1004@df7jal23ls0d.invalid;transport=ws>\r\n"
            "Expires: 300\r\n"
            "Content-Length: 0\r\n\r\n" % (cseq, cseq)).encode()


def ok(cseq):
    return ("SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKw%d\r\n"
            "Call-ID: reg-1004@ws\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1004@df7jal23ls0d.invalid;transport=ws>;expires=300\r\n"
            "Content-Length: 0\r\n\r\n" % (cseq, cseq)).encode()


def frame(payload, opcode=1, mask=None):
    """One final WebSocket frame (RFC 6455 5.2)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    else:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    if mask:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


class Conn:
    def __init__(self):
        self.frames = []
        self.cseq, self.sseq = 7000, 9000

    def add(self, t, out, flags, data=b""):
        if out:
            p = (Ether(**EO) / IP(src=CLIENT, dst=SERVER, id=len(self.frames)) /
                 TCP(sport=CPORT, dport=SPORT, flags=flags, seq=self.cseq,
                     ack=0 if flags == "S" else self.sseq, window=64240))
        else:
            p = (Ether(**EI) / IP(src=SERVER, dst=CLIENT, id=len(self.frames)) /
                 TCP(sport=SPORT, dport=CPORT, flags=flags, seq=self.sseq, ack=self.cseq,
                     window=64240))
        if data:
            p = p / Raw(data)
        self.frames.append((t, p))
        if out:
            self.cseq += len(data) + (1 if flags in ("S", "FA") else 0)
        else:
            self.sseq += len(data) + (1 if flags in ("SA", "FA") else 0)


def build():
    c = Conn()
    c.add(T0, True, "S")
    c.add(T0 + 0.01, False, "SA")
    c.add(T0 + 0.02, True, "A")
    c.add(T0 + 0.03, True, "PA", UPGRADE)
    c.add(T0 + 0.05, False, "PA", SWITCH)
    for i in range(1, 4):
        t = T0 + 1 + 60 * (i - 1)
        f = frame(register(i), mask=bytes([0x37, 0xfa, 0x21, i]))
        if i == 2:
            c.add(t, True, "PA", f[:150])
            c.add(t + 0.001, True, "PA", f[150:])
        else:
            c.add(t, True, "PA", f)
        c.add(t + 0.03, False, "PA", frame(ok(i)))
        if i == 1:
            c.add(t + 30, True, "PA", frame(b"ka", opcode=9, mask=b"\x01\x02\x03\x04"))
            c.add(t + 30.02, False, "PA", frame(b"ka", opcode=10))
    c.add(T0 + 200, True, "FA")
    c.add(T0 + 200.01, False, "FA")
    c.add(T0 + 200.02, True, "A")
    out = []
    for t, p in c.frames:
        p.time = t
        out.append(p)
    wrpcap(os.path.join(HERE, "scapy-sip-websocket.pcap"), out)


if __name__ == "__main__":
    build()
