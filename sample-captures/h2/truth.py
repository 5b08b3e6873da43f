#!/usr/bin/env python3
"""tshark's view of an HTTP/2 capture, as JSON: one object per stream
(TCP stream, HTTP/2 stream id) with its :method, :path, :status and
grpc-status, and its frames as [frame number (0-based, as tracedeck
counts), HTTP/2 frame type]. tests/http2.rs compares tracedeck with it.

  truth.py CAPTURE PORT [http|tls KEYLOG] > CAPTURE.truth.json

With `http` the port is decoded as HTTP/1 (an `Upgrade: h2c`
connection: tshark follows the switch to HTTP/2 after the 101); with
`tls` as TLS, decrypted with the key log (ALPN h2). Out-of-order
segments are reassembled (tcp.reassemble_out_of_order), as tracedeck
does: the frames held behind a retransmission (h2c-hol.pcap) are
decoded once it fills the hole.
"""
import json
import subprocess
import sys

path, port = sys.argv[1], sys.argv[2]
proto = sys.argv[3] if len(sys.argv) > 3 else "http2"
keylog = ["-o", f"tls.keylog_file:{sys.argv[4]}"] if len(sys.argv) > 4 else []
packets = json.loads(subprocess.run(
    ["tshark", "-r", path, "-o", "tcp.reassemble_out_of_order:TRUE",
     "-d", f"tcp.port=={port},{proto}", *keylog, "-Y", "http2",
     "-T", "json", "--no-duplicate-keys"],
    check=True, capture_output=True, text=True).stdout)


def many(x):
    return x if isinstance(x, list) else [x]


KEYS = {":method": "method", ":path": "path", ":status": "status", "grpc-status": "grpc_status"}
streams = {}
for p in packets:
    layers = p["_source"]["layers"]
    number = int(many(layers["frame"]["frame.number"])[0]) - 1
    tcp = int(many(layers["tcp"]["tcp.stream"])[0])
    for h2 in many(layers.get("http2", [])):
        for f in many(h2.get("http2.stream", [])):
            if not isinstance(f, dict) or "http2.streamid" not in f:
                continue
            sid = int(f["http2.streamid"])
            if sid == 0:
                continue
            s = streams.setdefault((tcp, sid), {
                "tcp_stream": tcp, "stream_id": sid, "method": None, "path": None,
                "status": None, "grpc_status": None, "frames": []})
            s["frames"].append([number, int(f["http2.type"])])
            for h in many(f.get("http2.header", [])):
                key = KEYS.get(h.get("http2.header.name"))
                if key and s[key] is None:
                    v = h.get("http2.header.value", "")
                    s[key] = int(v) if key in ("status", "grpc_status") else v
rows = sorted(streams.values(), key=lambda s: (s["tcp_stream"], s["stream_id"]))
print("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]")
