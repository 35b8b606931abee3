#!/usr/bin/env python3
"""Wall-clock timer lateness: how late a due timer turns into a decision on a live engine.

Against an engine started with `--clock wall` and a short abandoned-cart delay (a scenarios file with
`"delay": "00:00:10"` and a policy file with a short `arbitrationWindow`), this sends one cart per fresh customer
at a steady rate (each customer consents to email first), stamped with the wall clock. Each cart's reminder is
due at `timestamp + delay`, and its decision at `due + arbitrationWindow`. It then reads the engine's NDJSON
decisions and reports how much later than that `decidedAt` is: p50, p99, max, and how many never came.
Other load (for example the replayer at half rate, `--no-watermark`) can run at the same time.

  perf/timer-lateness.py --url http://127.0.0.1:5490 --decisions DATA/decisions.ndjson \
      --delay 10 --window 5 --carts 2000 --rate 50
"""
import argparse
import datetime as dt
import json
import os
import sys
import threading
import time
import urllib.request
import base64


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def send(url, method, path, body, auth):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json", "Authorization": auth})
    for attempt in range(20):
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as e:
            if e.code in (429, 503):
                time.sleep(float(e.headers.get("Retry-After", "1")))
                continue
            raise
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{method} {path} kept failing")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--decisions", required=True, help="the engine's decisions.ndjson")
    ap.add_argument("--delay", type=float, default=10, help="abandoned_cart delay configured in the engine, seconds")
    ap.add_argument("--window", type=float, default=5, help="arbitrationWindow configured in the engine, seconds")
    ap.add_argument("--carts", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=50, help="carts per second")
    ap.add_argument("--write-key", default="dev-write-key")
    ap.add_argument("--admin-key", default="dev-admin-key")
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()

    basic = "Basic " + base64.b64encode((a.write_key + ":").encode()).decode()
    bearer = "Bearer " + a.admin_key
    run = dt.datetime.now(dt.timezone.utc).strftime("%H%M%S")
    ids = [f"tl-{run}-{i}" for i in range(a.carts)]
    due = {}
    lock = threading.Lock()
    start = time.monotonic()

    def worker(k):
        for i in range(k, a.carts, a.threads):
            wait = start + i / a.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            cid = ids[i]
            now = dt.datetime.now(dt.timezone.utc)
            send(a.url, "PUT", f"/v1/consent/{cid}", {"channels": {"email": True},
                 "purposes": {"cart_reminders": True, "promotions": True}, "updatedAt": iso(now)}, bearer)
            ts = dt.datetime.now(dt.timezone.utc)
            send(a.url, "POST", "/v1/track", {"type": "track", "userId": cid, "event": "Product Added",
                 "messageId": f"{cid}-add", "timestamp": iso(ts),
                 "properties": {"cart_id": f"{cid}-cart", "product_id": "tl-p1", "price": 10, "quantity": 1}}, basic)
            with lock:
                due[cid] = ts + dt.timedelta(seconds=a.delay + a.window)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent_s = time.monotonic() - start
    # Wait for the last decision to be due, plus a margin, then read what the engine decided.
    time.sleep(a.delay + a.window + 10)

    decided = {}
    with open(a.decisions, encoding="utf-8") as f:
        for line in f:
            if '"tl-' not in line:
                continue
            d = json.loads(line)
            cid = d.get("customerId")
            if cid in due and d.get("scenario") == "abandoned_cart" and cid not in decided:
                decided[cid] = parse(d["decidedAt"])
    late = sorted((decided[c] - due[c]).total_seconds() * 1000 for c in decided)
    missing = len(due) - len(decided)

    def pct(p):
        return late[min(len(late) - 1, int(p * len(late)))] if late else float("nan")

    print(f"carts {len(due)} in {sent_s:.1f} s ({len(due) / sent_s:.1f}/s), delay {a.delay:g} s + window {a.window:g} s")
    print(f"timer lateness (decidedAt - due): p50 {pct(0.5):.0f} ms  p99 {pct(0.99):.0f} ms  max {late[-1] if late else float('nan'):.0f} ms"
          f"  min {late[0] if late else float('nan'):.0f} ms; decided {len(decided)}, missing {missing}")
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
