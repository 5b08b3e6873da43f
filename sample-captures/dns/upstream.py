#!/usr/bin/env python3
"""A small authoritative DNS server for the sample captures, on UDP and TCP
of ADDR:PORT. Names under .test decide the answer:
  ok.test      A 192.0.2.1 after 30 ms
  slow.test    A 192.0.2.2 after 1.5 s (the client retransmits meanwhile)
  nx.test      NXDOMAIN
  fail.test    SERVFAIL
  drop.test    never answered
  big.test     over UDP: TC set, no answers; over TCP: 40 A records
anything else  REFUSED
Usage: upstream.py ADDR PORT"""
import socket, struct, sys, threading, time

def parse_question(msg):
    at, labels = 12, []
    while msg[at]:
        n = msg[at]
        labels.append(msg[at + 1:at + 1 + n].decode())
        at += 1 + n
    qtype, qclass = struct.unpack("!HH", msg[at + 1:at + 5])
    return ".".join(labels).lower(), msg[12:at + 5], qtype

def a_record(ip):
    return b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)

def answer(msg, tcp):
    qid, flags = struct.unpack("!HH", msg[:4])
    name, question, qtype = parse_question(msg)
    rd = flags & 0x0100
    rcode, records, tc = 0, [], 0
    if name == "ok.test":
        time.sleep(0.03)
        records = [a_record("192.0.2.1")] if qtype == 1 else []
    elif name == "slow.test":
        time.sleep(1.5)
        records = [a_record("192.0.2.2")] if qtype == 1 else []
    elif name == "nx.test":
        rcode = 3
    elif name == "fail.test":
        rcode = 2
    elif name == "drop.test":
        return None
    elif name == "big.test":
        if tcp:
            records = [a_record("198.51.100.%d" % i) for i in range(1, 41)]
        else:
            tc = 0x0200
    else:
        rcode = 5
    flags = 0x8000 | 0x0400 | tc | rd | rcode
    head = struct.pack("!HHHHHH", qid, flags, 1, len(records), 0, 0)
    return head + question + b"".join(records)

def serve_udp(sock):
    while True:
        msg, peer = sock.recvfrom(4096)
        def reply(msg=msg, peer=peer):
            out = answer(msg, False)
            if out is not None:
                sock.sendto(out, peer)
        threading.Thread(target=reply, daemon=True).start()

def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        def handle(conn=conn):
            with conn:
                while True:
                    head = conn.recv(2, socket.MSG_WAITALL)
                    if len(head) < 2:
                        return
                    msg = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
                    out = answer(msg, True)
                    if out is not None:
                        conn.sendall(struct.pack("!H", len(out)) + out)
        threading.Thread(target=handle, daemon=True).start()

addr, port = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr, port))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, port))
t.listen(16)
threading.Thread(target=serve_tcp, args=(t,), daemon=True).start()
serve_udp(u)
