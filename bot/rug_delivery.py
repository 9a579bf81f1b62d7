"""A durable outbox for proactive Teams messages and e-mails: retried with backoff, never lost.

Every message is stored first, then tried at once; a failure is logged and retried later by a
background worker (also at start-up) with exponential backoff, until it is delivered.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.repository import utc_now
from storage.tinytable import RecordTable

logger = logging.getLogger(__name__)

Record = dict[str, Any]
# kind → sends one item and returns the delivered activity id (or "" for e-mail).
Sender = Callable[[Record], Awaitable[str]]
# purpose → called once an item is delivered, with the item and the sender's result.
AfterDelivery = Callable[[Record, str], Awaitable[None]]


class NotYetDeliverable(RuntimeError):
    """The target cannot be reached yet (no conversation reference): try again later."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: first retry after `base` seconds, doubling up to `cap`."""

    base: float = 5.0
    cap: float = 900.0
    poll: float = 30.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the given number of failed attempts."""
        return float(min(self.cap, self.base * 2 ** max(0, attempts - 1)))


DEFAULT_RETRY = RetryPolicy()
# How long an item being sent right now is left alone by the worker.
CLAIM_SECONDS = 600.0


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


class Outbox:
    """Pending and delivered messages in a TinyDB table (outbox.json in the data folder)."""

    def __init__(self, path: Path) -> None:
        self._table = RecordTable.open(path, "outbox")

    async def add(
        self,
        kind: str,
        target: str,
        payload: Record,
        purpose: Record,
        not_before: datetime | None = None,
    ) -> Record:
        """Store a new message to deliver (the worker leaves it alone until not_before)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        due = (not_before or datetime.now(UTC)).isoformat(timespec="milliseconds")
        item: Record = {
            "id": uuid.uuid4().hex,
            "kind": kind,
            "target": target,
            "payload": payload,
            "purpose": purpose,
            "created_at": now,
            "attempts": 0,
            "next_at": due,
            "last_error": "",
            "delivered_at": "",
            "result": "",
        }
        await self._table.insert(item)
        return item

    async def pending(self) -> list[Record]:
        """Undelivered messages, oldest first."""
        items = await self._table.search(lambda r: not r.get("delivered_at"))
        return sorted(items, key=lambda r: str(r["created_at"]))

    async def all(self) -> list[Record]:
        """Every message, delivered or not."""
        return await self._table.all()

    async def update(self, item: Record) -> None:
        """Store the item's new state."""
        await self._table.upsert(item, "id")

    async def close(self) -> None:
        """Close the table."""
        await self._table.close()


class Delivery:
    """Sends outbox items through the registered senders; a worker retries the failed ones."""

    def __init__(self, outbox: Outbox, retry: RetryPolicy | None = None) -> None:
        self.outbox = outbox
        self.retry = retry or DEFAULT_RETRY
        self._senders: dict[str, Sender] = {}
        self._after: dict[str, AfterDelivery] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def register(self, kind: str, sender: Sender) -> None:
        """How to deliver items of one kind ("person", "channel", "mail")."""
        self._senders[kind] = sender

    def on_delivered(self, purpose: str, hook: AfterDelivery) -> None:
        """What to do once an item with this purpose has been delivered."""
        self._after[purpose] = hook

    async def send(
        self, kind: str, target: str, payload: Record, purpose: Record | None = None
    ) -> bool:
        """Store the message, then try to deliver it now; True when it went out."""
        earlier = [
            p for p in await self.outbox.pending() if p["kind"] == kind and p["target"] == target
        ]
        if earlier:
            # Keep the order per recipient: the worker sends the older ones first.
            await self.outbox.add(kind, target, payload, purpose or {})
            self._wake.set()
            return False
        # Claimed for this attempt: the worker skips it until then (or at the next start-up).
        claimed = datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS)
        item = await self.outbox.add(kind, target, payload, purpose or {}, claimed)
        return await self._attempt(item)

    async def drain(self, force: bool = False) -> int:
        """Try every due item (all pending ones when force); return how many went out."""
        delivered = 0
        async with self._lock:
            blocked: set[tuple[str, str]] = set()
            now = datetime.now(UTC)
            for item in await self.outbox.pending():
                key = (str(item["kind"]), str(item["target"]))
                if key in blocked:
                    continue
                if not force and _parse(str(item["next_at"])) > now:
                    blocked.add(key)
                    continue
                if await self._attempt(item):
                    delivered += 1
                else:
                    blocked.add(key)
        return delivered

    async def _attempt(self, item: Record) -> bool:
        sender = self._senders.get(str(item["kind"]))
        item["attempts"] = int(item["attempts"]) + 1
        try:
            if sender is None:
                raise NotYetDeliverable(f"no sender for {item['kind']!r}")
            result = await sender(item)
        except Exception as error:
            delay = self.retry.delay(int(item["attempts"]))
            item["last_error"] = f"{type(error).__name__}: {error}"[:500]
            item["next_at"] = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat(
                timespec="milliseconds"
            )
            await self.outbox.update(item)
            level = logging.INFO if isinstance(error, NotYetDeliverable) else logging.WARNING
            logger.log(
                level,
                "could not deliver %s message %s to %s (attempt %d), retrying in %.1f s: %s",
                item["kind"],
                item["id"],
                item["target"],
                item["attempts"],
                delay,
                item["last_error"],
            )
            return False
        item.update(delivered_at=utc_now(), result=result, last_error="")
        await self.outbox.update(item)
        hook = self._after.get(str(item.get("purpose", {}).get("kind", "")))
        if hook is not None:
            try:
                await hook(item, result)
            except Exception:
                logger.exception("after delivering %s", item["id"])
        return True

    def wake(self) -> None:
        """Make the worker look at the outbox now (e.g. after a channel was registered)."""
        self._wake.set()

    def start(self) -> None:
        """Start the background worker; it drains the outbox at once (delivery after restart)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="omtanke-outbox")

    async def stop(self) -> None:
        """Stop the worker; undelivered items stay in the outbox for the next start."""
        if self._task is not None:
            # The flag ends the loop even if a cancellation is lost on the way (see _run).
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
            self._stopping = False

    async def _run(self) -> None:
        # At start-up everything pending is due, including items claimed before a crash.
        force = True
        while not self._stopping:
            # Cleared before draining, so a wake-up during the drain is not lost.
            self._wake.clear()
            try:
                await self.drain(force)
                force = False
                wait = await self._seconds_to_next()
            except Exception:
                logger.exception("the outbox worker failed; trying again later")
                wait = self.retry.poll
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the wake-up event fires, and stop() then waited forever.
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _seconds_to_next(self) -> float:
        pending = await self.outbox.pending()
        if not pending:
            return self.retry.poll
        soonest = min(_parse(str(p["next_at"])) for p in pending)
        seconds = (soonest - datetime.now(UTC)).total_seconds()
        return max(0.01, min(self.retry.poll, seconds))
