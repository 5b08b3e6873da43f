#!/usr/bin/env python3
"""A gRPC call that runs past its deadline, for the h2 sample captures
(grpcio, no generated code: raw bytes in and out).

  grpc_deadline.py serve PORT   # demo.Deadline/{Quick,Slow}
  grpc_deadline.py call PORT    # Quick within 2 s; Slow (the server
                                # takes 1 s) with a 500 ms deadline
"""
import sys
import time
from concurrent import futures

import grpc


def quick(request, context):
    return b"on time " + request


def slow(request, context):
    time.sleep(1.0)
    return b"too late"


def serve(port):
    ident = dict(request_deserializer=None, response_serializer=None)
    handlers = {
        "Quick": grpc.unary_unary_rpc_method_handler(quick, **ident),
        "Slow": grpc.unary_unary_rpc_method_handler(slow, **ident),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("demo.Deadline", handlers),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


def call(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        print(channel.unary_unary("/demo.Deadline/Quick")(b"x", timeout=2))
        try:
            channel.unary_unary("/demo.Deadline/Slow")(b"x", timeout=0.5)
        except grpc.RpcError as e:
            print("Slow", e.code())
        # The server's late answer, if any, crosses the client's cancel.
        time.sleep(1.5)


if __name__ == "__main__":
    {"serve": serve, "call": call}[sys.argv[1]](int(sys.argv[2]))
