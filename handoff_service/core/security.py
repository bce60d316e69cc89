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

    def __post_init__(self) -> None:
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
        return await asyncio.get_running_loop().run_in_executor(None, self.verify_sync, stored, password)


class LoginRateLimiter:
    """At most `max_failures` failed logins per (IP, username) in a sliding window."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._fails: dict[tuple[str, str], deque[float]] = {}

    def _trim(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, key: tuple[str, str], now: float) -> int:
        """Seconds to wait, or 0 if an attempt is allowed now."""
        q = self._trim(key, now)
        if len(q) < self.max_failures:
            if not q:
                self._fails.pop(key, None)
            return 0
        return max(1, int(q[0] + self.window - now + 0.999))

    def failed(self, key: tuple[str, str], now: float) -> None:
        self._trim(key, now).append(now)
        if len(self._fails) > 100_000:  # bound memory under a spray attack
            self._fails.pop(next(iter(self._fails)))

    def succeeded(self, key: tuple[str, str]) -> None:
        self._fails.pop(key, None)
