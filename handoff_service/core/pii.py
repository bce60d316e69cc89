"""Masking of personal data (PIPL, SPEC §9): mainland mobile numbers, resident ID numbers,
bank cards and e-mail addresses, in logs (`MaskingFilter`) and anywhere else `mask` is called.

Precise rather than greedy: a number is masked only when it is one of these.

- Mobile: 11 digits 1[3-9]x, optionally after +86 / 86 / 0086 (not after 订单号 / order #
  then: order numbers are any 5-20 digits but a bare mobile), optionally grouped 3-4-4 by
  spaces or dashes -> `138****5678`, `138 **** 5678`.
- Resident ID: 18 characters with a known province code, a real birth date and a valid
  GB 11643 check character (X allowed), optionally grouped 6-8-4 -> `110105********002X`.
  The old 15-digit form (no check character) only right after an ID keyword (身份证, ID no.).
- Bank card: 13-19 digits, optionally grouped by fours (or 4-6-5), Luhn-valid, with a
  card issuer's prefix (2221-2720, 3-6, ICBC's 19-digit 95...), not introduced as an order
  number (订单号, order #) and not an 18-digit ID with a wrong check character (province and
  birth date in place) -> `6222 **** **** 0128`.
- E-mail -> first letter and domain, `z***@example.com`.

Numbers are found as chains of digit groups bounded by anything but ASCII letters, digits
and a decimal point, so Chinese text next to a number does not hide it, while case numbers
(C20261124-0007), tracking numbers (SF1402875531), hex ids and amounts (13812345678.50)
are never taken apart. Full-width characters (０-９, ＋, ＠, Ｘ) are detected like ASCII;
the characters kept in view stay as written. `bench/pii_eval.py` measures recall and false
positives on a generated set.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator

# full-width ASCII (U+FF01-FF5E) and ideographic/no-break spaces, one character for one
_NORMALISE = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20, 0x00A0: 0x20}

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
# a chain of digit groups joined by single spaces or dashes; X may end a resident ID
_CHAIN = re.compile(r"[0-9]+(?:[ -][0-9]+)*[Xx]?")
_WORD = re.compile(r"[A-Za-z0-9]")
# what every finding needs, on the raw text: an @ or 11 digits (the shortest number masked is a
# mobile) chained by single separators, ASCII or full-width. Most texts have neither and are
# returned after this one search (an export masks tens of thousands of cells)
_DIGIT = "0-9\uff10-\uff19"
_MAYBE = re.compile(rf"[@\uff20]|[{_DIGIT}](?:[ \-\u3000\u00a0\uff0d]?[{_DIGIT}]){{10}}")

_ID18 = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{6}([ -])[0-9]{8}\1[0-9]{3}[0-9Xx]")
_ID15 = re.compile(r"[0-9]{15}|[0-9]{6}([ -])[0-9]{6}\1[0-9]{3}")
_CARD = re.compile(
    r"[0-9]{13,19}"
    r"|[0-9]{4}([ -])[0-9]{4}(?:\1[0-9]{4}){1,2}(?:\1[0-9]{1,4})?"  # 4-4-4-4, 4-4-4-4-3, ...
    r"|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5}"  # Amex 4-6-5, Diners 4-6-4
)
_MOBILE = re.compile(r"(?:(?:00)?86[ -]?)?1[3-9][0-9](?:[0-9]{8}|([ -])[0-9]{4}\1[0-9]{4})")

_ORDER_CONTEXT = re.compile(
    r"(?:订单|单号|order)\s*(?:编号|号码|号|number|no\.?|id)?\s*(?:是|为|:|is|=)?\s*#?\s*$", re.IGNORECASE
)
_ID_CONTEXT = re.compile(
    r"(?:身份证|证件|id\s*card|id\s*(?:no\.?|number)|identity\s*card)\s*(?:号码|号)?\s*(?:是|为|:|is)?\s*$",
    re.IGNORECASE,
)
_CONTEXT_CHARS = 24

PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# candidates of different kinds that overlap: the first kind here wins
_EMAIL_RANK, _ID_RANK, _CARD_RANK, _MOBILE_RANK, _ID15_RANK = range(5)


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character of the first 17 digits of a resident ID."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _birth_date_ok(yyyymmdd: str) -> bool:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= dt.date.today()


def valid_id18(chars: str) -> bool:
    """18 characters: province, birth date and check character all plausible."""
    return chars[:2] in PROVINCES and _birth_date_ok(chars[6:14]) and id_check_char(chars[:17]) == chars[17].upper()


def valid_id15(digits: str) -> bool:
    """The first-generation 15-digit ID: province and birth date (19YYMMDD); it has no check digit."""
    return digits[:2] in PROVINCES and _birth_date_ok("19" + digits[6:12])


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer_ok(digits: str) -> bool:
    """A payment card's first digits: Mastercard 2221-2720, 3 (Amex, JCB, Diners), 4 (Visa),
    5 (Mastercard, Maestro, domestic debit), 6 (UnionPay, Discover, Maestro), ICBC/ABC's old
    19-digit 95... cards. Excludes 1..., 20..., 7..., 8...: timestamps, date-prefixed order
    numbers, tracking numbers."""
    first = digits[0]
    if first in "3456":
        return True
    if first == "2":
        return 2221 <= int(digits[:4]) <= 2720
    return digits.startswith("95") and len(digits) == 19


def shaped_like_id18(digits: str) -> bool:
    """18 digits with a province code and a birth date where an ID has them (whatever the check digit)."""
    return len(digits) == 18 and digits[:2] in PROVINCES and _birth_date_ok(digits[6:14])


def valid_card(digits: str) -> bool:
    """13-19 digits, an issuer prefix, the Luhn check; an ID with a wrong check digit is not a card."""
    return 13 <= len(digits) <= 19 and card_issuer_ok(digits) and luhn_ok(digits) and not shaped_like_id18(digits)


class _Text:
    """The original text and its one-to-one normalised form (full-width to ASCII)."""

    def __init__(self, text: str) -> None:
        self.raw = text
        self.norm = text.translate(_NORMALISE)

    def starts_ok(self, pos: int) -> bool:
        """Nothing before `pos` makes the number part of a word, an identifier or a decimal."""
        if pos == 0:
            return True
        before = self.norm[pos - 1]
        if _WORD.match(before):
            return False
        return not (before == "." and pos >= 2 and self.norm[pos - 2].isdigit())

    def ends_ok(self, pos: int) -> bool:
        if pos == len(self.norm):
            return True
        after = self.norm[pos]
        if _WORD.match(after):
            return False
        return not (after == "." and pos + 1 < len(self.norm) and self.norm[pos + 1].isdigit())

    def context(self, pos: int) -> str:
        return self.norm[max(0, pos - _CONTEXT_CHARS) : pos]

    def hide(self, start: int, end: int, hidden: range) -> str:
        """The span with the digits (and X) at positions `hidden` (counted among them) as `*`."""
        out = []
        n = 0
        for raw, norm in zip(self.raw[start:end], self.norm[start:end], strict=True):
            if norm.isdigit() or norm in "Xx":
                out.append("*" if n in hidden else raw)
                n += 1
            else:
                out.append(raw)
        return "".join(out)

    def card(self, start: int, end: int) -> str:
        digits = [raw for raw, norm in zip(self.raw[start:end], self.norm[start:end], strict=True) if norm.isdigit()]
        return f"{''.join(digits[:4])} **** **** {''.join(digits[-4:])}"


def _number_candidates(t: _Text) -> Iterator[tuple[int, int, int, str]]:
    """(rank, start, end, replacement) for every group span of every digit chain that is personal data."""
    for chain in _CHAIN.finditer(t.norm):
        groups = [(m.start() + chain.start(), m.end() + chain.start()) for m in re.finditer(r"[0-9]+[Xx]?", chain[0])]
        for i, (start, _) in enumerate(groups):
            if i == 0 and not t.starts_ok(start):
                continue
            size = 0
            for j in range(i, min(i + 5, len(groups))):
                end = groups[j][1]
                size += end - groups[j][0]
                if size < 11 or size > 19 or (j == len(groups) - 1 and not t.ends_ok(end)):
                    continue  # 11 (mobile) to 19 (card, or 86 + mobile with 00) characters
                # grouped cards and IDs take every group their separator joins: "6217 0062 6960 1798 814"
                # is one number, and its first four groups are no card even when they pass the Luhn check
                sep = t.norm[groups[i][1]] if j > i else ""
                cut = bool(sep) and (
                    (i > 0 and t.norm[start - 1] == sep) or (j < len(groups) - 1 and t.norm[end] == sep)
                )
                found = _classify(t, start, end, cut)
                if found:
                    yield (found[0], start, end, found[1])


def _classify(t: _Text, start: int, end: int, cut: bool) -> tuple[int, str] | None:
    """What the span is (rank and masked text), if personal data; `cut`: part of a longer grouped number."""
    piece = t.norm[start:end]
    chars = re.sub(r"[ -]", "", piece)
    if not cut and _ID18.fullmatch(piece) and valid_id18(chars):
        return _ID_RANK, t.hide(start, end, range(6, 14))
    if "X" in chars.upper():
        return None
    if not cut and _CARD.fullmatch(piece) and valid_card(chars) and not _ORDER_CONTEXT.search(t.context(start)):
        return _CARD_RANK, t.card(start, end)
    if _MOBILE.fullmatch(piece):
        national = len(chars) - 11
        if national and _ORDER_CONTEXT.search(t.context(start)):
            return None  # 订单号8613812345678: an order number (5-20 digits), only a bare 11-digit one is not
        return _MOBILE_RANK, t.hide(start, end, range(national + 3, national + 7))
    if not cut and _ID15.fullmatch(piece) and valid_id15(chars) and _ID_CONTEXT.search(t.context(start)):
        return _ID15_RANK, t.hide(start, end, range(6, 12))
    return None


def mask(text: str) -> str:
    """`text` with every mobile number, resident ID, bank card and e-mail address masked."""
    if not _MAYBE.search(text):
        return text
    t = _Text(text)
    candidates = [
        (_EMAIL_RANK, m.start(), m.end(), f"{text[m.start()]}***@{text[m.start(1) : m.end(1)]}")
        for m in _EMAIL.finditer(t.norm)
    ]
    candidates.extend(_number_candidates(t))
    if not candidates:
        return text
    # by kind, then the longest first: an e-mail's digits are not a mobile, +86 belongs to it
    candidates.sort(key=lambda c: (c[0], c[1] - c[2], c[1]))
    chosen: list[tuple[int, int, str]] = []
    for _, start, end, replacement in candidates:
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, replacement))
    chosen.sort()
    out = []
    pos = 0
    for start, end, replacement in chosen:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


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
