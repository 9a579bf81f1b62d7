"""Section 5: the Azure backend on Azurite against the TinyDB default, in the same run.

Turn latency: one `omtanke serve` on a data folder and one with OMTANKE_STORAGE=azure on
Azurite, measured in interleaved blocks (questions and dialog steps), so both see the same
machine. Throughput: the closed-loop load (every conversation sends its next turn at once)
against one Azure instance, then against two on the same account with consecutive turns of a
conversation alternating between them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from benchmarks.harness import Server, Turn, free_port, summarise
from tests.azurite import Azurite

if TYPE_CHECKING:
    from benchmarks.run import Bench


def start_azure(bench: Bench, azurite: Azurite, prefix: str, name: str) -> Server:
    """`omtanke serve` with OMTANKE_STORAGE=azure on Azurite, under `prefix`."""
    from benchmarks.harness import clean_env, omtanke_command

    port = free_port()
    env = clean_env(
        OMTANKE_DATA_DIR=str(bench.work / f"{name}-unused"),
        PORT=str(port),
        OMTANKE_LOG_LEVEL="WARNING",
        OMTANKE_STORAGE="azure",
        OMTANKE_AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        OMTANKE_AZURE_STORAGE_PREFIX=prefix,
    )
    return Server.start(name, omtanke_command(), port, bench.logs, env)


async def _closed_loop(
    bench: Bench, servers: Sequence[Server], prefix: str, conversations: int, turns: int
) -> tuple[list[Turn], float]:
    """Every conversation sends its next turn as soon as the last one answered; turn i of a
    conversation goes to servers[i % len(servers)]."""
    from benchmarks.run import load_plan

    async def conversation(n: int) -> list[Turn]:
        aad = f"{prefix}-{n:05d}"
        return [
            await bench.turn(servers[(n + i) % len(servers)], text, aad, prefix)
            for i, text in enumerate(load_plan(n, turns))
        ]

    started = time.monotonic()
    done = await asyncio.gather(*(conversation(n) for n in range(conversations)))
    return [t for ts in done for t in ts], time.monotonic() - started


async def section_azure(bench: Bench) -> dict[str, Any]:
    """Latency azure vs tinydb, and closed-loop throughput with one and two Azure instances."""
    from benchmarks.run import BLOCK, StepRunner, _fmt

    c = bench.counts
    print(
        "\n== 5. Azure backend on Azurite (Blob + Table) vs the TinyDB default ==", flush=True
    )
    azurite = Azurite.start()
    servers: dict[str, Server] = {}
    try:
        servers["tinydb"] = bench.start_omtanke(bench.work / "azure-vs-tinydb", "tinydb")
        servers["azure"] = start_azure(bench, azurite, azurite.new_prefix(), "azure")
        for server in servers.values():
            await server.wait_healthy(bench.session)
        kb: dict[str, list[Turn]] = {name: [] for name in servers}
        steps = {name: StepRunner(bench, s, f"aad-az-{name}") for name, s in servers.items()}
        for name, server in servers.items():
            await bench.question_turns(server, c.warmup, [f"aad-azw-{name}"], "warmup")
            await StepRunner(bench, server, f"aad-azw-{name}").run(min(c.warmup, 9))
        done = 0
        while done < c.latency_turns:
            size = min(BLOCK, c.latency_turns - done)
            for name, server in servers.items():
                users = [f"aad-azq-{name}-{n}" for n in range(10)]
                kb[name] += await bench.question_turns(server, size, users)
                await steps[name].run(size)
            done += size
        latency = {
            name: {"kb": summarise(kb[name]), "step": summarise(steps[name].steps)}
            for name in servers
        }
        for name in servers:
            for kind in ("kb", "step"):
                print(f"  {name:<7} {kind:<5} {_fmt(latency[name][kind])}")
        ratios = {
            kind: latency["azure"][kind].median / latency["tinydb"][kind].median
            for kind in ("kb", "step")
        }
        print(
            f"  ratio azure / tinydb (median): question {ratios['kb']:.2f}, "
            f"dialog step {ratios['step']:.2f}  (target <= 3)"
        )
        servers.pop("tinydb").stop()

        load: dict[str, dict[str, Any]] = {}
        prefix = azurite.new_prefix()
        servers["azure"].stop()
        servers["one"] = start_azure(bench, azurite, prefix, "azure-one")
        await servers["one"].wait_healthy(bench.session)
        for label, group in (("one", ["one"]), ("two", ["one", "two"])):
            if label == "two":
                servers["two"] = start_azure(bench, azurite, prefix, "azure-two")
                await servers["two"].wait_healthy(bench.session)
            members = [servers[name] for name in group]
            turns, elapsed = await _closed_loop(
                bench, members, f"aad-az{label}", c.load_conversations, c.load_turns
            )
            summary = summarise(turns)
            load[label] = {
                "turns": len(turns),
                "errors": summary.errors,
                "throughput": len(turns) / elapsed,
                "p50": summary.median,
                "p95": summary.p95,
            }
            print(
                f"  closed loop, {len(group)} instance(s), {c.load_conversations} conversations "
                f"x {c.load_turns} turns: {len(turns)} turns, {summary.errors} errors, "
                f"{len(turns) / elapsed:.1f} turns/s, p50 {summary.median:.1f} ms, "
                f"p95 {summary.p95:.1f} ms"
            )
            for turn in [t for t in turns if t.error][:5]:
                print(f"    error: {turn.conversation}: {turn.error}")
        gain = load["two"]["throughput"] / load["one"]["throughput"]
        print(f"  throughput two / one instance: {gain:.2f}x (2 cores shared with Azurite)")
    finally:
        for server in servers.values():
            server.stop()
        azurite.stop()
    return {
        "latency": {
            name: {kind: {"median": s.median, "p95": s.p95} for kind, s in kinds.items()}
            for name, kinds in latency.items()
        },
        "ratios": ratios,
        "load": load,
        "two_over_one": gain,
        "errors": load["one"]["errors"] + load["two"]["errors"],
    }
