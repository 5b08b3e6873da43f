"""A keep-alive HTTPS server for the TLS sample captures and bench/tls.sh:
HTTP/1.1 over python3's ssl, answering GET with a short text body (404 for
paths that contain "missing"; /bytes/N answers N bytes).
Usage: https_server.py PORT CERT KEY [legacy]  (legacy: TLS 1.0 and 1.1 too;
CERT "-": plain HTTP, the twin bench/tls.sh compares with)"""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/bytes/"):
            body = b"x" * int(self.path[len("/bytes/"):].split("?")[0])
        else:
            body = f"hello {self.path}\n".encode()
        self.send_response(404 if "missing" in self.path else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if cert == "-":
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["http/1.1"])
# OpenSSL's default list: keeps the AES-CBC suites python's own list drops.
ctx.set_ciphers("DEFAULT")
if sys.argv[4:] == ["legacy"]:
    # OpenSSL 3 speaks TLS < 1.2 only at security level 0.
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
