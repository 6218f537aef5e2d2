#!/usr/bin/env python3
"""How long a change takes to reach live streams: through the server that
made it, and through another server on the same PostgreSQL database.

    scripts/fanout-latency.py --writer http://127.0.0.1:8081 \
        --reader http://127.0.0.1:8082 --token-file TOKEN [--count 300] [--rate 20]

Opens `/api/v1/events` on both servers, then creates `--count` tickets
through the writer at `--rate` per second (contact 1), and reports, for
each stream, the time from sending the request to the change's arrival
(p50, p99, max, in ms). Standard library only.
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse


def stream(base, token, arrivals, ready, stop):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("GET", "/api/v1/events", headers={
        "Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    response = conn.getresponse()
    if response.status != 200:
        sys.exit(f"{base}: /events answered {response.status}")
    ready.set()
    data = []
    while not stop.is_set():
        line = response.readline()
        if not line:
            return
        line = line.decode().rstrip("\n")
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif line == "" and data:
            now = time.monotonic()
            try:
                change = json.loads("\n".join(data))
                title = change.get("data", {}).get("title", "")
                if title.startswith("fanout "):
                    arrivals.setdefault(title, now)
            except ValueError:
                pass
            data = []


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--writer", required=True)
    p.add_argument("--reader", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--rate", type=float, default=20.0)
    a = p.parse_args()
    token = open(a.token_file).read().strip()
    stop = threading.Event()
    arrivals = {"writer": {}, "reader": {}}
    for name, base in (("writer", a.writer), ("reader", a.reader)):
        ready = threading.Event()
        threading.Thread(target=stream, args=(base, token, arrivals[name], ready, stop),
                         daemon=True).start()
        if not ready.wait(10):
            sys.exit(f"{base}: no stream")
    url = urllib.parse.urlsplit(a.writer)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    sent = {}
    run = f"{time.time():.0f}"
    for i in range(a.count):
        title = f"fanout {run} {i}"
        body = json.dumps({"title": title, "contact_id": 1})
        sent[title] = time.monotonic()
        conn.request("POST", "/api/v1/tickets", body=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            sys.exit(f"POST /tickets answered {r.status}")
        time.sleep(max(0.0, 1.0 / a.rate - (time.monotonic() - sent[title])))
    time.sleep(2)
    stop.set()
    for name in ("writer", "reader"):
        got = arrivals[name]
        ms = sorted((got[t] - sent[t]) * 1000 for t in sent if t in got)
        missing = len(sent) - len(ms)
        if not ms:
            print(f"{name}: nothing arrived")
            continue
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(f"{name} stream: {len(ms)} changes, missing {missing}, "
              f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms")


if __name__ == "__main__":
    main()
