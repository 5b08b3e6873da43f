#!/usr/bin/env python3
"""A small API server for the baseline-vs-incident sample captures.

Usage: server.py PORT baseline|incident

baseline: every endpoint answers at once.
incident: GET /api/orders/ID sleeps 0.25 s and answers 503 when ID is a
multiple of 4; POST /api/checkout is new.
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:2] == ["api", "orders"] and len(parts) == 3:
            order = int(parts[2])
            if MODE == "incident":
                time.sleep(0.25)
                if order % 4 == 0:
                    self.answer(503, b'{"error":"upstream timeout"}')
                    return
            self.answer(200, b'{"order":%d,"items":[1,2,3]}' % order)
        elif parts[:2] == ["api", "users"] and len(parts) == 3:
            self.answer(200, b'{"user":"%s"}' % parts[2].encode())
        elif parts == ["health"]:
            self.answer(200, b'{"ok":true}')
        else:
            self.answer(404, b'{"error":"not found"}')

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        if self.path == "/api/checkout" and MODE == "incident":
            self.answer(201, b'{"checkout":"ok"}')
        else:
            self.answer(404, b'{"error":"not found"}')


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
