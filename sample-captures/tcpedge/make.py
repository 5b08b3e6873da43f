#!/usr/bin/env python3
"""Makes the tcpedge sample captures with scapy (no traffic is sent: the
packets are built and written with their times). Each capture holds one TCP
edge case that real captures show (README, "Deliberate differences" and
issue 15): the stale-state dance behind a NAT, data after a RST, a late RST
or FIN after the 30 s linger, duplicate Content-Length.

Usage: ./make.py  (then ../truth.py tcpedge-*.pcap for tshark's answers)
"""
import os

from scapy.all import IP, TCP, Ether, Raw, wrpcap

CLIENT, SERVER = "10.1.0.1", "10.1.0.2"
T0 = 1_700_000_000.0


class Conn:
    """One TCP connection: tracks both sides' next sequence numbers."""

    def __init__(self, sport, dport=80, cseq=1000, sseq=5000):
        self.sport, self.dport = sport, dport
        self.seq = {"c": cseq, "s": sseq}
        self.pkts = []

    def pkt(self, t, side, flags, data=b"", seq=None, ack=None):
        src, dst = (CLIENT, SERVER) if side == "c" else (SERVER, CLIENT)
        sp, dp = (self.sport, self.dport) if side == "c" else (self.dport, self.sport)
        other = "s" if side == "c" else "c"
        s = self.seq[side] if seq is None else seq
        a = self.seq[other] if ack is None else ack
        p = Ether() / IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=s, ack=a if "A" in flags else 0)
        if data:
            p = p / Raw(data)
        p.time = T0 + t
        self.pkts.append(p)
        if seq is None:
            self.seq[side] += len(data) + (1 if ("S" in flags or "F" in flags) else 0)
        return p

    def handshake(self, t):
        self.pkt(t, "c", "S")
        self.pkt(t + 0.001, "s", "SA")
        self.pkt(t + 0.002, "c", "A")

    def exchange(self, t, path, body, wait):
        """GET `path` at `t`, its 200 response `wait` later, the client's ACK."""
        self.pkt(t, "c", "PA", get(path))
        self.pkt(t + wait, "s", "PA", ok(body))
        self.pkt(t + wait + 0.001, "c", "A")

    def close(self, t):
        self.pkt(t, "c", "FA")
        self.pkt(t + 0.001, "s", "FA")
        self.pkt(t + 0.002, "c", "A")


def get(path):
    return f"GET {path} HTTP/1.1\r\nHost: example\r\n\r\n".encode()


def ok(body, extra=""):
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def rst_stale():
    """Behind a NAT the server still holds an old connection on the same
    4-tuple: it answers the SYN with a challenge ACK (RFC 5961), the client
    resets, and its SYN retry (same ISN) opens the connection."""
    c = Conn(40001)
    c.pkt(0.0, "c", "S", seq=1000)
    c.pkt(0.001, "s", "A", seq=3000, ack=99999)  # challenge ACK of the stale connection
    c.pkt(0.002, "c", "R", seq=99999)
    c.seq["c"] = 1001
    c.pkt(1.0, "c", "S", seq=1000)  # SYN retry
    c.pkt(1.001, "s", "SA")
    c.pkt(1.002, "c", "A")
    c.exchange(1.003, "/after-stale", b"hello", 0.047)
    c.close(1.1)
    return c.pkts


def data_after_rst():
    """The server's RST does not stop it (a middlebox injected it, or the
    stack ignored it as out of window): the response and a second request
    still go through, and tshark reads them."""
    c = Conn(40002)
    c.handshake(0.0)
    c.pkt(0.010, "c", "PA", get("/first"))
    c.pkt(0.020, "s", "RA", seq=c.seq["s"])
    c.pkt(0.030, "s", "PA", ok(b"one"))
    c.pkt(0.031, "c", "A")
    c.exchange(0.040, "/second", b"two", 0.010)
    c.close(0.1)
    return c.pkts


def late_rst():
    """A conversation closed at 3.2 s whose client sends a RST at 80.3 s
    (a late reset past the 30 s linger): one conversation of 80.3 s, as
    tshark shows it. A second connection on another port closes normally
    and gets a retransmitted FIN 45 s later."""
    c = Conn(40003)
    c.handshake(0.0)
    c.pkt(0.010, "c", "PA", get("/late"))
    c.pkt(3.0, "s", "PA", ok(b"slow"))
    c.pkt(3.001, "c", "A")
    c.close(3.2)
    c.pkt(80.3, "c", "R", seq=c.seq["c"])
    d = Conn(40004)
    d.handshake(5.0)
    d.exchange(5.010, "/fin", b"fin", 0.010)
    d.pkt(5.1, "s", "FA")
    d.pkt(5.101, "c", "FA")
    fin_seq = d.seq["s"] - 1
    d.pkt(5.102, "s", "A")
    d.pkt(50.1, "s", "FA", seq=fin_seq)  # retransmitted FIN
    return sorted(c.pkts + d.pkts, key=lambda p: p.time)


