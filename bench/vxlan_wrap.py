#!/usr/bin/env python3
"""Wraps every Ethernet frame of a pcap in Ethernet + IPv4 + UDP + VXLAN
(VNI 42, to port 4789), for the tunnel speed check: analyze the plain and
the wrapped capture and compare (see README, "Tunnels").

Usage: bench/vxlan_wrap.py IN.pcap OUT.pcap
"""
import struct
import sys

OUTER = 14 + 20 + 8 + 8


def ip_header(length):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 0, 0x4000, 64, 17, 0,
                    bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return h[:10] + struct.pack("!H", ~s & 0xFFFF) + h[12:]


def main(src, dst):
    with open(src, "rb") as f, open(dst, "wb") as out:
        head = f.read(24)
        magic = head[:4]
        endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        assert struct.unpack(endian + "I", head[20:24])[0] == 1, "Ethernet captures only"
        out.write(head)
        rec = struct.Struct(endian + "IIII")
        while True:
            r = f.read(16)
            if len(r) < 16:
                break
            sec, frac, incl, orig = rec.unpack(r)
            data = f.read(incl)
            udp_len = 8 + 8 + orig
            outer = (b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
                     + ip_header(20 + udp_len)
                     + struct.pack("!HHHH", 40000 + (sec & 0xFF), 4789, udp_len, 0)
                     + struct.pack("!II", 0x08000000, 42 << 8))
            out.write(rec.pack(sec, frac, incl + OUTER, orig + OUTER))
            out.write(outer + data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
