"""Start-up time and memory per worker: this tree against another version (default: the commit
before all of DS5 was served, issue 16), side by side in one run.

    .venv/bin/python bench/startup.py [--vs REF]

For each version: a fresh data directory → `gateway serve --workers 1` → first /health (initdb,
migrations, descriptors and the demo district: the first `make run`); the worker's RSS then, and
after one GET of every resource collection the version serves (each resource's statements built
once); a restart on the same data directory → /health (what every later start costs). Prints both
and the ratio this/other; the machine is shared, so only the ratios mean much.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from serve_common import ROOT, Server

BEFORE_DS5 = "5da4b9e"  # main before "Serve every DS5 resource"


def worker_rss_mb(server: Server) -> float:
    """The gunicorn worker's resident set (the serve process's grandchildren or children)."""
    pids = [server.proc.pid]
    found = []
    while pids:
        pid = pids.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
        found += [int(c) for c in children]
    best = 0.0
    for pid in found:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"postgres" in cmd or b"dynamo" in cmd:
            continue
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        best = max(best, rss / 1024)
    return best


def touch_every_resource(server: Server) -> int:
    token = server.token("startup-bench")
    conn = server.connection()
    conn.request("GET", "/metadata/data/v3/resources/swagger.json")
    paths = json.loads(conn.getresponse().read())["paths"]
    collections = sorted(p for p in paths if p.count("/") == 2)
    for path in collections:
        conn.request("GET", f"/data/v3{path}?limit=1", headers={"Authorization": "Bearer " + token})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, (path, response.status)
    return len(collections)


def measure(root: Path, data_dir: str) -> dict:
    began = time.monotonic()
    server = Server(data_dir, workers=1, root=root)
    first = time.monotonic() - began
    idle = worker_rss_mb(server)
    served = touch_every_resource(server)
    touched = worker_rss_mb(server)
    server.stop()
    began = time.monotonic()
    server = Server(data_dir, workers=1, root=root)
    restart = time.monotonic() - began
    server.stop()
    return dict(first=first, restart=restart, idle=idle, touched=touched, served=served)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vs", default=BEFORE_DS5, help="git ref of the other version")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        other = Path(tmp) / "other"
        other.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.vs], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(other)], input=archive, check=True)
        results = {
            args.vs: measure(other, f"{tmp}/data-other"),
            "this tree": measure(ROOT, f"{tmp}/data-this"),
        }
    print(f"{'':12} {'resources':>9} {'first start s':>13} {'restart s':>9} "
          f"{'worker MB idle':>14} {'after a GET of each':>19}")  # fmt: skip
    for label, r in results.items():
        print(f"{label:12} {r['served']:>9} {r['first']:>13.1f} {r['restart']:>9.1f} "
              f"{r['idle']:>14.0f} {r['touched']:>19.0f}")  # fmt: skip
    a, b = results["this tree"], results[args.vs]
    print(f"{'ratio':12} {a['served'] / b['served']:>9.2f} {a['first'] / b['first']:>13.2f} "
          f"{a['restart'] / b['restart']:>9.2f} {a['idle'] / b['idle']:>14.2f} "
          f"{a['touched'] / b['touched']:>19.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
