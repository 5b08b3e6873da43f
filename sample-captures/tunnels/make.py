#!/usr/bin/env python3
"""Makes the tunnel, link-type and IP edge-case samples with scapy (odd
framings no tool on this machine sends): each file holds short TCP
conversations (handshake, a request, a response, FINs) and a UDP exchange,
wrapped as its name says, with distinct inner addresses per tunnel so every
conversation can be told apart. Deterministic (fixed times, no randomness).

Usage: python3 make.py   (writes the .pcap files next to this script)
"""
import os
import struct

from scapy.all import (IP, TCP, UDP, Ether, IPv6, Raw, wrpcap, PPP, HDLC)
from scapy.utils import PcapWriter

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1_700_000_000.0
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"


class Clock:
    def __init__(self):
        self.t = T0

    def next(self):
        self.t += 0.001
        return self.t


def tcp_flow(c, s, cport, sport, v6=False):
    """(direction, inner IP packet) of one small HTTP conversation."""
    L3 = IPv6 if v6 else IP
    a, b = L3(src=c, dst=s), L3(src=s, dst=c)
    req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    ci, si = 1000, 5000
    return [
        (0, a / TCP(sport=cport, dport=sport, flags="S", seq=ci)),
        (1, b / TCP(sport=sport, dport=cport, flags="SA", seq=si, ack=ci + 1)),
        (0, a / TCP(sport=cport, dport=sport, flags="A", seq=ci + 1, ack=si + 1)),
        (0, a / TCP(sport=cport, dport=sport, flags="PA", seq=ci + 1, ack=si + 1) / req),
        (1, b / TCP(sport=sport, dport=cport, flags="PA", seq=si + 1, ack=ci + 1 + len(req)) / resp),
        (0, a / TCP(sport=cport, dport=sport, flags="FA", seq=ci + 1 + len(req), ack=si + 1 + len(resp))),
        (1, b / TCP(sport=sport, dport=cport, flags="FA", seq=si + 1 + len(resp), ack=ci + 2 + len(req))),
        (0, a / TCP(sport=cport, dport=sport, flags="A", seq=ci + 2 + len(req), ack=si + 2 + len(resp))),
    ]


def udp_flow(c, s, cport, sport, v6=False):
    L3 = IPv6 if v6 else IP
    return [
        (0, L3(src=c, dst=s) / UDP(sport=cport, dport=sport) / b"ping"),
        (1, L3(src=s, dst=c) / UDP(sport=sport, dport=cport) / b"pong"),
    ]


def flows(n, v6=False):
    """A TCP and a UDP conversation between inner hosts numbered `n`."""
    if v6:
        c, s = f"fd00:{n}::1", f"fd00:{n}::2"
    else:
        c, s = f"172.16.{n}.1", f"172.16.{n}.2"
    return tcp_flow(c, s, 40000 + n, 80, v6) + udp_flow(c, s, 50000 + n, 53, v6)


def eth(inner):
    """The inner packet in Ethernet, as bridging tunnels carry it."""
    t = 0x86DD if inner.version == 6 else 0x0800
    return Ether(src=MAC_A, dst=MAC_B, type=t) / inner


def outer_ip(d, o4=("192.0.2.1", "192.0.2.2"), v6=False, **kw):
    a, b = (o4 if d == 0 else o4[::-1])
    if v6:
        return IPv6(src=a, dst=b, **kw)
    return IP(src=a, dst=b, **kw)


def gre(proto, flags=0, key=None, seq=None, version=0):
    words = b""
    if key is not None:
        flags |= 0x20
        words += struct.pack("!I", key)
    if seq is not None:
        flags |= 0x10
        words += struct.pack("!I", seq)
    return struct.pack("!BBH", flags, version, proto) + words


def write(name, frames, linktype=1):
    path = os.path.join(HERE, name)
    w = PcapWriter(path, linktype=linktype, sync=True)
    # Raw bytes under a fixed link type: scapy warns of "inconsistent
    # linktypes", harmlessly.
    for t, f in frames:
        raw = bytes(f)
        pkt = Raw(raw)
        pkt.time = t
        w.write(pkt)
    w.close()


