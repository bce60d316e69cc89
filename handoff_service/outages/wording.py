"""What an outage notice's update says to a customer: the standard wording (states.MESSAGES) in the case's
language, Traditional characters for a customer who writes them, the expected recovery time in the
service zone, and the outbox key that makes it one message per customer per update."""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import states

TRADITIONAL = "traditional"
SENTENCE_ENDS = ("。", "！", "？", ".", "!", "?", "…")


def outage_key(update_id: int, conversation_id: str) -> str:
    """The outbox key of update `update_id` for one conversation: deterministic, so the database's unique
    index refuses a second message of the same update to the same customer."""
    return hashlib.sha256(f"outage-update:{update_id}:{conversation_id}".encode()).hexdigest()


@functools.cache
def _s2t() -> Any:
    from opencc import OpenCC  # type: ignore[import-untyped]  # built on first use, not at import

    return OpenCC("s2t")


def to_traditional(text: str) -> str:
    return str(_s2t().convert(text))


def eta_text(eta: datetime | None, lang: str, zone: str) -> str:
    """The expected recovery time as a customer reads it, in the service zone."""
    if eta is None:
        return states.ETA_UNKNOWN[lang]
    local = eta.astimezone(ZoneInfo(zone))
    if lang == "en":
        return local.strftime("%d %b %Y, %H:%M").lstrip("0") + " (Beijing time)"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def customer_message(notice: Any, upd: Any, lang: str, zone: str, script: str | None = None) -> str:
    """What a customer of language `lang` (and Chinese `script`) is sent for update `upd`."""
    lang = "en" if lang.startswith("en") else "zh"
    kind = "resolved" if upd.status == states.RESOLVED else "update"
    message = (upd.message_en if lang == "en" else upd.message_zh).strip()
    if not message.endswith(SENTENCE_ENDS):
        message += "." if lang == "en" else "。"
    text = states.MESSAGES[kind][lang].format(
        title=notice.title_en if lang == "en" else notice.title_zh,
        status=states.STATUS_LABELS[upd.status][lang],
        message=message,
        eta=eta_text(upd.expected_recovery_at, lang, zone),
    )
    return to_traditional(text) if lang == "zh" and script == TRADITIONAL else text
