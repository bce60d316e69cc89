"""Text helpers shared by the NLU components, the NLG and the actions.

Pure functions; the only state is lazily built converters and jieba's dictionary.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import unicodedata

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
# Tokens kept whole before jieba sees the text: e-mails, URLs, numbers (with + and separators), words.
_TOKEN_RE = re.compile(
    r"(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"|(?P<url>https?://\S+)"
    rf"|(?P<cjk>[{CJK}]+)"
    r"|(?P<word>[A-Za-z0-9][A-Za-z0-9'_-]*)"
    r"|(?P<other>[^\s])"
)
_TAG_RE = re.compile(r"<[^>]{0,200}>")


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def segment(text: str) -> list[tuple[str, int]]:
    """Splits mixed Chinese/English text into (token, start offset) pairs; whitespace is dropped."""
    tokens: list[tuple[str, int]] = []
    for match in _TOKEN_RE.finditer(text):
        if match.lastgroup == "cjk":
            start = match.start()
            for word, offset, _ in _jieba().tokenize(match.group()):
                tokens.append((word, start + offset))
        else:
            tokens.append((match.group(), match.start()))
    return tokens


@functools.lru_cache(maxsize=2)
def _opencc(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def to_simplified(text: str) -> str:
    return _opencc("t2s").convert(text)


def to_traditional(text: str) -> str:
    return _opencc("s2t").convert(text)


def has_chinese(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def detect_language(text: str) -> str | None:
    """'zh' or 'en' when the text says which; None for numbers, emoji or empty text.

    Chinese wins as soon as it carries a real share of the message, so mixed text
    such as "我的order 12345 还没到" counts as Chinese.
    """
    cjk = len(_CJK_RE.findall(text))
    latin_words = len(_LATIN_WORD_RE.findall(text))
    if cjk == 0:
        return "en" if latin_words else None
    # two CJK characters weigh about as much as one English word
    return "zh" if cjk >= latin_words or cjk >= 4 else "en"


def detect_script(text: str) -> str | None:
    """'traditional' or 'simplified' for Chinese text when the characters tell; else None."""
    chinese = "".join(_CJK_RE.findall(text))
    if not chinese:
        return None
    if to_simplified(chinese) != chinese:
        return "traditional"
    if to_traditional(chinese) != chinese:
        return "simplified"
    return None


def strip_markup(text: str) -> str:
    """Removes HTML tags and control characters; unescapes entities; collapses whitespace."""
    text = _TAG_RE.sub(" ", html.unescape(text))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return re.sub(r"\s+", " ", text).strip()


def is_symbols_only(text: str) -> bool:
    """True for text made only of emoji, punctuation and symbols (no letters or digits)."""
    stripped = "".join(ch for ch in text if not ch.isspace())
    return bool(stripped) and not any(ch.isalnum() for ch in stripped)
