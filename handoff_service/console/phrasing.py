"""The bot's phrasing style guide for the agent console: one-click standard
phrases, and the taboo-phrase check with the same rule as the bot's linter
(bot/phrasing): case-insensitive, Chinese compared after Traditional ->
Simplified conversion (OpenCC t2s, the same converter package as the bot's)."""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from handoff_service.core.errors import DomainError

_CJK = re.compile(r"[\u3400-\u9fff]")
# a phrase worth a button holds a letter, a digit or a CJK character (not just "？")
_WORDY = re.compile(r"[\w\u3400-\u9fff]")
_LOCK = threading.Lock()


class StyleGuideUnavailable(DomainError):
    status = 503
    code = "style_guide_unavailable"


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC  # type: ignore[import-untyped]

    return OpenCC("t2s")


def normalise(text: str) -> str:
    """What the linter compares phrases against."""
    if _CJK.search(text):
        with _LOCK:  # the pure-Python converter keeps state while converting
            text = _t2s().convert(text)
    return text.casefold()


class StyleGuide:
    """Loaded from the YAML file; reloaded when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._data: dict[str, Any] = {}

    def data(self) -> dict[str, Any]:
        try:
            st = self.path.stat()
        except OSError as e:
            raise StyleGuideUnavailable(f"the style guide {self.path.name} cannot be read: {e.strerror}") from None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as e:
                raise StyleGuideUnavailable(f"the style guide cannot be read: {type(e).__name__}") from None
            if not isinstance(data, dict) or not isinstance(data.get("taboo_phrases"), dict):
                raise StyleGuideUnavailable("the style guide has no taboo_phrases mapping")
            self._data, self._stamp = data, stamp
        return self._data

    def phrases(self) -> dict[str, Any]:
        """Standard phrases by group and language (buttons), and the taboo list."""
        data = self.data()
        standard = []
        for group, by_language in (data.get("standard_phrases") or {}).items():
            if not isinstance(by_language, dict):
                continue
            langs = {
                lang: [p for p in phrases if isinstance(p, str) and _WORDY.search(p)]
                for lang, phrases in by_language.items()
                if isinstance(phrases, list)
            }
            if any(langs.values()):
                standard.append({"group": str(group), "phrases": langs})
        taboo = [
            {"category": str(category), "language": str(lang), "phrases": [p for p in phrases if isinstance(p, str)]}
            for category, by_language in data["taboo_phrases"].items()
            if isinstance(by_language, dict)
            for lang, phrases in by_language.items()
            if isinstance(phrases, list)
        ]
        return {"standard": standard, "taboo": taboo}

    def find_taboos(self, text: str) -> list[dict[str, str]]:
        """Taboo phrases in `text`, as [{category, phrase}] (the linter's rule)."""
        data = self.data()
        normalised = normalise(text)
        return [
            {"category": str(category), "phrase": phrase}
            for category, by_language in data["taboo_phrases"].items()
            if isinstance(by_language, dict)
            for phrases in by_language.values()
            if isinstance(phrases, list)
            for phrase in phrases
            if isinstance(phrase, str) and phrase and phrase.casefold() in normalised
        ]


STYLE_GUIDE = web.AppKey("style_guide", StyleGuide)
