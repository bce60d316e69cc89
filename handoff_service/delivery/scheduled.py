"""The delivery worker: sends agent replies and handoff control events to Rasa.

Each outbox row carries one idempotency key (step i > 0 uses "key:i"), sent in
the event metadata. Guarantee, from our side: a step is POSTed again only after
Rasa's tracker has been read and does not contain that key, so a request that
Rasa applied but answered late or with an error is not applied twice. The one
window left open is a request still being processed by Rasa when the tracker is
read (longer than the timeout plus the back-off); a receiver that dedupes by
`metadata.idempotency_key` closes it. A lease (next_attempt_at) keeps two
service processes from attempting the same row at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from handoff_service.core.bus import record
from handoff_service.core.clock import Clock, SystemClock
from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of
from handoff_service.rasa.client import RasaClient, RasaError

from .events import DeliveryStatusChanged
from .models import Claim, Delivery
from .service import lease_seconds, step_key
from .states import DELIVERED, FAILED, PENDING

log = logging.getLogger(__name__)
D = table_of(Delivery)
RETRYABLE_4XX = {408, 409, 425, 429}
MARK_DELIVERED = (
    update(D)
    .where(D.c.id == bindparam("d_id"))
    .values(
        status=DELIVERED,
        delivered_at=bindparam("at", type_=D.c.delivered_at.type),
        next_attempt_at=None,
        last_error=None,
    )
)


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class DeliveryWorker:
    def __init__(self, deps: Deps, rasa: RasaClient, wall: Clock | None = None) -> None:
        self.deps = deps
        self.rasa = rasa
        self.wall = wall or SystemClock()
        s = deps.settings
        self.timeout = s.delivery_timeout_seconds
        self.max_attempts = s.delivery_max_attempts
        self.lease = timedelta(seconds=lease_seconds(s))
        self._sem = asyncio.Semaphore(s.delivery_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._active: set[int] = set()
        self._closing = False

    # -- scheduling

    def kick(self, delivery_id: int, claim: Claim | None = None) -> None:
        """Attempt a delivery now: `claim` if this process already holds its lease."""
        if self._closing or delivery_id in self._active:
            return
        self._active.add(delivery_id)
        task = asyncio.get_running_loop().create_task(self._run(delivery_id, claim))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self) -> int:
        """Picks up what was pending when the process stopped (after its lease)."""
        async with self.deps.read_engine.begin() as conn:
            ids = (await conn.execute(select(D.c.id).where(D.c.status == PENDING).order_by(D.c.id))).scalars().all()
        for i in ids:
            self.kick(i)
        return len(ids)

    async def close(self) -> None:
        self._closing = True
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until nothing is in flight (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, delivery_id: int, claim: Claim | None) -> None:
        try:
            while True:
                if claim is None:
                    claim_or_wait = await self._claim(delivery_id)
                    if claim_or_wait is None:
                        return
                    if isinstance(claim_or_wait, float):
                        await asyncio.sleep(claim_or_wait)
                        continue
                    claim = claim_or_wait
                delay = await self._attempt(claim)
                if delay is None:
                    return
                claim = None
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery %s: unexpected error", delivery_id)
        finally:
            self._active.discard(delivery_id)

    def _backoff(self, attempts: int) -> float:
        s = self.deps.settings
        base = min(s.delivery_backoff_max_seconds, s.delivery_backoff_seconds * 2.0 ** (attempts - 1))
        return base * (1 + random.random() * 0.1)

    async def _claim(self, delivery_id: int) -> Claim | float | None:
        """Take the lease for one attempt: a Claim, seconds to wait, or None when done."""
        wall_now = self.wall.now()
        async with self.deps.tx() as conn:
            row = (
                await conn.execute(
                    update(D)
                    .where(
                        D.c.id == delivery_id,
                        D.c.status == PENDING,
                        D.c.next_attempt_at.is_(None) | (D.c.next_attempt_at <= wall_now),
                    )
                    .values(attempts=D.c.attempts + 1, next_attempt_at=wall_now + self.lease)
                    .returning(*D.c)
                )
            ).first()
            if row is None:
                cur = (await conn.execute(select(D.c.status, D.c.next_attempt_at).where(D.c.id == delivery_id))).first()
                if cur is None or cur.status != PENDING or cur.next_attempt_at is None:
                    return None
                return max(0.05, float((cur.next_attempt_at - wall_now).total_seconds()))
        return Claim(
            id=row.id,
            case_id=row.case_id,
            kind=row.kind,
            conversation_id=row.conversation_id,
            idempotency_key=row.idempotency_key,
            payload=row.payload,
            attempts=row.attempts,
        )

    # -- one attempt

    async def _attempt(self, claim: Claim) -> float | None:
        """Returns seconds until the next attempt, or None when finished."""
        try:
            async with self._sem:
                await self._deliver(claim)
        except DeliveryError as e:
            return await self._failed_attempt(claim, str(e), permanent=e.permanent)
        async with self.deps.tx() as conn:
            await conn.execute(MARK_DELIVERED, {"d_id": claim.id, "at": self.deps.clock.now()})
            record(conn, DeliveryStatusChanged(claim, DELIVERED, None))
        return None

    async def _failed_attempt(self, claim: Claim, error: str, *, permanent: bool) -> float | None:
        final = permanent or claim.attempts >= self.max_attempts
        delay = None if final else self._backoff(claim.attempts)
        values: dict[str, Any] = {"last_error": error[:500]}
        if final:
            values.update(status=FAILED, next_attempt_at=None)
        else:
            values["next_attempt_at"] = self.wall.now() + timedelta(seconds=delay or 0)
        log.warning(
            "delivery %s attempt %s failed: %s%s", claim.id, claim.attempts, error, " (giving up)" if final else ""
        )
        async with self.deps.tx() as conn:
            await conn.execute(update(D).where(D.c.id == claim.id).values(**values))
            record(conn, DeliveryStatusChanged(claim, FAILED if final else PENDING, error[:500]))
        return delay

    async def _deliver(self, claim: Claim) -> None:
        steps: list[dict[str, Any]] = claim.payload["steps"]
        done: int = claim.payload.get("done", 0)
        seen: set[str] = set()
        if claim.attempts > 1:
            # An earlier attempt may have reached Rasa: look before sending again.
            seen = await self._keys_in_tracker(claim.conversation_id)
        for i in range(done, len(steps)):
            key = step_key(claim.idempotency_key, i)
            if key not in seen:
                await self._send(claim.conversation_id, steps[i], key)
            if i + 1 < len(steps):
                claim.payload = {**claim.payload, "done": i + 1}
                async with self.deps.tx() as conn:
                    await conn.execute(update(D).where(D.c.id == claim.id).values(payload=claim.payload))

    # -- Rasa

    async def _send(self, conversation_id: str, step: dict[str, Any], key: str) -> None:
        try:
            if step["type"] == "events":
                events = [
                    {**ev, "metadata": {**ev.get("metadata", {}), "idempotency_key": key}} for ev in step["events"]
                ]
                await self.rasa.append_events(conversation_id, events, timeout=self.timeout)
            else:
                entities = {**step.get("entities", {}), "idempotency_key": key}
                await self.rasa.trigger_intent(conversation_id, step["name"], entities, timeout=self.timeout)
        except RasaError as e:
            permanent = e.status is not None and 400 <= e.status < 500 and e.status not in RETRYABLE_4XX
            raise DeliveryError(e.describe(), permanent=permanent) from None

    async def _keys_in_tracker(self, conversation_id: str) -> set[str]:
        try:
            events = await self.rasa.tracker_events(conversation_id, timeout=self.timeout)
        except RasaError as e:
            raise DeliveryError(f"could not read the tracker to check for duplicates: {e.reason}") from None
        keys: set[str] = set()
        for ev in events:
            md = ev.get("metadata") or {}
            if isinstance(md, dict) and isinstance(md.get("idempotency_key"), str):
                keys.add(md["idempotency_key"])
            for ent in (ev.get("parse_data") or {}).get("entities") or []:
                if isinstance(ent, dict) and ent.get("entity") == "idempotency_key":
                    keys.add(str(ent.get("value")))
        return keys
