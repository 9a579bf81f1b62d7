"""Processes, activities and statistics shared by the benchmarks (loopback only, bounded)."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TENANT = "9f0c2b8e-1d1a-4c6e-8f55-5d1f3c1a0001"
REQUEST_TIMEOUT = ClientTimeout(total=30)
_ids = itertools.count(1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def omtanke_command() -> list[str]:
    """`omtanke serve` as installed in the virtual environment (the real entry point)."""
    script = Path(PYTHON).parent / "omtanke"
    if script.is_file():
        return [str(script), "serve"]
    return [PYTHON, "-m", "bot", "serve"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any app id (authentication off) or Omtanke settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OMTANKE_", "Microsoft")) and key != "PORT"
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class Server:
    """One server process listening on 127.0.0.1:port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    started_at: float

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, name: str, command: Sequence[str], port: int, log_dir: Path,
              env: dict[str, str] | None = None, cwd: Path | None = None) -> Server:
        """Start the process (in `cwd`, default the repository); output goes to a log file."""
        log_path = log_dir / f"{name}-{port}.log"
        with log_path.open("wb") as log:
            started = time.monotonic()
            process = subprocess.Popen(
                list(command), cwd=cwd or REPO_ROOT, env=env or clean_env(), stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        return cls(name, process, port, log_path, started)

    async def wait_healthy(self, session: ClientSession, limit: float = 60.0) -> float:
        """Poll /healthz until it answers 200; return seconds since the process started."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}:\n{self.tail()}")
            try:
                async with session.get(f"{self.url}/healthz",
                                       timeout=ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return time.monotonic() - self.started_at
            except (ClientError, OSError, TimeoutError):
                pass
            await asyncio.sleep(0.01)
        raise RuntimeError(f"{self.name} not healthy after {limit}s; see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM (graceful: stores are closed), then kill if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Connector:
    """The fake Bot Connector process (benchmarks.connector)."""

    process: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls) -> Connector:
        """Start it and read the port it listens on."""
        process = subprocess.Popen(
            [PYTHON, "-m", "benchmarks.connector"], cwd=REPO_ROOT, env=clean_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        line = process.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "PORT":
            process.kill()
            raise RuntimeError(f"fake connector did not start: {line}")
        return cls(process, f"http://127.0.0.1:{line[1]}/")

    async def log(self, session: ClientSession) -> list[tuple[str, str | None, float]]:
        """Every message received: (conversation, replyToId, monotonic arrival)."""
        async with session.get(f"{self.url}_log", timeout=REQUEST_TIMEOUT) as response:
            return [tuple(row) for row in await response.json()]

    async def reset(self, session: ClientSession) -> None:
        """Forget the messages received so far."""
        async with session.post(f"{self.url}_reset", timeout=REQUEST_TIMEOUT) as response:
            await response.read()

    def stop(self) -> None:
        """Close its stdin (it exits), kill if needed."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def person(aad: str) -> dict[str, Any]:
    """A Teams user as it appears in activity.from."""
    return {"id": f"29:{aad}", "name": "Anna Andersson", "aadObjectId": aad}


def conversation_of(aad: str) -> str:
    """The personal-chat conversation id of a user."""
    return f"a:personal-{aad}"


def message(text: str, aad: str, service_url: str) -> dict[str, Any]:
    """A message activity as Teams posts it (same shape as tests/builders.teams_message)."""
    return {
        "type": "message",
        "id": f"msg-{next(_ids)}",
        "timestamp": "2026-11-22T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": person(aad),
        "conversation": {
            "id": conversation_of(aad),
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "recipient": {"id": "28:omtanke-bot", "name": "Omtanke"},
        "locale": "sv-SE",
        "channelData": {"tenant": {"id": TENANT}},
        "text": text,
    }


@dataclass
class Turn:
    """One measured request → response."""

    kind: str
    conversation: str
    activity_id: str
    status: int
    started: float
    ended: float
    error: str = ""

    @property
    def ms(self) -> float:
        """Latency in milliseconds."""
        return (self.ended - self.started) * 1000.0


async def post_turn(session: ClientSession, url: str, body: dict[str, Any], kind: str) -> Turn:
    """POST one activity to /api/messages and time it until the response body is read."""
    started = time.monotonic()
    try:
        async with session.post(f"{url}/api/messages", json=body,
                                timeout=REQUEST_TIMEOUT) as response:
            await response.read()
            status = response.status
        error = "" if status in (200, 201, 202) else f"HTTP {status}"
    except (ClientError, OSError, TimeoutError) as exc:
        status, error = 0, f"{type(exc).__name__}: {exc}"
    return Turn(kind, body["conversation"]["id"], body["id"], status, started,
                time.monotonic(), error)


@dataclass
class Summary:
    """Latency statistics in milliseconds."""

    count: int
    median: float
    p95: float
    p99: float
    mean: float = 0.0
    errors: int = 0
    samples: list[float] = field(default_factory=list, repr=False)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


def summarise(turns: Sequence[Turn]) -> Summary:
    """Median/p95/p99 of the successful turns, and the error count."""
    ok = [t.ms for t in turns if not t.error]
    return Summary(
        count=len(ok),
        median=statistics.median(ok) if ok else float("nan"),
        p95=percentile(ok, 0.95),
        p99=percentile(ok, 0.99),
        mean=statistics.fmean(ok) if ok else float("nan"),
        errors=sum(1 for t in turns if t.error),
        samples=ok,
    )


def replies_before_response(
    turns: Sequence[Turn], log: Sequence[tuple[str, str | None, float]]
) -> tuple[int, int]:
    """How many turns had a reply at the connector before their HTTP response returned."""
    arrivals: dict[tuple[str, str | None], float] = {}
    for conversation, reply_to, at in log:
        key = (conversation, reply_to)
        arrivals[key] = min(at, arrivals.get(key, at))
    good = sum(
        1 for t in turns
        if not t.error and arrivals.get((t.conversation, t.activity_id), float("inf")) <= t.ended
    )
    return good, len(turns)
