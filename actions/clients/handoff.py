"""Client for handoff_service's bot API, and the journal that keeps case writes until they land.

The actions never talk to the case database: they append operations to a `CaseJournal`
(kept in a slot, so it survives between turns and action-server restarts) and flush it.
When handoff_service is unreachable the operations stay in the journal and the next
flush retries them in order; idempotency keys make a retry after a lost response safe.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TOKEN_FILE = Path(__file__).resolve().parents[2] / "var" / "bot.token"


class HandoffUnavailable(Exception):
    """handoff_service could not be reached, timed out, or answered 5xx (worth retrying later)."""


class HandoffRejected(Exception):
    """handoff_service refused a request (4xx): retrying the same request will not help."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class HandoffClient:
    def __init__(
        self, base_url: str, token: str | None = None, token_file: Path | None = None, timeout: float = 3.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token, self._token_file = token, token_file
        self.timeout = timeout

    def _bearer(self) -> str:
        if self._token:
            return self._token
        if self._token_file and self._token_file.is_file():  # read on use: `make run` may create it later
            return self._token_file.read_text(encoding="utf-8").strip()
        raise HandoffUnavailable("no bot token configured (HANDOFF_BOT_TOKEN or var/bot.token)")

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any] | None:
        import aiohttp

        headers = {"Authorization": f"Bearer {self._bearer()}"}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                async with session.request(
                    method, f"{self.base_url}{path}", json=body, headers=headers, params=params
                ) as resp:
                    if resp.status == 404 and method == "GET":
                        return None
                    if resp.status >= 500:
                        raise HandoffUnavailable(f"{method} {path}: HTTP {resp.status}")
                    data = await resp.json(content_type=None)
                    if resp.status >= 400:
                        error = (data or {}).get("error", {})
                        raise HandoffRejected(resp.status, error.get("code", "error"), error.get("message", ""))
                    return data
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # asyncio.TimeoutError is TimeoutError on 3.10+
            raise HandoffUnavailable(f"{method} {path}: {type(exc).__name__}") from exc

    async def create_case(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/bot/cases", body)

    async def get_case(self, number: str, conversation_id: str) -> dict[str, Any] | None:
        """The case if it belongs to `conversation_id`; None for an unknown case or another conversation's."""
        return await self._call(
            "GET", f"/api/bot/cases/{quote(number, safe='')}", params={"conversation_id": conversation_id}
        )

    async def update_case(self, number: str, changes: dict[str, Any]) -> dict[str, Any]:
        return await self._call("PATCH", f"/api/bot/cases/{number}", changes)

    async def add_timeline(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/api/bot/cases/{number}/timeline", body)

    async def request_handoff(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/api/bot/cases/{number}/handoff", body)

    async def relay_message(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/api/bot/cases/{number}/messages", body)

    async def resolve(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/api/bot/cases/{number}/resolve", body)

    async def record_csat(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/api/bot/cases/{number}/csat", body)

    async def follow_up(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        """A follow-up visit's answer: solved closes the case, not solved reopens it to its owner."""
        return await self._call("POST", f"/api/bot/cases/{number}/follow-up", body)

    async def outages(self, topic: str | None = None) -> list[dict[str, Any]]:
        """The outage notices in force, newest first (those affecting `topic` when given)."""
        data = await self._call("GET", "/api/bot/outages", params={"topic": topic} if topic else None)
        return list((data or {}).get("notices") or [])

    async def link_outage(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        """Links case `number` to the notice `body["notice"]` (its customer reported the outage)."""
        notice = int(body["notice"])
        payload = {"case": number, "conversation_id": body["conversation_id"]}
        if body.get("script") in ("simplified", "traditional"):
            payload["script"] = body["script"]
        return await self._call("POST", f"/api/bot/outages/{notice}/cases", payload)


def handoff_client_from_env(env: dict[str, str] | None = None) -> HandoffClient:
    env = dict(os.environ) if env is None else env
    token_file = Path(env["HANDOFF_BOT_TOKEN_FILE"]) if env.get("HANDOFF_BOT_TOKEN_FILE") else DEFAULT_TOKEN_FILE
    return HandoffClient(env.get("HANDOFF_URL") or DEFAULT_URL, env.get("HANDOFF_BOT_TOKEN") or None, token_file)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


# Journal operations, in the order they must land. "create" opens the case; the others need its number.
_SENDERS = {
    "update": HandoffClient.update_case,
    "timeline": HandoffClient.add_timeline,
    "resolve": HandoffClient.resolve,
    "csat": HandoffClient.record_csat,
    "follow_up": HandoffClient.follow_up,
    "outage_link": HandoffClient.link_outage,
}


@dataclasses.dataclass
class FlushResult:
    case: dict[str, Any] | None = None  # the case as last returned by the service (create/update/resolve)
    created: bool = False  # the case was opened during this flush
    error: str | None = None  # why the flush stopped early (the rest stays in the journal)


@dataclasses.dataclass
class CaseJournal:
    """Case writes not yet acknowledged by handoff_service, plus the case number once known."""

    case_number: str | None = None
    pending: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @classmethod
    def from_slots(cls, case_number: str | None, pending: list[dict[str, Any]] | None) -> CaseJournal:
        return cls(case_number, [dict(op) for op in pending or []])

    def open_case(self, body: dict[str, Any]) -> None:
        self.pending.append({"op": "create", "body": {**body, "idempotency_key": uuid.uuid4().hex}})

    def add(self, op: str, body: dict[str, Any]) -> None:
        if op not in _SENDERS:
            raise ValueError(f"unknown journal operation {op!r}")
        if op == "timeline":
            body = {**body, "idempotency_key": uuid.uuid4().hex}
        self.pending.append({"op": op, "body": body})

    def step(self, action: str, **details: Any) -> None:
        """A timeline entry stamped with the time it happened (not the time it lands)."""
        self.add("timeline", {"action": action, "details": {"at": now_iso(), **details}})

    @property
    def is_open(self) -> bool:
        return self.case_number is not None or any(op["op"] == "create" for op in self.pending)

    async def flush(self, client: HandoffClient | None) -> FlushResult:
        result = FlushResult()
        if client is None:
            result.error = "no handoff client"
            return result
        while self.pending:
            op = self.pending[0]
            try:
                if op["op"] == "create":
                    # keys starting with "_" are the journal's own notes, not the case's fields
                    body = {k: v for k, v in op["body"].items() if not k.startswith("_")}
                    result.case = await client.create_case(body)
                    self.case_number, result.created = result.case["number"], True
                    if body.get("outage_notice"):
                        # the customer reported an outage in force: link the new case to its notice (next write),
                        # with the script they write in (the notice's updates reach them in it)
                        link = {
                            "notice": body["outage_notice"],
                            "conversation_id": body["conversation_id"],
                            "script": op["body"].get("_script"),
                        }
                        self.pending.insert(1, {"op": "outage_link", "body": link})
                elif self.case_number is None:
                    result.error = "no case yet"
                    break
                else:
                    reply = await _SENDERS[op["op"]](client, self.case_number, op["body"])
                    if op["op"] != "timeline":
                        result.case = reply
            except HandoffUnavailable as exc:
                result.error = str(exc)
                break
            except HandoffRejected as exc:
                # A refused write (e.g. a step on a case an agent already closed) will never land: keep it
                # visible in the result, drop it so later steps are not blocked behind it forever.
                result.error = str(exc)
            self.pending.pop(0)
        return result
