#!/usr/bin/env python3
"""Asks for a large body, reads a little of it, then resets the connection
(SO_LINGER 0), as a client killed mid-download does.

Usage: reset_client.py PORT
"""
import socket
import struct
import sys
import time

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /big HTTP/1.1\r\nHost: localhost\r\nUser-Agent: reset-client\r\n\r\n")
s.recv(2000)
time.sleep(0.1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
