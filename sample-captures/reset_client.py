#!/usr/bin/env python3
"""Asks for a large body, reads a little of it, then closes the socket
with the rest unread: the kernel answers with a RST, as for a client
killed mid-download.

Usage: reset_client.py PORT
"""
import socket
import sys
import time

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /big HTTP/1.1\r\nHost: localhost\r\nUser-Agent: reset-client\r\n\r\n")
s.recv(2000)
time.sleep(0.2)
s.close()  # unread data: RST instead of FIN
time.sleep(1.0)
