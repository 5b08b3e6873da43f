#!/usr/bin/env python3
"""Writes FILE.truth.json next to each sample capture: tshark's view of its
conversations and HTTP exchanges, in the layout of ../shared/corpus's truth
files (a subset: tcp_streams, udp_streams, http_exchanges), so the tests
compare against tshark without needing tshark at test time.

Usage: truth.py FILE...   (needs tshark)
"""
import json
import subprocess
import sys

DECODE = ["-d", "tcp.port==8081,http", "-d", "tcp.port==5000,http"]


def fields(path, names, display=None):
    cmd = ["tshark", "-n", "-r", path, *DECODE, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    if display:
        cmd += ["-Y", display]
    for n in names:
        cmd += ["-e", n]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return [dict(zip(names, line.split("\t"))) for line in out.splitlines()]


def streams(frames, key, proto):
    out = {}
    for f in frames:
        if not f.get(key):
            continue
        sid = int(f[key].split(",")[0])
        src = (f["ip.src"] or f["ipv6.src"]).split(",")[-1]
        sport = int(f[f"{proto}.srcport"].split(",")[0])
        s = out.get(sid)
        if s is None:
            dst = (f["ip.dst"] or f["ipv6.dst"]).split(",")[-1]
            s = out[sid] = {"stream": sid, "a": src, "a_port": sport, "b": dst,
                            "b_port": int(f[f"{proto}.dstport"].split(",")[0]),
                            "frames_a_to_b": 0, "bytes_a_to_b": 0, "frames_b_to_a": 0, "bytes_b_to_a": 0,
                            "epochs": []}
        d = "a_to_b" if (src, sport) == (s["a"], s["a_port"]) else "b_to_a"
        s[f"frames_{d}"] += 1
        s[f"bytes_{d}"] += int(f["frame.len"])
        s["epochs"].append(f["frame.time_epoch"])
    rows = []
    for sid in sorted(out):
        s = out.pop(sid)
        ep = sorted(s.pop("epochs"), key=float)
        s["first_epoch"] = ep[0]
        s["last_epoch"] = ep[-1]
        s["duration"] = round(float(ep[-1]) - float(ep[0]), 9)
        rows.append(s)
    return rows


def main(path):
    names = ["frame.number", "frame.time_epoch", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
             "tcp.srcport", "tcp.dstport", "tcp.stream", "udp.srcport", "udp.dstport", "udp.stream"]
    frames = fields(path, names)
    epoch = {f["frame.number"]: f["frame.time_epoch"] for f in frames}
    reqs = fields(path, ["frame.number", "tcp.stream", "http.request.method", "http.request.uri", "http.host", "tcp.segment"], "http.request")
    resps = fields(path, ["frame.number", "tcp.stream", "http.response.code", "http.time", "http.request_in", "http.content_type", "tcp.segment"], "http.response")
    by_req = {r["http.request_in"]: r for r in resps}
    exchanges = []
    for r in reqs:
        first = r["tcp.segment"].split(",")[0] if r["tcp.segment"] else r["frame.number"]
        resp = by_req.get(r["frame.number"])
        ex = {"tcp_stream": int(r["tcp.stream"]),
              "request": {"frame": int(r["frame.number"]), "epoch": epoch[r["frame.number"]],
                          "first_segment_epoch": epoch[first], "method": r["http.request.method"],
                          "uri": r["http.request.uri"], "host": r["http.host"] or None},
              "response": None}
        if resp:
            rfirst = resp["tcp.segment"].split(",")[0] if resp["tcp.segment"] else resp["frame.number"]
            ex["response"] = {"frame": int(resp["frame.number"]), "epoch": epoch[resp["frame.number"]],
                              "first_segment_epoch": epoch[rfirst], "code": int(resp["http.response.code"]),
                              "http_time": float(resp["http.time"]) if resp["http.time"] else None,
                              "content_type": resp["http.content_type"] or None}
        exchanges.append(ex)
    truth = {"file": path, "packet_count": len(frames),
             "tcp_streams": streams(frames, "tcp.stream", "tcp"),
             "udp_streams": streams(frames, "udp.stream", "udp"),
             "http_exchanges": exchanges}
    with open(path + ".truth.json", "w") as fh:
        json.dump(truth, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        main(p)
