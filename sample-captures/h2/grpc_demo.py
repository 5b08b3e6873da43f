#!/usr/bin/env python3
"""A tiny gRPC service and its client for the h2 sample captures (grpcio,
no generated code: raw bytes in and out).

  grpc_demo.py serve PORT    # demo.Echo/{Say,Fail,Slow,Many}
  grpc_demo.py call PORT     # a unary call, an UNAVAILABLE error, a
                             # deadline exceeded, a server stream of 3
"""
import sys
import time
from concurrent import futures

import grpc


def say(request, context):
    return b"hello " + request


def fail(request, context):
    context.abort(grpc.StatusCode.UNAVAILABLE, "backend down for maintenance")


def slow(request, context):
    time.sleep(1.0)
    return b"late"


def many(request, context):
    for i in range(3):
        yield b"part %d" % i


def serve(port):
    ident = dict(request_deserializer=None, response_serializer=None)
    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say, **ident),
        "Fail": grpc.unary_unary_rpc_method_handler(fail, **ident),
        "Slow": grpc.unary_unary_rpc_method_handler(slow, **ident),
        "Many": grpc.unary_stream_rpc_method_handler(many, **ident),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("demo.Echo", handlers),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


def call(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        print(channel.unary_unary("/demo.Echo/Say")(b"world", timeout=5))
        for name, timeout in (("Fail", 5), ("Slow", 0.3)):
            try:
                channel.unary_unary(f"/demo.Echo/{name}")(b"x", timeout=timeout)
            except grpc.RpcError as e:
                print(name, e.code())
        print(list(channel.unary_stream("/demo.Echo/Many")(b"go", timeout=5)))


if __name__ == "__main__":
    {"serve": serve, "call": call}[sys.argv[1]](int(sys.argv[2]))
