#!/usr/bin/env python3
"""Dev aid: turn a capture into per-conversation stream events for
`examples/http_events.rs`, using tshark for decoding and a naive in-order
reassembly (retransmitted bytes dropped, holes reported as gaps, no
reordering). Until the flow module's reassembler is wired to http, this
lets the HTTP parser run on real captures.

usage: bench/http_events.py CAPTURE > events.txt
line:  <tcp.stream> <frame> <epoch> <d|g|f|r> <dir 0|1> <hex payload | gap length>
"""
import subprocess
import sys

fields = ["frame.number", "frame.time_epoch", "tcp.stream", "ip.src", "ipv6.src",
          "tcp.srcport", "tcp.seq_raw", "tcp.len", "tcp.flags.syn", "tcp.flags.fin",
          "tcp.flags.reset", "tcp.payload", "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.flags.ack"]
cmd = ["tshark", "-r", sys.argv[1], "-n", "-Y", "tcp", "-T", "fields", "-E", "separator=\t",
       "-o", "tcp.desegment_tcp_streams:FALSE"]
for f in fields:
    cmd += ["-e", f]
out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
streams = {}
for line in out.splitlines():
    parts = line.split("\t")
    if len(parts) < len(fields):
        continue
    frame, epoch, stream, src4, src6, sport, seq, tlen, syn, fin, rst, payload, dst4, dst6, dport, ack = parts[:16]
    src = (src4 or src6).split(",")[-1] + ":" + sport
    dst = (dst4 or dst6).split(",")[-1] + ":" + dport
    st = streams.setdefault(stream, {"client": None, "next": {}})
    if st["client"] is None:
        # The SYN sender is the client (a SYN-ACK's receiver); else the first talker.
        synack = syn in ("1", "True") and ack in ("1", "True")
        st["client"] = dst if synack else src
    d = 0 if src == st["client"] else 1
    seq = int(seq or 0)
    n = int(tlen or 0)
    syn_b = syn in ("1", "True")
    if syn_b:
        st["next"][d] = (seq + 1) & 0xFFFFFFFF
    frame0 = int(frame) - 1
    if n > 0:
        data = bytes.fromhex(payload.replace(":", ""))
        cut = max(0, n - len(data))  # bytes lost to the snaplen
        expected = st["next"].get(d)
        if expected is None:
            expected = seq
        delta = (seq - expected) & 0xFFFFFFFF
        if delta >= 0x80000000:  # starts before expected: retransmission/overlap
            skip = (expected - seq) & 0xFFFFFFFF
            data = data[skip:]
        elif delta > 0:
            print(stream, frame0, epoch, "g", d, delta)
        if data:
            print(stream, frame0, epoch, "d", d, data.hex())
        if cut:
            print(stream, frame0, epoch, "g", d, cut)
        st["next"][d] = (seq + n) & 0xFFFFFFFF
    if fin in ("1", "True"):
        print(stream, frame0, epoch, "f", d, 0)
    if rst in ("1", "True"):
        print(stream, frame0, epoch, "r", d, 0)