def dup_length():
    """Two Content-Length headers that disagree: tshark takes the last."""
    c = Conn(40005)
    c.handshake(0.0)
    c.pkt(0.010, "c", "PA", get("/dup"))
    body = b"abcdefgh"
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 8\r\n\r\n"
    c.pkt(0.020, "s", "PA", head + body[:3])
    c.pkt(0.030, "s", "PA", body[3:])
    c.pkt(0.031, "c", "A")
    c.pkt(0.040, "c", "PA", get("/next"))
    c.pkt(0.050, "s", "PA", ok(b"ok"))
    c.close(0.1)
    return c.pkts


def one_exchange(sport, request, response_parts, close=True):
    """A connection carrying `request` and the response in `response_parts`
    (one segment each), then a normal close."""
    c = Conn(sport)
    c.handshake(0.0)
    c.pkt(0.010, "c", "PA", request)
    t = 0.020
    for part in response_parts:
        c.pkt(t, "s", "PA", part)
        t += 0.010
    c.pkt(t, "c", "A")
    if close:
        c.close(t + 0.05)
    return c.pkts


def head_cut():
    """The capture ends inside a request's headers."""
    c = Conn(40006)
    c.handshake(0.0)
    c.pkt(0.010, "c", "PA", b"GET /cut HTTP/1.1\r\nHost: exam")
    return c.pkts


def http09():
    """An HTTP/0.9 request line (no version) and its bare body reply."""
    return one_exchange(40007, b"GET /old\r\n", [b"<html>old</html>\n"])


def status_lines():
    """Odd status lines, one connection each: HTTP/2.0, a 2XX code, a
    leading space, a junk line before the status line."""
    pkts = []
    for i, line in enumerate([b"HTTP/2.0 200 OK", b"HTTP/1.1 2XX OK", b" HTTP/1.1 200 OK", b"junk\r\nHTTP/1.1 200 OK"]):
        resp = line + b"\r\nContent-Length: 2\r\n\r\nok"
        for p in one_exchange(40010 + i, get(f"/status{i}"), [resp]):
            p.time += i
            pkts.append(p)
    return pkts


def odd_framing():
    """Folded and odd Transfer-Encoding / Content-Length headers."""
    pkts = []
    cases = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length:5 \r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 3\r\n\r\nabc",
    ]
    for i, resp in enumerate(cases):
        c = Conn(40020 + i)
        c.handshake(0.0)
        c.pkt(0.010, "c", "PA", get(f"/odd{i}"))
        c.pkt(0.020, "s", "PA", resp)
        c.pkt(0.021, "c", "A")
        c.pkt(0.030, "c", "PA", get(f"/after{i}"))
        c.pkt(0.040, "s", "PA", ok(b"next"))
        c.close(0.1)
        for p in c.pkts:
            p.time += i
            pkts.append(p)
    return pkts


def odd_length():
    """Length headers RFC 9110/9112 allow but tshark does not read: a
    folded Content-Length, a space before the colon, a list of equal
    values. Each body ends in a second segment."""
    pkts = []
    cases = [
        b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
    ]
    for i, resp in enumerate(cases):
        c = Conn(40040 + i)
        c.handshake(0.0)
        c.pkt(0.010, "c", "PA", get(f"/len{i}"))
        c.pkt(0.020, "s", "PA", resp[:-3])
        c.pkt(0.030, "s", "PA", resp[-3:])
        c.pkt(0.031, "c", "A")
        c.exchange(0.040, f"/after{i}", b"next", 0.010)
        c.close(0.1)
        for p in c.pkts:
            p.time += i
            pkts.append(p)
    return pkts


def connect_tunnel():
    """Plain HTTP inside an established CONNECT tunnel."""
    c = Conn(40030, dport=3128)
    c.handshake(0.0)
    c.pkt(0.010, "c", "PA", b"CONNECT inner:80 HTTP/1.1\r\nHost: inner:80\r\n\r\n")
    c.pkt(0.020, "s", "PA", b"HTTP/1.1 200 Connection established\r\n\r\n")
    c.pkt(0.030, "c", "PA", get("/inside"))
    c.pkt(0.040, "s", "PA", ok(b"tunnelled"))
    c.pkt(0.041, "c", "A")
    c.close(0.1)
    return c.pkts


def urgent():
    """A request whose segment carries one urgent byte (URG, pointer 1)
    ahead of the request line: TCP keeps it inline (RFC 6093)."""
    c = Conn(40031)
    c.handshake(0.0)
    p = c.pkt(0.010, "c", "PAU", b"!" + get("/urgent"))
    p[TCP].urgptr = 1
    c.pkt(0.020, "s", "PA", ok(b"urg"))
    c.close(0.1)
    return c.pkts


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, make in [
        ("tcpedge-rst-stale", rst_stale),
        ("tcpedge-data-after-rst", data_after_rst),
        ("tcpedge-late-rst", late_rst),
        ("tcpedge-dup-length", dup_length),
        ("tcpedge-head-cut", head_cut),
        ("tcpedge-http09", http09),
        ("tcpedge-status-lines", status_lines),
        ("tcpedge-odd-framing", odd_framing),
        ("tcpedge-odd-length", odd_length),
        ("tcpedge-connect", connect_tunnel),
        ("tcpedge-urgent", urgent),
    ]:
        wrpcap(os.path.join(here, name + ".pcap"), make())


if __name__ == "__main__":
    main()
