"""Delivery of agent replies and handoff control events to Rasa.

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
from urllib.parse import quote

import aiohttp
from sqlalchemy import bindparam, select, update

from .cases import C
from .clock import Clock, SystemClock
from .context import Deps
from .models import Delivery, Message
from .outbox import Claim, lease_seconds

log = logging.getLogger(__name__)
D = Delivery.__table__
M = Message.__table__
RETRYABLE_4XX = {408, 409, 425, 429}
MARK_DELIVERED = (
    update(D)
    .where(D.c.id == bindparam("d_id"))
    .values(status="delivered", delivered_at=bindparam("at", type_=D.c.delivered_at.type), next_attempt_at=None, last_error=None)
)


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def step_key(key: str, i: int) -> str:
    return key if i == 0 else f"{key}:{i}"


class DeliveryWorker:
    def __init__(self, deps: Deps, http: aiohttp.ClientSession, wall: Clock | None = None) -> None:
        self.deps = deps
        self.http = http
        self.wall = wall or SystemClock()
        s = deps.settings
        self.timeout = aiohttp.ClientTimeout(total=s.delivery_timeout_seconds)
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
            ids = (await conn.execute(select(D.c.id).where(D.c.status == "pending").order_by(D.c.id))).scalars().all()
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
        base = min(s.delivery_backoff_max_seconds, s.delivery_backoff_seconds * 2 ** (attempts - 1))
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
                        D.c.status == "pending",
                        D.c.next_attempt_at.is_(None) | (D.c.next_attempt_at <= wall_now),
                    )
                    .values(attempts=D.c.attempts + 1, next_attempt_at=wall_now + self.lease)
                    .returning(*D.c)
                )
            ).first()
            if row is None:
                cur = (await conn.execute(select(D.c.status, D.c.next_attempt_at).where(D.c.id == delivery_id))).first()
                if cur is None or cur.status != "pending" or cur.next_attempt_at is None:
                    return None
                return max(0.05, (cur.next_attempt_at - wall_now).total_seconds())
        return Claim(
            id=row.id, case_id=row.case_id, kind=row.kind, conversation_id=row.conversation_id,
            idempotency_key=row.idempotency_key, payload=row.payload, attempts=row.attempts,
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
        await self._publish(claim, "delivered", None)
        return None

    async def _failed_attempt(self, claim: Claim, error: str, *, permanent: bool) -> float | None:
        final = permanent or claim.attempts >= self.max_attempts
        delay = None if final else self._backoff(claim.attempts)
        values: dict[str, Any] = {"last_error": error[:500]}
        if final:
            values.update(status="failed", next_attempt_at=None)
        else:
            values["next_attempt_at"] = self.wall.now() + timedelta(seconds=delay or 0)
        async with self.deps.tx() as conn:
            await conn.execute(update(D).where(D.c.id == claim.id).values(**values))
        log.warning("delivery %s attempt %s failed: %s%s", claim.id, claim.attempts, error, " (giving up)" if final else "")
        await self._publish(claim, "failed" if final else "pending", error[:500])
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

    # -- HTTP

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.deps.settings.rasa_url}/conversations/{quote(conversation_id, safe='')}/{suffix}"

    def _params(self, **extra: str) -> dict[str, str]:
        token = self.deps.settings.rasa_token
        return {**extra, **({"token": token} if token else {})}

    async def _send(self, conversation_id: str, step: dict[str, Any], key: str) -> None:
        if step["type"] == "events":
            url = self._url(conversation_id, "tracker/events")
            body: Any = [
                {**ev, "metadata": {**ev.get("metadata", {}), "idempotency_key": key}} for ev in step["events"]
            ]
        else:
            url = self._url(conversation_id, "trigger_intent")
            body = {"name": step["name"], "entities": {**step.get("entities", {}), "idempotency_key": key}}
        params = self._params(output_channel="latest", execute_side_effects="true")
        try:
            async with self.http.post(url, params=params, json=body, timeout=self.timeout) as resp:
                if 200 <= resp.status < 300:
                    await resp.read()
                    return
                text = (await resp.text())[:200]
                permanent = 400 <= resp.status < 500 and resp.status not in RETRYABLE_4XX
                raise DeliveryError(f"Rasa answered {resp.status}: {text}", permanent=permanent)
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            raise DeliveryError(f"{type(e).__name__}: {e}".rstrip(": ")) from None

    async def _keys_in_tracker(self, conversation_id: str) -> set[str]:
        url = self._url(conversation_id, "tracker")
        try:
            async with self.http.get(url, params=self._params(include_events="ALL"), timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise DeliveryError(f"could not read the tracker to check for duplicates: HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
            raise DeliveryError(f"could not read the tracker to check for duplicates: {type(e).__name__}") from None
        keys: set[str] = set()
        for ev in (data or {}).get("events") or []:
            if not isinstance(ev, dict):
                continue
            md = ev.get("metadata") or {}
            if isinstance(md, dict) and isinstance(md.get("idempotency_key"), str):
                keys.add(md["idempotency_key"])
            for ent in ((ev.get("parse_data") or {}).get("entities") or []):
                if isinstance(ent, dict) and ent.get("entity") == "idempotency_key":
                    keys.add(str(ent.get("value")))
        return keys

    # -- live status

    async def _publish(self, claim: Claim, status: str, last_error: str | None) -> None:
        if claim.audience is None:
            async with self.deps.read_engine.begin() as conn:
                r = (
                    await conn.execute(
                        select(C.c.owner_id, C.c.handler_id, M.c.id.label("message_id"))
                        .select_from(D.join(C, D.c.case_id == C.c.id).outerjoin(M, M.c.delivery_id == D.c.id))
                        .where(D.c.id == claim.id)
                    )
                ).first()
            if r is None:
                return
            claim.audience, claim.message_id = {r.owner_id, r.handler_id}, r.message_id
        self.deps.hub.publish(
            {
                "type": "message.delivery",
                "case_id": claim.case_id,
                "message_id": claim.message_id,
                "kind": claim.kind,
                "delivery": {
                    "id": claim.id,
                    "status": status,
                    "attempts": claim.attempts,
                    "last_error": last_error,
                    "idempotency_key": claim.idempotency_key,
                },
            },
            users=claim.audience,
            roles=frozenset({"supervisor"}),
        )
