#!/usr/bin/env python3
"""A minimal h2c server for the Upgrade sample (nghttpd does not answer
`Upgrade: h2c`): it reads an HTTP/1.1 request, answers 101 Switching
Protocols, sends its SETTINGS, reads the client preface, answers stream 1
(`:status 200`, a text body) and closes with GOAWAY NO_ERROR.

  h2c_upgrade_server.py PORT   # serves connections until killed
"""
import socket
import sys


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    if b"h2c" not in data.lower():
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
    conn.sendall(frame(4, 0, 0))
    seen = b""
    while len(seen) < 24:
        chunk = conn.recv(65536)
        if not chunk:
            return
        seen += chunk
    body = b"upgraded to h2c\n"
    # :status 200 (static index 8), content-type: text/plain (literal, indexed name 31).
    conn.sendall(frame(1, 0x4, 1, b"\x88\x0f\x10\x0atext/plain"))
    conn.sendall(frame(0, 0x1, 1, body))
    conn.sendall(frame(4, 0x1, 0))
    conn.sendall(frame(7, 0, 0, (1).to_bytes(4, "big") + (0).to_bytes(4, "big")))
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
while True:
    c, _ = s.accept()
    c.settimeout(2)
    with c:
        serve(c)
