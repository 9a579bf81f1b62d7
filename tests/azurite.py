"""Azurite, Microsoft's Azure Storage emulator from node_modules, for the Azure backend's tests.

One process serves the whole test run on 127.0.0.1 (free ports, data in a temporary folder);
each test gets its own name prefix, so its containers and tables are its own.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from storage.azure_names import AzureStorageConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE = REPO_ROOT / "node_modules" / ".bin" / "azurite"
# Azurite's well-known development account (Microsoft's docs); never a real account's key.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_SECONDS = 30.0
LOG = "azurite.log"
_prefixes = itertools.count(1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class _PortTaken(RuntimeError):
    """Azurite could not bind a port picked for it: another process took it first."""


@dataclass
class Azurite:
    """A running Azurite: its ports, connection string and a fresh prefix per caller."""

    blob_port: int
    table_port: int
    process: subprocess.Popen[bytes]
    location: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    @property
    def connection_string(self) -> str:
        """The development account's connection string for this Azurite's ports."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.blob_port}/{ACCOUNT};"
            f"TableEndpoint=http://127.0.0.1:{self.table_port}/{ACCOUNT};"
        )

    def new_prefix(self) -> str:
        """A container/table name prefix no other test of this run uses."""
        return f"t{self.run_id}{next(_prefixes)}"

    def config(self, prefix: str | None = None) -> AzureStorageConfig:
        """Backend configuration for a prefix (a new one by default)."""
        return AzureStorageConfig(
            connection_string=self.connection_string, prefix=prefix or self.new_prefix()
        )

    @classmethod
    def start(cls, attempts: int = 3) -> Azurite:
        """Start Azurite from node_modules and wait (polling, with a deadline) until it serves.

        Its ports are picked free just before it binds them; another process (a test server
        on the other worker) can take one in between, so a start that finds its port taken is
        tried again on new ports.
        """
        for _ in range(attempts - 1):
            try:
                return cls._start_once()
            except _PortTaken:
                pass
        return cls._start_once()

    @classmethod
    def _start_once(cls) -> Azurite:
        if not AZURITE.exists():
            raise RuntimeError(
                f"{AZURITE} is missing: run 'npm ci' (make test does) to install Azurite"
            )
        location = Path(tempfile.mkdtemp(prefix="omtanke-azurite-"))
        blob, queue, table = _free_port(), _free_port(), _free_port()
        # A file, not a pipe: nobody reads Azurite's output while it runs.
        with (location / LOG).open("wb") as log:
            process = cls._spawn(location, blob, queue, table, log)
        azurite = cls(blob, table, process, location)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                error = (location / LOG).read_text(errors="replace")
                azurite.stop()
                if "EADDRINUSE" in error:
                    raise _PortTaken(f"Azurite exited at start-up: {error.strip()}")
                raise RuntimeError(f"Azurite exited at start-up: {error.strip()}")
            if _answers(blob) and _answers(table):
                return azurite
            time.sleep(0.05)
        azurite.stop()
        raise RuntimeError(f"Azurite did not listen within {START_SECONDS:.0f} s")

    @staticmethod
    def _spawn(
        location: Path, blob: int, queue: int, table: int, log: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        ports = [
            *("--blobHost", "127.0.0.1", "--blobPort", str(blob)),
            *("--queueHost", "127.0.0.1", "--queuePort", str(queue)),
            *("--tableHost", "127.0.0.1", "--tablePort", str(table)),
        ]
        options = [
            # The current azure-storage-blob sends an API version newer than Azurite knows.
            "--skipApiVersionCheck",
            # Azurite otherwise collects telemetry and tries to send it out.
            "--disableTelemetry",
            "--silent",
        ]
        return subprocess.Popen(
            [str(AZURITE), *ports, "--location", str(location), *options],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=location,
        )

    def stop(self) -> None:
        """Stop Azurite and remove its data."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.location, ignore_errors=True)
