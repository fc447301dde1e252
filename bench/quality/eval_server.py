"""Scores sweep candidates for `sparkmerge sweep --eval` without a new torch process per candidate.

The harness starts a ValidationServer (a thread on 127.0.0.1 holding the data splits); the eval command
`python3 eval_client.py PORT {model}` (no torch import: fast) sends the candidate's path and prints the
server's answer, one JSON object: {"score": mean validation accuracy over the tasks, "<task>": accuracy}.
Selection therefore sees the validation split only.
"""
import json
import os
import socketserver
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo  # noqa: E402


class ValidationServer:
    def __init__(self, splits, tasks):
        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                path = self.rfile.readline().decode().strip()
                try:
                    acc = {t: zoo.evaluate(zoo.load(path), *splits[t]["val"])[0] for t in tasks}
                    answer = {"score": sum(acc.values()) / len(acc), **acc}
                except Exception as e:  # the client exits non-zero: the candidate is marked failed
                    answer = {"error": f"{type(e).__name__}: {e}"}
                self.wfile.write((json.dumps(answer) + "\n").encode())

        # one request at a time: the sweep evaluates its candidates one after the other
        self.server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def command(self, python="/usr/bin/python3"):
        """The --eval command line for this server."""
        client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval_client.py")
        return f"{python} {client} {self.port} {{model}}"
