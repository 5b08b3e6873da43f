"""A small HTTP/1.1 server for the redaction sample: it answers a bearer-token
request, a login whose JSON body carries a password, and sets a session
cookie, so every secret rides in a header, a query or a body."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, ctype="application/json", extra=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.headers.get("Authorization") == "Bearer SECRET1":
            self.reply(200, json.dumps({"user": "ann", "api_key": "SECRET5"}))
        elif self.path.startswith("/logo.png"):
            self.reply(200, "\x89PNG-not-secret", ctype="image/png")
        else:
            self.reply(401, json.dumps({"error": "no token"}))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if body.get("password") == "SECRET3":
            self.reply(200, json.dumps({"ok": True}),
                       extra=[("Set-Cookie", "session=SECRET2; HttpOnly")])
        else:
            self.reply(403, json.dumps({"ok": False}))

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
