"""The real `omtanke` command line, run as a process the way people and scripts use it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OMTANKE = REPO_ROOT / ".venv" / "bin" / "omtanke"
EXAMPLE_RUG_MEMBERS = REPO_ROOT / "knowledge" / "data" / "rug_members.example.json"


def omtanke_command() -> list[str]:
    """The installed `omtanke` script, or the same entry point through this interpreter."""
    if OMTANKE.is_file():
        return [str(OMTANKE)]
    return [sys.executable, "-m", "bot"]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the command line: no app id, a private data folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OMTANKE_", "Microsoft")) and key != "PORT"
    }
    env["OMTANKE_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_omtanke(
    args: list[str], data_dir: Path, stdin: str = "", timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `omtanke ARGS` to the end and capture its output."""
    return subprocess.run(
        [*omtanke_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(data_dir, **env),
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthz(port: int) -> dict[str, Any] | None:
    """GET /healthz on 127.0.0.1 once; None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            payload: dict[str, Any] = json.loads(response.read())
            return payload
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_healthy(
    process: subprocess.Popen[Any], port: int, seconds: float
) -> dict[str, Any] | None:
    """Poll /healthz until it answers, the process exits or the deadline passes."""
    health = None
    deadline = time.monotonic() + seconds
    while health is None and time.monotonic() < deadline and process.poll() is None:
        health = healthz(port)
        if health is None:
            time.sleep(0.05)
    return health