def wrapped(clock, n, wrap, v6=False):
    return [(clock.next(), wrap(d, p)) for d, p in flows(n, v6)]


def tunnels():
    """Every encapsulation once, over Ethernet, in one file."""
    clk = Clock()
    out = []
    ow = ("192.0.2.1", "192.0.2.2")
    E = lambda d: Ether(src=MAC_A, dst=MAC_B)
    # VXLAN on 4789, VNI 42.
    out += wrapped(clk, 1, lambda d, p: E(d) / outer_ip(d) / UDP(sport=33333, dport=4789)
                   / struct.pack("!II", 0x08000000, 42 << 8) / eth(p))
    # Geneve with Ethernet inside (VNI 7, one 8-byte option), and with IPv6 inside.
    opt = struct.pack("!HBB", 0x0102, 0x03, 1) + b"\0\0\0\0"
    out += wrapped(clk, 2, lambda d, p: E(d) / outer_ip(d) / UDP(sport=33334, dport=6081)
                   / (struct.pack("!BBHI", 2, 0, 0x6558, 7 << 8) + opt) / eth(p))
    out += wrapped(clk, 3, lambda d, p: E(d) / outer_ip(d) / UDP(sport=33335, dport=6081)
                   / struct.pack("!BBHI", 0, 0, 0x86DD, 8 << 8) / p, v6=True)
    # GRE: plain (IPv4), keyed (IPv6 inside), NVGRE (VSID 0x1234, flow 5).
    out += wrapped(clk, 4, lambda d, p: E(d) / outer_ip(d, proto=47) / gre(0x0800) / p)
    out += wrapped(clk, 5, lambda d, p: E(d) / outer_ip(d, proto=47) / gre(0x86DD, key=77) / p, v6=True)
    out += wrapped(clk, 6, lambda d, p: E(d) / outer_ip(d, proto=47)
                   / gre(0x6558, key=(0x1234 << 8) | 5) / eth(p))
    # ERSPAN type I (no sequence), II (session 100), III (session 200).
    out += wrapped(clk, 7, lambda d, p: E(d) / outer_ip(d, proto=47) / gre(0x88BE) / eth(p))
    seq = iter(range(1, 1000))
    out += wrapped(clk, 8, lambda d, p: E(d) / outer_ip(d, proto=47) / gre(0x88BE, seq=next(seq))
                   / struct.pack("!HHI", 0x1000 | 10, 100, 0) / eth(p))
    out += wrapped(clk, 9, lambda d, p: E(d) / outer_ip(d, proto=47) / gre(0x22EB, seq=next(seq))
                   / struct.pack("!HHIHH", 0x2000 | 10, 200, 12345, 0, 0) / eth(p))
    # IP in IP: 4in4, 6in4, 4in6, 6in6.
    o6 = ("2001:db8::1", "2001:db8::2")
    out += wrapped(clk, 10, lambda d, p: E(d) / outer_ip(d, proto=4) / p)
    out += wrapped(clk, 11, lambda d, p: E(d) / outer_ip(d, proto=41) / p, v6=True)
    out += wrapped(clk, 12, lambda d, p: E(d) / outer_ip(d, o6, v6=True, nh=4) / p)
    out += wrapped(clk, 13, lambda d, p: E(d) / outer_ip(d, o6, v6=True, nh=41) / p, v6=True)
    # MPLS: a two-label stack over IPv4, one label over IPv6.
    out += wrapped(clk, 14, lambda d, p: Ether(src=MAC_A, dst=MAC_B, type=0x8847)
                   / struct.pack("!II", (100 << 12) | 64, (200 << 12) | 0x100 | 64) / p)
    out += wrapped(clk, 15, lambda d, p: Ether(src=MAC_A, dst=MAC_B, type=0x8847)
                   / struct.pack("!I", (300 << 12) | 0x100 | 64) / p, v6=True)
    # PPPoE session 0x0011 (IPv4) and IPv6.
    def pppoe(p):
        body = struct.pack("!H", 0x0057 if p.version == 6 else 0x0021) + bytes(p)
        return Ether(src=MAC_A, dst=MAC_B, type=0x8864) / (struct.pack("!BBHH", 0x11, 0, 0x11, len(body)) + body)
    out += wrapped(clk, 16, lambda d, p: pppoe(p))
    out += wrapped(clk, 17, lambda d, p: pppoe(p), v6=True)
    # NSH (MD type 2, no context) with IPv4 next, and with Ethernet next.
    def nsh(next_proto):
        return struct.pack("!BBBBI", 0x0F, 0xC2, 0x02, next_proto, (33 << 8) | 255)
    out += wrapped(clk, 18, lambda d, p: Ether(src=MAC_A, dst=MAC_B, type=0x894F) / nsh(1) / p)
    out += wrapped(clk, 19, lambda d, p: Ether(src=MAC_A, dst=MAC_B, type=0x894F) / nsh(3) / eth(p))
    # E-Tag (802.1BR), E-CID 5.
    out += wrapped(clk, 20, lambda d, p: Ether(src=MAC_A, dst=MAC_B, type=0x893F)
                   / struct.pack("!HHBBH", 0, 5, 0, 0, 0x0800) / p)
    # Nested: GRE inside VXLAN (VNI 9), and IPv4-in-IPv4 inside GRE.
    out += wrapped(clk, 21, lambda d, p: E(d) / outer_ip(d) / UDP(sport=33336, dport=4789)
                   / struct.pack("!II", 0x08000000, 9 << 8)
                   / eth(outer_ip(d, ("10.9.0.1", "10.9.0.2"), proto=47) / gre(0x0800) / p))
    out += wrapped(clk, 22, lambda d, p: E(d) / outer_ip(d, proto=47) / gre(0x0800)
                   / outer_ip(d, ("10.8.0.1", "10.8.0.2"), proto=4) / p)
    write("tunnels.pcap", out)


