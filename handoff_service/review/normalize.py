"""Which customer messages are "the same text": NFKC (full-width forms become half-width),
case folded, every digit run one placeholder, punctuation, symbols and spaces dropped (Chinese
puts no spaces between words, so a comma must not become a word boundary).
So 「退款怎么还没到？？」 and 「退款 怎么还没到」 are one item, 「ＲＥＦＵＮＤ！」 and "refund"
another, "order 12345 where" and "Order 67890, where?" a third."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_DIGITS = re.compile(r"\d+")
MAX_KEY_SOURCE = 2000  # characters considered (longer messages are cut by the channel anyway)


def normalized(text: str) -> str:
    folded = _DIGITS.sub("0", unicodedata.normalize("NFKC", text[:MAX_KEY_SOURCE]).casefold())
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PSZC")


def group_key(text: str) -> str:
    """The item a message belongs to: a hash of its normalised text (64 hex characters)."""
    return hashlib.sha256(normalized(text).encode()).hexdigest()
