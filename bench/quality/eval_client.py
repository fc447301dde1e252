"""`sparkmerge sweep --eval` command of the quality benchmark: asks the harness's ValidationServer
(eval_server.py) to score the model at argv[2] and prints its JSON answer; exits 1 on an error answer."""
import json
import socket
import sys

with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as s:
    s.sendall((sys.argv[2] + "\n").encode())
    answer = s.makefile().readline()
print(answer.strip())
sys.exit(0 if "score" in json.loads(answer) else 1)
