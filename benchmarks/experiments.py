"""`omtanke serve` with candidate fixes applied at run time, to measure a fix before making it
(nothing here changes the product's files).

    python -m benchmarks.experiments gc_threshold     # then serves like `omtanke serve`
    python -m benchmarks --only latency --experiment gc_threshold --baseline /tmp/head

Experiments (refs, aiohttp_sender, late_sweep and gc_freeze were measured here first and are
now part of the product; uvloop and gc_threshold were measured and not kept, see README):
  inline_io       The sharded store appends to its journal on the event loop, not in a thread.
  gc_threshold    The youngest generation collected every 20,000 allocations instead of 700
                  (fewer, equally short pauses).
  uvloop          The event loop is uvloop's (libuv) instead of asyncio's own
                  (`.venv/bin/pip install uvloop` first; it is not a dependency).
"""

from __future__ import annotations

import sys
from typing import Any

EXPERIMENTS = ("inline_io", "gc_threshold", "uvloop")


def _inline_io() -> None:
    from bot import services
    from storage.kv import ShardedTinyStore

    class InlineStore(ShardedTinyStore):
        def __init__(self, directory: Any, shards: int = 256, **_: Any) -> None:
            super().__init__(directory, shards, io_in_thread=False)

    services.ShardedTinyStore = InlineStore  # type: ignore[misc]


def _gc_threshold() -> None:
    import gc

    gc.set_threshold(20_000, 10, 10)


def _uvloop() -> None:
    import uvloop

    uvloop.install()


def apply(names: list[str]) -> None:
    """Apply the named experiments (unknown names are an error)."""
    table = {"inline_io": _inline_io, "gc_threshold": _gc_threshold, "uvloop": _uvloop}
    for name in names:
        if name not in table:
            raise SystemExit(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
        table[name]()


def main(argv: list[str]) -> int:
    """Apply the experiments named in argv[0], then run `omtanke serve`."""
    apply([n for n in argv[0].split(",") if n])
    from bot.cli import main as omtanke

    return omtanke(["serve"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
