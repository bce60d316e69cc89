"""Masking of personal data (PIPL): CN mobile numbers, resident ID numbers,
bank cards and e-mail addresses. Used by the logging filter."""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# 18-digit resident ID (last char may be X)
_ID = re.compile(r"(?<![0-9])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# bank cards: 16-19 digits, optionally grouped by spaces or dashes
_CARD = re.compile(r"(?<![0-9])(\d{4})(?:[ -]?\d){8,11}([ -]?\d{4})(?![0-9])")
# mainland mobile numbers, optionally +86 / 86 prefixed
_MOBILE = re.compile(r"(?<![0-9])((?:\+?86[ -]?)?1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def mask(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _ID.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _CARD.sub(lambda m: f"{m.group(1)} **** **** {m.group(2).strip(' -')}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return text


class MaskingFilter(logging.Filter):
    """Rewrites each record's final message with personal data masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        record.msg = mask(msg)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def install_masking(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of `logger` (root by default)."""
    logger = logger or logging.getLogger()
    for h in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in h.filters):
            h.addFilter(MaskingFilter())
