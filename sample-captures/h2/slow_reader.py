#!/usr/bin/env python3
"""A slow HTTP/2 reader, for the flow-control sample: it asks nghttpd for
a 70 kB file with a small window and opens the window again only after
a pause, so the server stalls on the client's window.

  slow_reader.py PORT stream       # stream window 16384, 0.3 s per refill
  slow_reader.py PORT connection   # a large stream window, the connection
                                   # window (65535) refilled after 0.3 s
"""
import socket
import sys
import time

from h2frames import frame, read_frames, window_update

PAUSE = 0.3


port, mode = int(sys.argv[1]), sys.argv[2]
window = 16384 if mode == "stream" else 1 << 20
s = socket.create_connection(("127.0.0.1", port))
# SETTINGS_INITIAL_WINDOW_SIZE (4); the connection window stays 65535.
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, (4).to_bytes(2, "big") + window.to_bytes(4, "big")))
authority = f"127.0.0.1:{port}".encode()
# :method GET, :scheme http, :path /big.txt, :authority (literals, not indexed).
block = b"\x82\x86\x04\x08/big.txt\x01" + bytes([len(authority)]) + authority
s.sendall(frame(1, 0x5, 1, block))
stream_left, conn_left = window, 65535
for kind, flags, stream, payload in read_frames(s):
    if kind == 4 and not flags & 1:
        s.sendall(frame(4, 1, 0))
    if kind == 0 and stream == 1:
        stream_left -= len(payload)
        conn_left -= len(payload)
        if flags & 1:
            break
        if mode == "stream" and stream_left <= 0:
            time.sleep(PAUSE)
            s.sendall(window_update(1, window) + window_update(0, window))
            stream_left += window
            conn_left += window
        elif mode == "connection" and conn_left <= 0:
            time.sleep(PAUSE)
            s.sendall(window_update(0, 65535))
            conn_left += 65535
s.sendall(frame(7, 0, 0, (0).to_bytes(4, "big") + (0).to_bytes(4, "big")))
time.sleep(0.1)
s.close()