def shims():
    """Ethernet shims that name a path: MPLS label stacks (one label, three,
    five: shown cut after three; behind an 802.1Q tag; the multicast
    ethertype; over GRE) and PPPoE sessions (IPv4, IPv6, behind a tag)."""
    clk = Clock()
    out = []

    def stack(*labels):
        words = [(l << 12) | 64 for l in labels]
        words[-1] |= 0x100
        return struct.pack("!%dI" % len(words), *words)

    def mpls(labels, ethertype=0x8847, vlan=None):
        def wrap(d, p):
            if vlan is None:
                return Ether(src=MAC_A, dst=MAC_B, type=ethertype) / stack(*labels) / p
            return (Ether(src=MAC_A, dst=MAC_B, type=0x8100) / struct.pack("!HH", vlan, ethertype)
                    / stack(*labels) / p)
        return wrap

    out += wrapped(clk, 70, mpls([16]))
    out += wrapped(clk, 71, mpls([1000, 2000, 3000]), v6=True)
    out += wrapped(clk, 72, mpls([1, 2, 3, 4, 5]))
    out += wrapped(clk, 73, mpls([17, 18], vlan=10))
    out += wrapped(clk, 74, mpls([19], ethertype=0x8848))
    out += wrapped(clk, 75, lambda d, p: Ether(src=MAC_A, dst=MAC_B) / outer_ip(d, proto=47)
                   / gre(0x8847) / stack(20, 21) / p)

    def pppoe(session, vlan=None):
        def wrap(d, p):
            body = struct.pack("!H", 0x0057 if p.version == 6 else 0x0021) + bytes(p)
            hdr = struct.pack("!BBHH", 0x11, 0, session, len(body)) + body
            if vlan is None:
                return Ether(src=MAC_A, dst=MAC_B, type=0x8864) / hdr
            return Ether(src=MAC_A, dst=MAC_B, type=0x8100) / struct.pack("!HH", vlan, 0x8864) / hdr
        return wrap

    out += wrapped(clk, 76, pppoe(0x0011))
    out += wrapped(clk, 77, pppoe(0xBEEF), v6=True)
    out += wrapped(clk, 78, pppoe(0x0002, vlan=7))
    write("shims.pcap", out)


