#!/usr/bin/python3
"""Writes the SIP-over-TCP sample captures of traces/ with scapy.

A phone at 10.1.1.30:40100 keeps one TCP connection to 203.0.113.5:5060
and registers over it (Expires 600) every 60 s; the registrar answers each
REGISTER with a 200 OK.  The segments are cut the ways stream transports
cut messages:

- scapy-sip-tcp.pcap: REGISTERs 1 and 2 in one segment; REGISTER 3 split
  over two segments (in the middle of a header); a CRLF CRLF keepalive
  (RFC 5626) and its CRLF answer, then REGISTER 4 after a keepalive in the
  same segment; REGISTER 5 with a 20-byte body (Content-Length framing);
  the 200 OK to REGISTER 4 split over two segments and the one to
  REGISTER 5 sharing a segment with a NOTIFY.  5 REGISTERs, 5 200 OKs.
- scapy-sip-tcp-gaps.pcap: REGISTER 1 whole; the second segment of
  REGISTER 2 lost by the capture (a gap: REGISTER 2 cannot be read, the
  reader skips to REGISTER 3, which starts inside the next segment);
  REGISTER 4's two segments captured in reverse order (the later one
  first: its bytes are a gap, the earlier one then repeats old sequence
  space); REGISTER 5 retransmitted whole.  The 200 OKs are all whole.

Deterministic.  Run from the repository root:

    /usr/bin/python3 traces/gen-sip-tcp.py
"""
import os

from scapy.all import Ether, IP, TCP, Raw, wrpcap

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1704067200
PHONE, SERVER, PPORT = "10.1.1.30", "203.0.113.5", 40100
EO = dict(src="02:00:00:00:01:1e", dst="02:00:00:00:01:01")
EI = dict(src="02:00:00:00:01:01", dst="02:00:00:00:01:1e")


def register(cseq, body=b""):
    head = ("REGISTER sip:example.net SIP/2.0\r\n"
            "Via: SIP/2.0/TCP 10.1.1.30:40100;branch=z9hG4bKt%d\r\n"
            "From: <sip:1003@example.net>;tag=t1\r\n"
            "To: <sip:1003@example.net>\r\n"
            "Call-ID: reg-1003@10.1.1.30\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1003@10.1.1.30:40100;transport=tcp>\r\n"
            "Expires: 600\r\n"
            "Content-Length: %d\r\n\r\n" % (cseq, cseq, len(body))).encode()
    return head + body


def ok(cseq):
    return ("SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/TCP 10.1.1.30:40100;branch=z9hG4bKt%d\r\n"
            "Call-ID: reg-1003@10.1.1.30\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:1003@10.1.1.30:40100;transport=tcp>;expires=600\r\n"
            "Content-Length: 0\r\n\r\n" % (cseq, cseq)).encode()


NOTIFY = (b"NOTIFY sip:1003@10.1.1.30:40100 SIP/2.0\r\nCall-ID: n1\r\nCSeq: 1 NOTIFY\r\n"
          b"Content-Length: 5\r\n\r\nhello")


class Conn:
    """One TCP connection; tracks both sides' sequence numbers."""

    def __init__(self):
        self.frames = []
        self.cseq, self.sseq = 1000, 5000

    def add(self, t, out, flags, data=b"", seq=None):
        if out:
            p = (Ether(**EO) / IP(src=PHONE, dst=SERVER, id=len(self.frames)) /
                 TCP(sport=PPORT, dport=5060, flags=flags, seq=self.cseq if seq is None else seq,
                     ack=0 if flags == "S" else self.sseq, window=64240))
        else:
            p = (Ether(**EI) / IP(src=SERVER, dst=PHONE, id=len(self.frames)) /
                 TCP(sport=5060, dport=PPORT, flags=flags, seq=self.sseq if seq is None else seq,
                     ack=self.cseq, window=64240))
        if data:
            p = p / Raw(data)
        self.frames.append((t, p))

    def send(self, t, out, data, flags="PA", capture=True):
        """Sends @data from one side; returns its sequence number."""
        seq = self.cseq if out else self.sseq
        if capture:
            self.add(t, out, flags, data)
        if out:
            self.cseq += len(data)
        else:
            self.sseq += len(data)
        return seq

    def handshake(self, t):
        self.add(t, True, "S")
        self.cseq += 1
        self.add(t + 0.01, False, "SA")
        self.sseq += 1
        self.add(t + 0.02, True, "A")

    def close(self, t):
        self.add(t, True, "FA")
        self.cseq += 1
        self.add(t + 0.01, False, "FA")
        self.sseq += 1
        self.add(t + 0.02, True, "A")


def write(name, c):
    out = []
    for t, p in c.frames:
        p.time = t
        out.append(p)
    wrpcap(os.path.join(HERE, name), out)


def stream_cases():
    c = Conn()
    c.handshake(T0)
    t = T0 + 1
    c.send(t, True, register(1) + register(2))          # two in one segment
    c.send(t + 0.03, False, ok(1))
    c.send(t + 0.031, False, ok(2))
    t += 60
    r3 = register(3)
    c.send(t, True, r3[:100])                            # split in a header
    c.send(t + 0.001, True, r3[100:])
    c.send(t + 0.03, False, ok(3))
    t += 30
    c.send(t, True, b"\r\n\r\n")                         # keepalive ping ...
    c.send(t + 0.02, False, b"\r\n")                     # ... and pong
    t += 30
    c.send(t, True, b"\r\n\r\n" + register(4))          # after a keepalive
    o4 = ok(4)
    c.send(t + 0.03, False, o4[:50])                     # answer split
    c.send(t + 0.031, False, o4[50:])
    t += 60
    c.send(t, True, register(5, b"v=0\r\no=- 0 0 IN IP4\r\n"[:20]))
    c.send(t + 0.03, False, ok(5) + NOTIFY)              # answer + another request
    c.close(t + 1)
    return c


def gap_cases():
    c = Conn()
    c.handshake(T0)
    t = T0 + 1
    c.send(t, True, register(1))
    c.send(t + 0.03, False, ok(1))
    t += 60
    r2, r3 = register(2), register(3)
    c.send(t, True, r2[:120])
    c.send(t + 0.001, True, r2[120:200], capture=False)  # lost by the capture
    c.send(t + 0.002, True, r2[200:] + r3[:90])          # REGISTER 3 starts inside
    c.send(t + 0.003, True, r3[90:])
    c.send(t + 0.03, False, ok(2))
    c.send(t + 0.031, False, ok(3))
    t += 60
    r4 = register(4)
    first = c.cseq
    c.cseq += 150
    c.send(t + 0.002, True, r4[150:])                    # the later piece first
    c.add(t + 0.003, True, "PA", r4[:150], seq=first)    # then the earlier one
    c.send(t + 0.03, False, ok(4))
    t += 60
    r5 = register(5)
    s5 = c.send(t, True, r5)
    c.add(t + 0.2, True, "PA", r5, seq=s5)               # retransmitted whole
    c.send(t + 0.23, False, ok(5))
    c.close(t + 1)
    return c


if __name__ == "__main__":
    write("scapy-sip-tcp.pcap", stream_cases())
    write("scapy-sip-tcp-gaps.pcap", gap_cases())
