"""HTTP/2 frames for the sample scripts (slow_reader.py,
slow_upload_server.py): building a frame, a WINDOW_UPDATE, and reading
frames off a socket."""


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def window_update(stream, n):
    return frame(8, 0, stream, n.to_bytes(4, "big"))


def read_frames(sock):
    """(type, flags, stream id, payload) of each frame until the peer closes."""
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            yield buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + n]
            buf = buf[9 + n:]