def udp_tunnels():
    """VXLAN-GPE on 4790 (IPv4, IPv6 and Ethernet inside) and GTP-U on 2152
    (plain G-PDUs, and ones with a PDU session container extension, around
    an echo request and response that carry no packet)."""
    clk = Clock()
    out = []
    E = Ether(src=MAC_A, dst=MAC_B)

    def gpe(vni, next_proto):
        return struct.pack("!BBBBI", 0x0C, 0, 0, next_proto, vni << 8)

    out += wrapped(clk, 80, lambda d, p: E / outer_ip(d) / UDP(sport=33380, dport=4790) / gpe(50, 1) / p)
    out += wrapped(clk, 81, lambda d, p: E / outer_ip(d) / UDP(sport=33381, dport=4790) / gpe(51, 2) / p, v6=True)
    out += wrapped(clk, 82, lambda d, p: E / outer_ip(d) / UDP(sport=33382, dport=4790) / gpe(52, 3) / eth(p))

    def gtpu(teid, ext=False, msg=0xFF, body=b""):
        if ext:
            # E flag, sequence 0, N-PDU 0, next 0x85: a PDU session container
            # (1 word: QFI 5), then no more.
            opt = struct.pack("!HBB", 0, 0, 0x85) + bytes([1, 0x10, 0x05, 0])
            return struct.pack("!BBHI", 0x34, msg, len(opt) + len(body), teid) + opt + body
        return struct.pack("!BBHI", 0x30, msg, len(body), teid) + body

    gn = ("10.100.0.1", "10.100.0.2")
    out.append((clk.next(), E / outer_ip(0, gn) / UDP(sport=2152, dport=2152)
                / gtpu(0, msg=1, ext=False, body=struct.pack("!HBB", 1, 0, 0))))
    out.append((clk.next(), E / outer_ip(1, gn) / UDP(sport=2152, dport=2152)
                / gtpu(0, msg=2, ext=False, body=struct.pack("!HBB", 1, 0, 0) + b"\x0e\x00")))
    out += wrapped(clk, 83, lambda d, p: E / outer_ip(d, gn) / UDP(sport=2152, dport=2152)
                   / gtpu(0x100 + d, body=bytes(p)))
    out += wrapped(clk, 84, lambda d, p: E / outer_ip(d, gn) / UDP(sport=2152, dport=2152)
                   / gtpu(0x200 + d, ext=True, body=bytes(p)), v6=True)
    write("udp-tunnels.pcap", out)


def vxlan_8472():
    """VXLAN on the Linux kernel's default port (Flannel, Cilium)."""
    clk = Clock()
    out = wrapped(clk, 30, lambda d, p: Ether(src=MAC_A, dst=MAC_B) / outer_ip(d, ("10.244.0.1", "10.244.1.1"))
                  / UDP(sport=44444, dport=8472) / struct.pack("!II", 0x08000000, 1 << 8) / eth(p))
    write("vxlan-8472.pcap", out)


def undecoded():
    """Encapsulations we do not open: a GRE payload type, L2TPv3 over IP."""
    clk = Clock()
    out = [(clk.next(), Ether(src=MAC_A, dst=MAC_B) / IP(src="192.0.2.1", dst="192.0.2.2", proto=47) / gre(0x1234) / b"xxxx"),
           (clk.next(), Ether(src=MAC_A, dst=MAC_B) / IP(src="192.0.2.1", dst="192.0.2.2", proto=115) / b"\0\0\0\1xxxx")]
    out += wrapped(clk, 31, lambda d, p: eth(p))
    write("undecoded.pcap", out)


def links():
    """PPP (DLT 9), PPP in HDLC framing (DLT 50), Cisco HDLC (DLT 104)."""
    def ppp(p, ac=True):
        proto = 0x0057 if p.version == 6 else 0x0021
        return (b"\xff\x03" if ac else b"") + struct.pack("!H", proto) + bytes(p)
    clk = Clock()
    lcp = [(clk.next(), b"\xff\x03\xc0\x21" + bytes.fromhex("01010008050600000001"))]
    frames = wrapped(clk, 40, lambda d, p: ppp(p)) + wrapped(clk, 41, lambda d, p: ppp(p, False), v6=True)
    write("ppp.pcap", lcp + frames, linktype=9)
    clk = Clock()
    write("ppp-hdlc.pcap", wrapped(clk, 42, lambda d, p: ppp(p)), linktype=50)
    def chdlc(p):
        return struct.pack("!BBH", 0x0F, 0, 0x86DD if p.version == 6 else 0x0800) + bytes(p)
    clk = Clock()
    write("chdlc.pcap", wrapped(clk, 43, lambda d, p: chdlc(p)) + wrapped(clk, 44, lambda d, p: chdlc(p), v6=True),
          linktype=104)


