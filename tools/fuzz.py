"""Fuzz a running gateway with schemathesis over its OpenAPI documents; count cases and 5xx.

    make fuzz      # a gateway on a fresh data dir (PORT, default 8130): fuzz it, stop it
    .venv/bin/python tools/fuzz.py --base-url http://127.0.0.1:8080 --key K --secret S

Documents: the gateway's /openapi.json (OAuth, profiles, OneRoster, health …) and the Ed-Fi
resources and descriptors swagger under /metadata/. Every request and answer is recorded (HAR) in
--out; the summary counts them and lists each distinct (method, path, status) that answered 5xx.
Exit status 1 when any 5xx was seen. Needs the `fuzz` extra: pip install -e '.[fuzz]'.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import requests

# name → (document, the API root its paths are relative to, the paths fuzzed). Every descriptor is
# served by the same code, so a few stand for the ~200 (1,000 operations) of the document.
DOCUMENTS = {
    "openapi": ("/openapi.json", "", ""),
    "edfi-resources": ("/metadata/data/v3/resources/swagger.json", "/data/v3", ""),
    "edfi-descriptors": (
        "/metadata/data/v3/descriptors/swagger.json",
        "/data/v3",
        "^/ed-fi/(gradeLevel|academicSubject|sex|disabilityDesignation)Descriptors",
    ),
}
BIN = Path(sys.executable).parent
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def start_gateway(port: int, data_dir: Path) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "GATEWAY_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    log = open(data_dir / "serve.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [str(BIN / "gateway"), "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"error: the gateway exited; see {data_dir / 'serve.log'}")
        try:
            if requests.get(base + "/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(2)
    else:
        raise SystemExit("error: the gateway did not answer /health within 600 s")
    created = subprocess.run(
        [str(BIN / "gateway"), "clients", "create", "--name", "fuzz", "--all-organizations"]
        + ["--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    client = json.loads(created.stdout.strip().splitlines()[-1])
    return process, client["key"], client["secret"]


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def token(base: str, key: str, secret: str) -> str:
    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    answer = requests.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def fuzz(base: str, bearer: str, name: str, out: Path, args: argparse.Namespace) -> Path:
    har = out / f"{name}.har"
    document, root, paths = DOCUMENTS[name]
    command = [
        str(BIN / "schemathesis"),
        "run",
        base + document,
        "--url",
        base + root,
        "-H",
        f"Authorization: Bearer {bearer}",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--request-timeout",
        "60",
        "--phases",
        args.phases,
        "--suppress-health-check",
        "all",
        "--report",
        "har",
        "--report-har-path",
        str(har),
    ]
    if args.include_path_regex or paths:
        command += ["--include-path-regex", args.include_path_regex or paths]
    if args.max_time:
        command += ["--max-time", str(args.max_time)]
    with open(out / f"{name}.log", "w") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    return har


def summarise(har: Path) -> tuple[int, Counter]:
    if not har.exists():
        return 0, Counter()
    entries = json.loads(har.read_text())["log"]["entries"]
    errors: Counter = Counter()
    for entry in entries:
        status = entry["response"]["status"]
        if status >= 500:
            path = UUID.sub("{id}", urlsplit(entry["request"]["url"]).path)
            errors[(entry["request"]["method"], path, status)] += 1
    return len(entries), errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="a running gateway (else one is started)")
    parser.add_argument("--key"), parser.add_argument("--secret")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8130)))
    parser.add_argument("--out", type=Path, default=Path("fuzz-report"))
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--max-time", type=int, default=0, help="seconds per document (0: none)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--include-path-regex", help="fuzz only matching paths")
    parser.add_argument("--documents", default=",".join(DOCUMENTS), help="comma-separated")
    args = parser.parse_args()
    if shutil.which("schemathesis", path=str(BIN)) is None:
        raise SystemExit("error: schemathesis is not installed; pip install -e '.[fuzz]'")
    args.out.mkdir(parents=True, exist_ok=True)
    process = data_dir = None
    if args.base_url:
        base, key, secret = args.base_url.rstrip("/"), args.key, args.secret
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="gateway-fuzz-"))
        process, key, secret = start_gateway(args.port, data_dir)
        base = f"http://127.0.0.1:{args.port}"
    try:
        bearer = token(base, key, secret)
        total_cases, total_errors = 0, Counter()
        for name in args.documents.split(","):
            started = time.time()
            har = fuzz(base, bearer, name, args.out, args)
            cases, errors = summarise(har)
            total_cases += cases
            total_errors += errors
            print(
                f"{name}: {cases} cases, {sum(errors.values())} answered 5xx "
                f"({len(errors)} distinct), {time.time() - started:.0f} s"
            )
        for (method, path, status), count in sorted(total_errors.items()):
            print(f"  {status} {method} {path} ×{count}")
        print(f"total: {total_cases} cases, {sum(total_errors.values())} answered 5xx")
        return 1 if total_errors else 0
    finally:
        if process is not None:
            stop(process)
            print(f"gateway log: {data_dir / 'serve.log'}")


if __name__ == "__main__":
    sys.exit(main())
