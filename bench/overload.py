"""Overload: throughput, read latency and the share shed as 2 → 256 clients press one gateway.

    python bench/overload.py [--clients 2,8,32,128,256] [--seconds 6] [--rounds 1] [--workers 2]
                             [--slots 4] [--impatient SECONDS]

Starts two `gateway serve` (gunicorn, the embedded default with the demo district, each in a
temporary data directory of its own) and drives the same mixed load against each, the two
interleaved level by level (`--rounds` times, the order alternating; the rounds pooled), so both
see the same machine:

- **admission** — admission control on (`MAX_IN_FLIGHT`, 4 unless `--slots`) with its default
  thread count (slots + `MAX_QUEUED` + 8 spares): a bounded wait for a slot, 429 + Retry-After
  beyond;
- **queueing** — admission control off and 4 threads per worker: every request waits its turn,
  however long that is.

Each client is a thread with its own keep-alive connection that reads OneRoster `/users?limit=100`
and Ed-Fi `/students?limit=25` in turn, as fast as it is answered; a client told 429 waits the
`Retry-After` it was given (RFC 9110: at least that long; here 1 to 1.5 times it, so that refused
clients do not all come back at once) and tries again; with `--impatient S`, after S seconds
whatever Retry-After says (a client that ignores it). Only answers received within the run's
window count (a client's last pause is cut at its end). Printed per level and mode: served reads
per second (2xx), p50 and p99 of the served reads, p99 of every answer (429s included), the share
answered 429, other failures; then the ratios admission / queueing. The load generator shares the
machine's cores with the servers: compare the two modes, not the absolutes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import tempfile
import threading
import time
from typing import Any

from serve_common import ROOT, Server, in_threads, percentile

PATHS = ("/ims/oneroster/v1p1/users?limit=100", "/data/v3/ed-fi/students?limit=25")


def drive(
    port: int, bearer: str, clients: int, seconds: float, impatient: float = 0.0
) -> dict[str, Any]:
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    served: list[float] = []
    answered: list[float] = []
    counts = {"ok": 0, "shed": 0, "failed": 0}
    headers = {"Authorization": "Bearer " + bearer}

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        ok_times: list[float] = []
        all_times: list[float] = []
        shed = failed = 0
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
            if time.monotonic() > stop_at:
                break  # answered after the window: not counted
            all_times.append(elapsed)
            if response.status == 200:
                ok_times.append(elapsed)
            elif response.status == 429:
                shed += 1
                retry_after = float(response.getheader("Retry-After") or 1)
                pause = impatient or retry_after * random.uniform(1.0, 1.5)
                time.sleep(max(0.0, min(pause, stop_at - time.monotonic())))
            else:
                failed += 1
        conn.close()
        with lock:
            served.extend(ok_times)
            answered.extend(all_times)
            counts["ok"] += len(ok_times)
            counts["shed"] += shed
            counts["failed"] += failed

    in_threads(client, clients)
    return {"seconds": seconds, "served": served, "answered": answered, **counts}


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    """The runs of one mode and level pooled: reads served within the runs' windows per second,
    percentiles over all their answers."""
    served = sorted(t for run in runs for t in run["served"])
    answered = sorted(t for run in runs for t in run["answered"])
    ok, shed, failed = (sum(run[k] for run in runs) for k in ("ok", "shed", "failed"))
    total = ok + shed + failed
    return {
        "rps": ok / sum(run["seconds"] for run in runs),
        "p50": percentile(served, 0.50),
        "p99": percentile(served, 0.99),
        "p99_all": percentile(answered, 0.99),
        "shed": shed / total if total else 0.0,
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="2,8,32,128,256")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=4, help="MAX_IN_FLIGHT of the admission run")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each level, pooled")
    parser.add_argument("--impatient", type=float, default=0, metavar="S", help="429: retry in S s")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    modes = {
        "admission": {"MAX_IN_FLIGHT": str(args.slots)},
        "queueing": {"MAX_IN_FLIGHT": "0", "GATEWAY_THREADS": "4"},
    }
    os.chdir(ROOT)
    results: dict[str, dict[int, dict[str, float]]] = {mode: {} for mode in modes}
    servers: dict[str, Server] = {}
    bearers: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="overload-bench-") as tmp:
        try:
            os.environ.pop("GATEWAY_THREADS", None)  # admission runs its default thread count
            for mode, extra in modes.items():
                env = {**extra, "AUDIT_MODE": "async"}
                servers[mode] = Server(os.path.join(tmp, mode), env, args.workers)
                bearers[mode] = servers[mode].token("overload bench")
                drive(servers[mode].port, bearers[mode], 2, 1.0)  # warm caches and pools
            for n in levels:
                runs: dict[str, list[dict]] = {mode: [] for mode in modes}
                for k in range(args.rounds):
                    # ABBA: neither mode always goes first
                    for mode in list(modes) if k % 2 == 0 else list(reversed(modes)):
                        runs[mode].append(
                            drive(
                                servers[mode].port, bearers[mode], n, args.seconds, args.impatient
                            )
                        )
                for mode in modes:
                    results[mode][n] = r = summary(runs[mode])
                    print(
                        f"{mode:9} {n:4} clients: {r['rps']:7.1f} served/s"
                        f"  p50 {r['p50'] * 1000:7.1f} ms  p99 {r['p99'] * 1000:7.1f} ms"
                        f"  p99 all {r['p99_all'] * 1000:7.1f} ms  429 {r['shed']:6.1%}"
                        f"  failed {r['failed']}",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                server.stop()
    peak = max(r["rps"] for r in results["queueing"].values())
    print(f"\nadmission vs queueing, same run (queueing's peak: {peak:.1f} served/s):")
    for n in levels:
        a, q = results["admission"][n], results["queueing"][n]
        print(
            f"  {n:4} clients: throughput {a['rps'] / q['rps']:.2f}× ({a['rps'] / peak:.2f}×"
            f" queueing's peak), served p99 {a['p99'] / q['p99']:.2f}×"
            f" ({a['p99'] * 1000:.0f} ms vs {q['p99'] * 1000:.0f} ms),"
            f" p99 of all answers {a['p99_all'] * 1000:.0f} ms vs {q['p99_all'] * 1000:.0f} ms,"
            f" {a['shed']:.1%} answered 429"
        )


if __name__ == "__main__":
    main()