def edges():
    """IPv4 source routing (LSRR and SSRR: the header's destination is the
    next hop, the option lists the rest), TCP behind a malformed IP option
    and with a malformed TCP option, UDP length fields under 8."""
    from scapy.all import IPOption_LSRR, IPOption_SSRR
    clk = Clock()
    out = []
    for n, opt in ((50, IPOption_LSRR), (51, IPOption_SSRR)):
        hop, final = f"10.50.{n}.254", f"172.16.{n}.2"
        for d, p in flows(n):
            if d == 0:
                p[IP].dst = hop
                p[IP].options = [opt(routers=[final], pointer=4)]
            out.append((clk.next(), eth(p)))
    # A malformed IP option (length 1), then TCP.
    for d, p in flows(52):
        if d == 0:
            p[IP].options = [Raw(b"\x07\x01\x00\x00")]
        out.append((clk.next(), eth(p)))
    # A TCP option whose length runs past the header, on every segment.
    for d, p in flows(53):
        if TCP in p:
            p[TCP].options = [(8, b"")]
            raw = bytearray(bytes(p[TCP]))
        out.append((clk.next(), eth(p)))
    # UDP length fields of 0, 4 and 7.
    for i, bad in enumerate((0, 4, 7)):
        p = IP(src="172.16.54.1", dst="172.16.54.2") / UDP(sport=50054, dport=53, len=bad) / b"ping"
        out.append((clk.next(), eth(p)))
    write("ip-edges.pcap", out)


def fragmented():
    """Tunnels whose outer IPv4 datagrams come in fragments (GRE, and VXLAN
    on 4789): opened once the outer datagram is whole, as tshark does; and
    fragmented conversations outside any tunnel and inside GRE."""
    from scapy.all import fragment
    clk = Clock()
    out = []
    E = Ether(src=MAC_A, dst=MAC_B)
    ident = iter(range(100, 1000))
    for d, p in flows(60):
        pkt = outer_ip(d, proto=47, id=next(ident)) / Raw(gre(0x0800) + bytes(p))
        for f in fragment(pkt, fragsize=32):
            out.append((clk.next(), E / f))
    for d, p in flows(61):
        pkt = (outer_ip(d, id=next(ident)) / UDP(sport=33336, dport=4789)
               / struct.pack("!II", 0x08000000, 61 << 8) / eth(p))
        for f in fragment(pkt, fragsize=32):
            out.append((clk.next(), E / f))
    # Plain TCP and UDP in fragments, and fragments inside a GRE tunnel.
    for d, p in flows(62):
        p[IP].id = next(ident)
        for f in fragment(p, fragsize=16):
            out.append((clk.next(), E / f))
    for d, p in flows(63):
        p[IP].id = next(ident)
        for f in fragment(p, fragsize=16):
            out.append((clk.next(), E / outer_ip(d, proto=47) / gre(0x0800) / f))
    write("fragmented.pcap", out)


def fragmented_twice():
    """Fragments at two depths at once: every inner datagram of a TCP and
    a UDP conversation is cut in 16-byte fragments, each carried by GRE in
    an outer datagram that is itself cut in 32-byte fragments."""
    from scapy.all import fragment
    clk = Clock()
    out = []
    E = Ether(src=MAC_A, dst=MAC_B)
    ident = iter(range(2000, 3000))
    for d, p in flows(64):
        p[IP].id = next(ident)
        for inner in fragment(p, fragsize=16):
            pkt = outer_ip(d, proto=47, id=next(ident)) / Raw(gre(0x0800) + bytes(inner))
            for f in fragment(pkt, fragsize=32):
                out.append((clk.next(), E / f))
    write("fragmented-twice.pcap", out)


if __name__ == "__main__":
    fragmented_twice()
    fragmented()
    edges()
    tunnels()
    shims()
    udp_tunnels()
    vxlan_8472()
    undecoded()
    links()
