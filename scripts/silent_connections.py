#!/usr/bin/env python3
"""Opens N connections to a fresh `deskterm serve` that never send a byte,
then times one real request and counts the server's open files and memory.

    python3 scripts/silent_connections.py 15000 target/release/deskterm 18080

The server must keep answering real requests however many silent
connections arrive: it caps its connections and closes the oldest silent one
to make room.
"""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def main() -> None:
    n, binary, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="deskterm-flood-")
    db = os.path.join(work, "helpdesk.db")
    token = subprocess.run(
        [binary, "operator", "add", "--db", db, "--name", "Ana", "--email", "ana@example.com"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [binary, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    try:
        server.stdout.readline()  # "listening on …"

        def real_request():
            start = time.monotonic()
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/me",
                headers={"Authorization": f"Bearer {token}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    resp.read()
                    outcome = resp.status
            except Exception as e:  # the point is to report it
                outcome = repr(e)
            return outcome, round((time.monotonic() - start) * 1000, 1)

        print("real request before, (status, ms):", real_request())
        silent = []
        start = time.monotonic()
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            silent.append(s)
        time.sleep(2)
        fds = len(os.listdir(f"/proc/{server.pid}/fd"))
        print(f"{n} silent connections opened in {time.monotonic() - start:.1f} s; server open files: {fds}")
        print("real request during, (status, ms):", real_request())
        with open(f"/proc/{server.pid}/status") as status:
            print(next(line.strip() for line in status if line.startswith("VmRSS")))
        for s in silent:
            s.close()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
