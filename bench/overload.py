"""Overload: throughput, read latency and the share shed as 2 → 256 clients press one gateway.

    python bench/overload.py [--clients 2,8,32,128,256] [--seconds 6] [--workers 2]

Starts `gateway serve` (gunicorn, the embedded default with the demo district, in a temporary data
directory) twice in the same run and drives the same mixed load against each:

- **admission** — admission control on: `MAX_IN_FLIGHT=4` requests per process and 32 threads, a
  bounded wait behind them, 429 + Retry-After beyond;
- **queueing** — the default: `MAX_IN_FLIGHT=0` and 4 threads per worker, so every request waits
  its turn, however long that is.

Each client is a thread with its own keep-alive connection that reads OneRoster `/users?limit=100`
and Ed-Fi `/students?limit=25` in turn, as fast as it is answered; a client told 429 waits the
`Retry-After` it was given (capped at 0.25 s so the bench stays short) and tries again. Printed per
level: answered requests/s (2xx), p50 and p99 of the 2xx reads, the share answered 429, and other
failures. The two modes are measured in the same run on the same data, so compare them, not the
absolutes (the load generator shares the machine's cores with the server).
"""

from __future__ import annotations

import argparse
import http.client
import os
import tempfile
import threading
import time

from serve_common import ROOT, Server, in_threads, percentile

PATHS = ("/ims/oneroster/v1p1/users?limit=100", "/data/v3/ed-fi/students?limit=25")


def drive(port: int, bearer: str, clients: int, seconds: float) -> dict[str, float]:
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "shed": 0, "failed": 0}
    headers = {"Authorization": "Bearer " + bearer}

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        ok = shed = failed = 0
        i = index
        while time.monotonic() < stop_at:
            path = PATHS[i % len(PATHS)]
            i += 1
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            elapsed = time.perf_counter() - start
            if response.status == 200:
                ok += 1
                mine.append(elapsed)
            elif response.status == 429:
                shed += 1
                time.sleep(min(float(response.getheader("Retry-After") or 1), 0.25))
            else:
                failed += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["shed"] += shed
            counts["failed"] += failed

    wall = in_threads(client, clients)
    latencies.sort()
    total = counts["ok"] + counts["shed"] + counts["failed"]

    return {
        "rps": counts["ok"] / wall,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "shed": counts["shed"] / total if total else 0.0,
        "failed": counts["failed"],
    }


MODES = {
    "admission": {"MAX_IN_FLIGHT": "4", "GATEWAY_THREADS": "32"},
    "queueing": {"MAX_IN_FLIGHT": "0", "GATEWAY_THREADS": "4"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="2,8,32,128,256")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    os.chdir(ROOT)
    results: dict[str, dict[int, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="overload-bench-") as data_dir:
        for mode, extra in MODES.items():
            server = Server(data_dir, {**extra, "AUDIT_MODE": "async"}, args.workers)
            try:
                bearer = server.token("overload bench")
                drive(server.port, bearer, 2, 1.0)  # warm the workers' caches and pools
                results[mode] = {}
                for n in levels:
                    results[mode][n] = r = drive(server.port, bearer, n, args.seconds)
                    p50, p99 = r["p50"] * 1000, r["p99"] * 1000
                    print(
                        f"{mode:9} {n:4} clients: {r['rps']:7.1f} req/s  p50 {p50:7.1f} ms"
                        f"  p99 {p99:8.1f} ms  429 {r['shed']:6.1%}  failed {r['failed']}",
                        flush=True,
                    )
            finally:
                server.stop()
    print("\nadmission vs queueing, same run (throughput ratio, p99 ratio):")
    for n in levels:
        a, q = results["admission"][n], results["queueing"][n]
        print(
            f"  {n:4} clients: throughput {a['rps'] / q['rps']:.2f}×,"
            f" p99 {a['p99'] / q['p99']:.2f}×"
            f" ({a['p99'] * 1000:.0f} ms vs {q['p99'] * 1000:.0f} ms),"
            f" {a['shed']:.1%} answered 429"
        )


if __name__ == "__main__":
    main()
