#!/usr/bin/env python3
"""A Flask app whose GET /hello sleeps 2 s: the server is the one waiting.

Usage: flask_slow.py PORT
"""
import sys
import time

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    time.sleep(2)
    return "hello after 2 s\n"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
