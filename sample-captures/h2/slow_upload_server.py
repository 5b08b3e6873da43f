#!/usr/bin/env python3
"""A slow HTTP/2 (h2c) receiver, for the upload-stall sample: its SETTINGS
give the client a 16384-byte stream window, and it opens the window
again only after a pause, so a client POSTing a large body (curl
--http2-prior-knowledge --data-binary) stalls on the server's window.

  slow_upload_server.py PORT slow    # 0.3 s before each refill, then 200
  slow_upload_server.py PORT never   # never refills: the client is still
                                     # blocked when the capture stops

One connection, then it exits.
"""
import socket
import sys
import time

from h2frames import frame, read_frames, window_update

PAUSE = 0.3
WINDOW = 16384


port, mode = int(sys.argv[1]), sys.argv[2]
listener = socket.create_server(("127.0.0.1", port))
conn, _ = listener.accept()
preface = b""
while len(preface) < 24:
    preface += conn.recv(24 - len(preface))
# SETTINGS_INITIAL_WINDOW_SIZE (4): the client's stream windows.
conn.sendall(frame(4, 0, 0, (4).to_bytes(2, "big") + WINDOW.to_bytes(4, "big")))
left = {}
for kind, flags, stream, payload in read_frames(conn):
    if kind == 4 and not flags & 1:
        conn.sendall(frame(4, 1, 0))
    if kind == 1:
        left[stream] = WINDOW
    if kind == 0 and stream in left:
        left[stream] -= len(payload)
        if flags & 1:
            # :status 200 (static index 8), then a short body.
            conn.sendall(frame(1, 0x4, stream, b"\x88") + frame(0, 0x1, stream, b"stored\n"))
            continue
        if left[stream] <= 0 and mode == "slow":
            time.sleep(PAUSE)
            conn.sendall(window_update(stream, WINDOW) + window_update(0, WINDOW))
            left[stream] += WINDOW
    if kind == 7:
        break
conn.close()
