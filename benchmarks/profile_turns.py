"""Profile `omtanke serve` under cProfile while it answers a burst of turns.

    .venv/bin/python -m benchmarks.profile_turns kb 300 /tmp/kb.prof
    .venv/bin/python -m benchmarks.profile_turns step 300 /tmp/step.prof

Prints the top functions by cumulative and by own time; the .prof file is for snakeviz/pstats.
"""

from __future__ import annotations

import asyncio
import pstats
import sys
import tempfile
from pathlib import Path

from aiohttp import ClientSession

from benchmarks.harness import PYTHON, Connector, Server, clean_env, free_port, message, post_turn
from benchmarks.run import QUESTIONS, step_texts


async def _drive(kind: str, count: int, output: Path) -> None:
    connector = Connector.start()
    work = Path(tempfile.mkdtemp(prefix="omtanke-profile-"))
    port = free_port()
    env = clean_env(OMTANKE_DATA_DIR=str(work / "data"), PORT=str(port),
                    OMTANKE_LOG_LEVEL="WARNING")
    server = Server.start("profiled", [PYTHON, "-m", "cProfile", "-o", str(output), "-m", "bot",
                                       "serve"], port, work, env)
    try:
        async with ClientSession() as session:
            await server.wait_healthy(session)
            users = [f"aad-prof-{n}" for n in range(10)]
            for i in range(count):
                if kind == "kb":
                    body = message(QUESTIONS[i % len(QUESTIONS)], users[i % 10], connector.url)
                else:
                    n, step = divmod(i, 4)
                    text = "jag har en idé" if step == 0 else step_texts(n)[step - 1]
                    body = message(text, f"aad-prof-step-{n}", connector.url)
                turn = await post_turn(session, server.url, body, kind)
                if turn.error:
                    raise RuntimeError(f"{turn.error}\n{server.tail()}")
    finally:
        server.stop()
        connector.stop()


def main(argv: list[str]) -> None:
    """Run the burst, then print the profile."""
    kind, count, output = argv[0], int(argv[1]), Path(argv[2])
    asyncio.run(_drive(kind, count, output))
    stats = pstats.Stats(str(output))
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main(sys.argv[1:])
