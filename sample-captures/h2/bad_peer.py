#!/usr/bin/env python3
"""A client that breaks HTTP/2 on purpose, for the GOAWAY sample: the
preface, SETTINGS, a good request, then a frame on stream 0 that must be
on a stream (RST_STREAM on 0: PROTOCOL_ERROR), and it reads the GOAWAY.

  bad_peer.py PORT
"""
import socket
import sys
import time


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0))
# :method GET, :scheme http, :path /, :authority (literal, not indexed).
block = b"\x82\x86\x84\x01\x09localhost"
s.sendall(frame(1, 0x5, 1, block))
time.sleep(0.3)
s.sendall(frame(3, 0, 0, (1).to_bytes(4, "big")))
time.sleep(0.3)
s.settimeout(1)
try:
    while s.recv(65536):
        pass
except OSError:
    pass
s.close()
