#!/usr/bin/env python3
"""Writes a pcap of N concurrent TLS conversations, none of which ends:
what the TLS framer holds per direction while a capture has many open.
Each client sends a 4000-byte handshake record in three segments
(gathered whole, then idle); each server half of a 16000-byte one (8000
bytes in 1448-byte segments, left inside the record), or with `whole` all
of it (then idle).

    bench/gen_tls_partial.py OUT.pcap [N [half|whole]]      N defaults to 50000

The CLI keeps at most 14000 conversations open before it lets finished,
then the least recently active, ones go: N = 13000 keeps all of them.
"""
import struct
import sys

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
server_sends = 16000 if len(sys.argv) > 3 and sys.argv[3] == "whole" else 8000
eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
ip_head = struct.Struct("!BBHHHBBH4s4s")
tcp = struct.Struct("!HHIIBBHHH")
rec = struct.Struct("<IIII")
server = bytes([10, 0, 0, 1])
client_record = b"\x16\x03\x01" + struct.pack("!H", 4000) + bytes(i & 255 for i in range(4000))
server_record = b"\x16\x03\x03" + struct.pack("!H", 16000) + bytes(i * 7 & 255 for i in range(server_sends))
t = [1_700_000_000_000_000]


def packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    ip = ip_head.pack(0x45, 0, 40 + len(payload), 0, 0, 64, 6, 0, src, dst)
    seg = tcp.pack(sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 64240, 0, 0)
    frame = eth + ip + seg + payload
    t[0] += 1
    return rec.pack(t[0] // 1_000_000, t[0] % 1_000_000, len(frame), len(frame)) + frame


def flow(i):
    return bytes([10, 1 + (i >> 16) % 250, (i >> 8) & 255, i & 255]), 1024 + i % 60000, 1000, 5000


with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for phase in range(3):
        chunk = []
        for i in range(n):
            c, port, cs, ss = flow(i)
            if phase == 0:
                chunk.append(packet(c, server, port, 443, cs, 0, 0x02))
                chunk.append(packet(server, c, 443, port, ss, cs + 1, 0x12))
                chunk.append(packet(c, server, port, 443, cs + 1, ss + 1, 0x10))
            elif phase == 1:
                for at in range(0, len(client_record), 1448):
                    part = client_record[at:at + 1448]
                    chunk.append(packet(c, server, port, 443, cs + 1 + at, ss + 1, 0x18, part))
            else:
                for at in range(0, len(server_record), 1448):
                    part = server_record[at:at + 1448]
                    chunk.append(packet(server, c, 443, port, ss + 1 + at, cs + 1 + len(client_record), 0x18, part))
            if len(chunk) >= 65536:
                f.write(b"".join(chunk))
                chunk.clear()
        f.write(b"".join(chunk))
