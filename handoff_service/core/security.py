"""Password hashing (argon2id), token hashing (SHA-256) and the login rate limiter."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

BOT_TOKEN_PREFIX = "hbot_"
STAFF_TOKEN_PREFIX = "hsta_"


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are random 256-bit strings, so a fast hash is enough (no KDF on the hot path)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


@dataclass
class Passwords:
    """argon2id; verification runs in a thread so the event loop stays free."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 2
    concurrency: int = 2  # verifications at once (each takes memory_kib and a core); the rest wait

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.concurrency)
        self._ph = PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism)
        # Verified for unknown users so timing does not reveal which names exist.
        self._dummy = self._ph.hash(secrets.token_hex(8))

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify_sync(self, stored: str | None, password: str) -> bool:
        try:
            return self._ph.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(None, self.verify_sync, stored, password)


class LoginRateLimiter:
    """Failed logins in a sliding window, counted three ways: per (IP, username), per
    username (one account attacked from many addresses) and per IP (one address trying
    many accounts). An attempt is checked and counted in one step (`try_acquire`, no
    await in between), so parallel attempts cannot all pass the check; a successful
    login takes its count back (`succeeded`)."""

    def __init__(
        self, max_failures: int, window_seconds: float, max_per_user: int | None = None, max_per_ip: int | None = None
    ) -> None:
        self.window = window_seconds
        self.limits = {"pair": max_failures, "user": max_per_user or max_failures, "ip": max_per_ip or max_failures}
        self._fails: dict[tuple[str, str], deque[float]] = {}

    @staticmethod
    def _keys(ip: str, username: str) -> dict[str, tuple[str, str]]:
        name = username.lower()
        return {"pair": (ip, name), "user": ("*", name), "ip": (ip, "*")}

    def _trim(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def try_acquire(self, ip: str, username: str, now: float) -> int:
        """0: go ahead (the attempt counts as failed until `succeeded`); else seconds to wait."""
        keys = self._keys(ip, username)
        queues = {kind: self._trim(key, now) for kind, key in keys.items()}
        wait = 0
        for kind, q in queues.items():
            if len(q) >= self.limits[kind]:
                wait = max(wait, max(1, int(q[0] + self.window - now + 0.999)))
        if wait:
            return wait
        for q in queues.values():
            q.append(now)
        if len(self._fails) > 100_000:  # bound memory under a spray attack
            self._fails.pop(next(iter(self._fails)))
        return 0

    def succeeded(self, ip: str, username: str) -> None:
        """The password was right: that address and user start afresh; the attempt
        is taken back from the per-user and per-IP counts."""
        keys = self._keys(ip, username)
        self._fails.pop(keys["pair"], None)
        for kind in ("user", "ip"):
            q = self._fails.get(keys[kind])
            if q:
                q.pop()
