"""Settings from environment variables (all prefixed HANDOFF_); see README."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # handoff_service/
REPO_ROOT = PACKAGE_DIR.parent
DEFAULT_SLA_FILE = PACKAGE_DIR / "sla.yml"
DEFAULT_TOKEN_DAYS = 90.0  # staff bearer tokens expire after this
# the bot's phrasing style guide: the same data file its linter checks responses with
DEFAULT_STYLE_GUIDE_FILE = REPO_ROOT / "bot" / "phrasing" / "style_guide.yml"


def _default_db_url() -> str:
    return f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'handoff.db'}"


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip().rstrip("/") for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_db_url)
    host: str = "127.0.0.1"
    port: int = 8080
    rasa_url: str = "http://127.0.0.1:5005"
    # the bridge token (bot/bridge.py routes only), sent as a bearer token; not Rasa's operator token
    rasa_token: str | None = None
    # Browser origins allowed on the websocket; empty = http://{host}:{port} and localhost.
    allowed_origins: tuple[str, ...] = ()
    # Addresses of our reverse proxies: from them, the caller's address is read from X-Forwarded-For
    # (login limits and the audit log count callers, not the proxy).
    trusted_proxies: tuple[str, ...] = ()
    # "auto": Secure cookie when the request came over https; "true"/"false" force it.
    cookie_secure: str = "auto"
    session_hours: float = 12.0
    max_body_bytes: int = 64 * 1024
    sla_file: Path = DEFAULT_SLA_FILE
    sla_interval_seconds: float = 30.0
    case_number_tz: str = "Asia/Shanghai"
    login_max_failures: int = 5  # per address and username
    login_max_failures_per_user: int = 20  # one username from any address
    login_max_failures_per_ip: int = 50  # one address, any username
    login_window_seconds: float = 300.0
    # Delivery of agent replies to Rasa.
    delivery_timeout_seconds: float = 10.0
    delivery_max_attempts: int = 6
    delivery_backoff_seconds: float = 1.0
    delivery_backoff_max_seconds: float = 60.0
    delivery_concurrency: int = 32
    # argon2id cost; lower only in tests.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 2
    argon2_concurrency: int = 2  # password checks at once; more wait (memory and CPU bound)
    db_pool_size: int = 10
    # seconds a resolved bearer token/session is cached in memory (0 = off)
    auth_cache_seconds: float = 5.0
    token_days: float = DEFAULT_TOKEN_DAYS  # lifetime of new staff tokens (create-token)
    log_level: str = "INFO"
    access_log: bool = True
    # The customer chat page (/chat) has a listener of its own (another origin than the console's,
    # so its script can never use a console session); None: no chat page.
    chat_port: int | None = None
    # Hosts an agent's reply may link to in the widget (others' links arrive as inert words).
    link_hosts: tuple[str, ...] = ()
    # Where the chat page's rasa-webchat widget finds Rasa's socket.io channel.
    chat_socket_url: str = "http://127.0.0.1:5005"
    chat_socket_path: str = "/socket.io/"
    # Standard phrases and taboo phrases for the agent console.
    style_guide_file: Path = DEFAULT_STYLE_GUIDE_FILE
    # Reading the bot's part of a transcript from Rasa's tracker.
    transcript_timeout_seconds: float = 3.0
    # The trainers' review list: how often it reads what Rasa recorded (0 = never), how long a customer
    # message waits for the action that answered it, and what counts as misunderstood beside the
    # fallback: a top intent below `review_low_confidence`, the top two closer than
    # `review_min_margin`, the messages of a case rated at most `review_low_csat` (1-5).
    review_poll_seconds: float = 5.0
    review_settle_seconds: float = 30.0
    review_low_confidence: float = 0.5
    review_min_margin: float = 0.1
    review_low_csat: int = 2
    # Follow-up visits (回访): asked `follow_up_delay_hours` after a resolution, outside the quiet
    # hours of the service zone (case_number_tz) and always before the tier's follow-up deadline;
    # an unanswered question is asked again after `follow_up_answer_hours`, `follow_up_attempts`
    # times in all; the scheduler looks every `follow_up_interval_seconds` (0 = never).
    follow_up_delay_hours: float = 4.0
    follow_up_quiet_hours: str = "21:00-09:00"
    follow_up_answer_hours: float = 4.0
    follow_up_attempts: int = 2
    follow_up_interval_seconds: float = 10.0
    # KPI dashboard: how often the days whose rollup rows changed are packed again (0 = never: the
    # dashboard then reads those days from the rows, correct but slower over long periods)
    metrics_pack_seconds: float = 60.0

    @property
    def origins(self) -> tuple[str, ...]:
        if self.allowed_origins:
            return self.allowed_origins
        return (
            f"http://{self.host}:{self.port}",
            f"http://127.0.0.1:{self.port}",
            f"http://localhost:{self.port}",
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **kwargs: object) -> Settings:
        return replace(self, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        s = cls()
        conv: dict[str, tuple[str, Callable[[str], Any]]] = {
            "DATABASE_URL": ("database_url", str),
            "HOST": ("host", str),
            "PORT": ("port", int),
            "RASA_URL": ("rasa_url", lambda v: v.rstrip("/")),
            "RASA_TOKEN": ("rasa_token", lambda v: v or None),
            "ALLOWED_ORIGINS": ("allowed_origins", _csv),
            "TRUSTED_PROXIES": ("trusted_proxies", _csv),
            "COOKIE_SECURE": ("cookie_secure", str),
            "SESSION_HOURS": ("session_hours", float),
            "MAX_BODY_BYTES": ("max_body_bytes", int),
            "SLA_FILE": ("sla_file", Path),
            "SLA_INTERVAL_SECONDS": ("sla_interval_seconds", float),
            "CASE_NUMBER_TZ": ("case_number_tz", str),
            "LOGIN_MAX_FAILURES": ("login_max_failures", int),
            "LOGIN_MAX_FAILURES_PER_USER": ("login_max_failures_per_user", int),
            "LOGIN_MAX_FAILURES_PER_IP": ("login_max_failures_per_ip", int),
            "ARGON2_CONCURRENCY": ("argon2_concurrency", int),
            "LOGIN_WINDOW_SECONDS": ("login_window_seconds", float),
            "DELIVERY_TIMEOUT_SECONDS": ("delivery_timeout_seconds", float),
            "DELIVERY_MAX_ATTEMPTS": ("delivery_max_attempts", int),
            "DELIVERY_BACKOFF_SECONDS": ("delivery_backoff_seconds", float),
            "DB_POOL_SIZE": ("db_pool_size", int),
            "AUTH_CACHE_SECONDS": ("auth_cache_seconds", float),
            "TOKEN_DAYS": ("token_days", float),
            "LOG_LEVEL": ("log_level", str),
            "ACCESS_LOG": ("access_log", _bool),
            "CHAT_PORT": ("chat_port", int),
            "LINK_HOSTS": ("link_hosts", lambda v: tuple(h.lower() for h in _csv(v))),
            "CHAT_SOCKET_URL": ("chat_socket_url", lambda v: v.rstrip("/")),
            "CHAT_SOCKET_PATH": ("chat_socket_path", str),
            "STYLE_GUIDE_FILE": ("style_guide_file", Path),
            "TRANSCRIPT_TIMEOUT_SECONDS": ("transcript_timeout_seconds", float),
            "REVIEW_POLL_SECONDS": ("review_poll_seconds", float),
            "REVIEW_SETTLE_SECONDS": ("review_settle_seconds", float),
            "REVIEW_LOW_CONFIDENCE": ("review_low_confidence", float),
            "REVIEW_MIN_MARGIN": ("review_min_margin", float),
            "REVIEW_LOW_CSAT": ("review_low_csat", int),
            "FOLLOW_UP_DELAY_HOURS": ("follow_up_delay_hours", float),
            "FOLLOW_UP_QUIET_HOURS": ("follow_up_quiet_hours", str),
            "FOLLOW_UP_ANSWER_HOURS": ("follow_up_answer_hours", float),
            "FOLLOW_UP_ATTEMPTS": ("follow_up_attempts", int),
            "FOLLOW_UP_INTERVAL_SECONDS": ("follow_up_interval_seconds", float),
            "METRICS_PACK_SECONDS": ("metrics_pack_seconds", float),
        }
        values: dict[str, Any] = {}
        for suffix, (attr, fn) in conv.items():
            raw = env.get(f"HANDOFF_{suffix}")
            if raw is not None and raw != "":
                values[attr] = fn(raw)
            elif suffix == "RASA_TOKEN" and raw == "":
                values[attr] = None
        s = replace(s, **values)
        if s.cookie_secure not in {"auto", "true", "false"}:
            raise ValueError("HANDOFF_COOKIE_SECURE must be auto, true or false")
        return s
