#!/usr/bin/env python3
"""A small HTTP/1.1 server for making sample captures: every framing case
tracedeck must read (keep-alive, chunked, HTTP/1.0 close-delimited, HEAD,
304, redirects, errors, a slow endpoint, a large body).

Usage: server.py PORT
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, code, body, ctype="text/plain; charset=utf-8", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/":
            self.send_body(200, b"<html><body><h1>tracedeck sample</h1></body></html>\n", "text/html")
        elif path == "/moved":
            self.send_body(301, b"moved\n", extra=[("Location", "/")])
        elif path == "/error":
            self.send_body(500, b"internal error\n")
        elif path == "/cached":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
            else:
                self.send_body(200, b"cacheable\n", extra=[("ETag", '"v1"')])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first chunk\n", b"second, a little longer chunk\n", b"third\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")
        elif path == "/http10":
            # HTTP/1.0 answer without Content-Length: the body ends when the
            # connection closes.
            self.close_connection = True
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
            self.wfile.write(b"close-delimited body\n" * 20)
        elif path == "/slow":
            time.sleep(2)
            self.send_body(200, b"slow answer\n")
        elif path == "/big":
            self.send_body(200, b"x" * 400_000, "application/octet-stream")
        else:
            self.send_body(404, b"not found\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.send_body(201, b"created %d bytes\n" % len(body), extra=[("Location", "/items/1")])


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
