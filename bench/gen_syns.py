#!/usr/bin/env python3
"""Writes a pcap of N lone TCP SYNs, each from its own client address and
port to one server (a SYN flood or a port scan): N conversations of one
packet each, the worst case for per-conversation storage.

    bench/gen_syns.py OUT.pcap [N]      N defaults to 3000000
"""
import struct
import sys

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3_000_000
eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
ip_head = struct.Struct("!BBHHHBBH4s4s")
tcp = struct.Struct("!HHIIBBHHH")
rec = struct.Struct("<IIII")
server = bytes([10, 0, 0, 1])
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    chunk = []
    for i in range(n):
        client = bytes([10, 1 + (i >> 16) % 250, (i >> 8) & 255, i & 255])
        sport = 1024 + (i * 7919) % 60000
        ip = ip_head.pack(0x45, 0, 40, i & 0xFFFF, 0, 64, 6, 0, client, server)
        seg = tcp.pack(sport, 80, i * 2654435761 & 0xFFFFFFFF, 0, 5 << 4, 0x02, 64240, 0, 0)
        frame = eth + ip + seg
        t = 1_700_000_000_000_000 + i * 3
        chunk.append(rec.pack(t // 1_000_000, t % 1_000_000, len(frame), len(frame)) + frame)
        if len(chunk) == 65536:
            f.write(b"".join(chunk))
            chunk.clear()
    f.write(b"".join(chunk))
