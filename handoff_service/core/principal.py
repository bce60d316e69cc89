"""Who is calling, and the role vocabulary."""

from __future__ import annotations

from dataclasses import dataclass

AGENT = "agent"
SUPERVISOR = "supervisor"
TRAINER = "trainer"
ROLES = (AGENT, SUPERVISOR, TRAINER)

# role sets used by routes, audiences and rules
AGENTS = frozenset({AGENT, SUPERVISOR})  # who works cases
SUPERVISORS = frozenset({SUPERVISOR})
TRAINERS = frozenset({TRAINER, SUPERVISOR})  # who reviews what the assistant misunderstood
ANY_STAFF = frozenset(ROLES)

STAFF = "staff"  # principal kinds
BOT = "bot"


@dataclass
class Principal:
    """Who is calling: a staff member (session or token) or the bot service."""

    kind: str  # staff | bot
    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    team: str | None = None
    via: str = "token"  # token | session
    session_hash: str | None = None
    token_hash: str | None = None
    csrf_token: str | None = None
    ip: str | None = None

    @property
    def actor_kind(self) -> str:
        return "bot" if self.kind == BOT else "agent"

    @property
    def actor_id(self) -> str:
        return "bot" if self.kind == BOT else str(self.username)

    @property
    def is_supervisor(self) -> bool:
        return self.role == SUPERVISOR


BOT_PRINCIPAL = Principal(kind=BOT)
