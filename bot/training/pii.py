"""Masking of personal data in the texts a training report shows (PIPL): mainland mobile numbers,
resident ID numbers, bank cards and e-mail addresses.

Pure and greedy (a report may hide too much, never too little): every number of 11 or more digits,
written as digit groups joined by single spaces or dashes (an ID may end in X), keeps its first three
and last four digits and has the others starred: `138****5678`, `110***********002X`,
`622 2*** **** ***0 128` (that covers mobiles with or without +86, resident IDs old and new, and bank
cards; a long order number is starred too). E-mails keep their first letter and domain:
`z***@example.com`. Full-width digits and @ are found like ASCII ones. handoff_service has a precise
masker (`handoff_service/core/pii.py`) in its own environment; this one is for the Rasa side's tools.
"""

from __future__ import annotations

import re

_FULL_WIDTH = {0xFF10 + i: 0x30 + i for i in range(10)} | {0xFF20: 0x40, 0xFF38: 0x58, 0xFF58: 0x78}
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
# digit groups joined by single spaces or dashes, not inside a word or a decimal number
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])[0-9]+(?:[ -][0-9]+)*[Xx]?(?![A-Za-z0-9])")
MIN_DIGITS = 11
KEEP_HEAD, KEEP_TAIL = 3, 4


def _star_number(chars: list[str], start: int, end: int) -> None:
    positions = [i for i in range(start, end) if chars[i].isalnum()]
    if len(positions) < MIN_DIGITS:
        return
    for i in positions[KEEP_HEAD:-KEEP_TAIL]:
        chars[i] = "*"


def mask(text: str) -> str:
    """`text` with mobiles, ID numbers, bank cards (any 11+ digit number) and e-mails masked."""
    if not text:
        return text
    probe = text.translate(_FULL_WIDTH)  # one character for one: positions stay
    chars = list(text)
    for match in _EMAIL.finditer(probe):
        local_end = match.start(2)
        for i in range(match.start() + 1, local_end):
            chars[i] = ""
        chars[match.start() + 1] = "***" if local_end > match.start() + 1 else chars[match.start() + 1]
    for match in _NUMBER.finditer(probe):
        _star_number(chars, match.start(), match.end())
    return "".join(chars)
