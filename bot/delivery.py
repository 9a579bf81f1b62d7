"""Delivers the durable outbox: proactive Teams messages and e-mails, retried, never lost.

Every message is stored first (storage.records.Outbox), then tried at once; a failure is
logged and retried later by a background worker (also at start-up) with exponential backoff,
until it is delivered. An attempt starts with an eTag-conditional claim, and a delivered item
is marked sent the same way, so of several instances only one sends an item, and an item
marked sent is never sent again. (A crash between sending and marking can repeat one message:
that window cannot be closed without the receiver's help.)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.records import Outbox, OutboxItem, outbox_item

logger = logging.getLogger(__name__)

Record = dict[str, Any]
# kind → sends one item and returns the delivered activity id (or the e-mail's Message-ID).
Sender = Callable[[Record], Awaitable[str]]
# purpose → called once an item is delivered, with the item and the sender's result.
AfterDelivery = Callable[[Record, str], Awaitable[None]]


class NotYetDeliverable(RuntimeError):
    """The target cannot be reached yet (no conversation reference): try again later."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: first retry after `base` seconds, doubling up to `cap`; the worker
    looks every `poll` seconds; an attempt keeps others away from its item for `claim`."""

    base: float = 5.0
    cap: float = 900.0
    poll: float = 30.0
    claim: float = 120.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the given number of failed attempts."""
        return float(min(self.cap, self.base * 2 ** max(0, attempts - 1)))


DEFAULT_RETRY = RetryPolicy()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


class Delivery:
    """Sends outbox items through the registered senders; a worker retries the failed ones.

    ``exclusive`` says this process is the only one using the outbox (the embedded store's
    folder lock guarantees it): then a claim left by a crashed earlier run is not waited for.
    """

    def __init__(
        self, outbox: Outbox, retry: RetryPolicy | None = None, *, exclusive: bool = True
    ) -> None:
        self.outbox = outbox
        self.retry = retry or DEFAULT_RETRY
        self._exclusive = exclusive
        self._owner = uuid.uuid4().hex
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
        """Store a new message, then try to deliver it now; True when it went out."""
        item = await self.outbox.add(outbox_item(kind, target, payload, purpose))
        return bool(await self.deliver([item.id]))

    async def deliver(self, ids: list[str]) -> int:
        """Try these stored items now, in order; return how many went out.

        An item waits (for the worker) while an older one to the same recipient is pending,
        so messages to one person or channel keep their order.
        """
        if not ids:
            return 0
        delivered = 0
        pending = await self.outbox.pending()
        older: set[str] = set()
        wanted = set(ids)
        for item in pending:
            route = _route(item.data)
            if item.id not in wanted:
                older.add(route)
                continue
            if route in older or not await self._attempt(item, respect_backoff=False):
                older.add(route)
                self._wake.set()
                continue
            delivered += 1
        return delivered

    async def drain(self, force: bool = False) -> int:
        """Try every due item (all pending ones when force); return how many went out."""
        delivered = 0
        async with self._lock:
            blocked: set[str] = set()
            now = _now()
            for item in await self.outbox.pending():
                route = _route(item.data)
                if route in blocked:
                    continue
                if not force and _parse(str(item.data["next_at"])) > now:
                    blocked.add(route)
                    continue
                if await self._attempt(item, respect_backoff=not force, start_up=force):
                    delivered += 1
                else:
                    blocked.add(route)
        return delivered

    async def _claim(self, item: OutboxItem, start_up: bool) -> bool:
        """Own this attempt (eTag-conditional); False when another worker has it."""
        claimed = item.data.get("claimed_until") or ""
        ignore_claim = start_up and self._exclusive
        if claimed and not ignore_claim and _parse(claimed) > _now():
            return False
        item.data["claimed_until"] = _iso(_now() + timedelta(seconds=self.retry.claim))
        item.data["claimed_by"] = self._owner
        item.data["attempts"] = int(item.data["attempts"]) + 1
        return await self.outbox.update(item)

    async def _attempt(
        self, item: OutboxItem, respect_backoff: bool = True, start_up: bool = False
    ) -> bool:
        if respect_backoff and _parse(str(item.data["next_at"])) > _now():
            return False
        if not await self._claim(item, start_up):
            return False
        data = item.data
        sender = self._senders.get(str(data["kind"]))
        try:
            if sender is None:
                raise NotYetDeliverable(f"no sender for {data['kind']!r}")
            result = await sender(data)
        except Exception as error:
            delay = self.retry.delay(int(data["attempts"]))
            data["last_error"] = f"{type(error).__name__}: {error}"[:500]
            data["next_at"] = _iso(_now() + timedelta(seconds=delay))
            data["claimed_until"] = ""
            await self.outbox.update(item)
            level = logging.INFO if isinstance(error, NotYetDeliverable) else logging.WARNING
            logger.log(
                level,
                "could not deliver %s message %s (attempt %d), retrying in %.1f s: %s",
                data["kind"],
                data["id"],
                data["attempts"],
                delay,
                data["last_error"],
            )
            return False
        data.update(delivered_at=_iso(_now()), result=result, last_error="", claimed_until="")
        if not await self.outbox.update(item):
            logger.warning("outbox item %s changed while it was sent", data["id"])
        hook = self._after.get(str(data.get("purpose", {}).get("kind", "")))
        if hook is not None:
            try:
                await hook(data, result)
            except Exception:
                logger.exception("after delivering %s", data["id"])
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
        soonest = min(_parse(str(p.data["next_at"])) for p in pending)
        seconds = (soonest - _now()).total_seconds()
        return max(0.01, min(self.retry.poll, seconds))


def _route(item: Record) -> str:
    return f"{item['kind']}:{item['target']}"
