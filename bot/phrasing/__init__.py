"""The phrasing style guide and its linter.

`lint_domain` checks every response of a domain against style_guide.yml and
names the response, the language and the rule broken; `find_taboos` checks any
text (the agent console uses the same data).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

STYLE_GUIDE = Path(__file__).with_name("style_guide.yml")
LANGUAGES = ("zh", "en")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclasses.dataclass(frozen=True)
class Violation:
    response: str
    language: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.response} [{self.language}]" if self.language else self.response
        return f"{where}: {self.rule}: {self.message}"


@functools.lru_cache(maxsize=4)
def load_style_guide(path: Path = STYLE_GUIDE) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def _normalise(text: str) -> str:
    from bot.text import to_simplified  # lazy: OpenCC only when Chinese is checked

    return (to_simplified(text) if _CJK.search(text) else text).casefold()


def _contains(text: str, phrase: str) -> bool:
    return phrase.casefold() in text


def find_taboos(text: str, guide: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Taboo phrases in `text`, as [{"category", "phrase"}], for any language."""
    guide = guide or load_style_guide()
    normalised = _normalise(text)
    return [
        {"category": category, "phrase": phrase}
        for category, by_language in guide["taboo_phrases"].items()
        for phrases in by_language.values()
        for phrase in phrases
        if _contains(normalised, phrase)
    ]


def _variations(response: str, variations: list[dict[str, Any]]) -> Iterable[Violation | tuple]:
    """Yields (language, text) per variation, or a Violation when the zh/en pair is broken."""
    seen: dict[str, str] = {}
    for variation in variations:
        languages = [c.get("value") for c in variation.get("condition") or [] if c.get("name") == "language"]
        if len(languages) != 1 or languages[0] not in LANGUAGES:
            yield Violation(response, "", "bilingual", "every variation needs one `language` condition, zh or en")
            continue
        if languages[0] in seen:
            yield Violation(response, languages[0], "bilingual", "more than one variation for this language")
        seen[languages[0]] = variation.get("text") or ""
    for language in LANGUAGES:
        if language not in seen:
            yield Violation(response, language, "bilingual", "the variation for this language is missing")
    for language, text in seen.items():
        yield language, text


def lint_response(response: str, variations: list[dict[str, Any]], guide: dict[str, Any]) -> list[Violation]:
    found: list[Violation] = []
    for item in _variations(response, variations):
        if isinstance(item, Violation):
            found.append(item)
            continue
        language, text = item
        if not text.strip():
            found.append(Violation(response, language, "not-empty", "the text is empty"))
            continue
        if language == "zh" and not _CJK.search(text):
            found.append(Violation(response, language, "language", "the zh text holds no Chinese"))
        if language == "en" and _CJK.search(text):
            found.append(Violation(response, language, "language", "the en text holds Chinese characters"))
        for taboo in find_taboos(text, guide):
            found.append(Violation(response, language, f"taboo-{taboo['category']}", f'contains "{taboo["phrase"]}"'))
        normalised = _normalise(text)
        for rule in guide["rules"]:
            if not any(fnmatch.fnmatchcase(response, pattern) for pattern in rule["responses"]):
                continue
            for group in rule["require"]:
                phrases = guide["standard_phrases"][group][language]
                if not any(_contains(normalised, phrase) for phrase in phrases):
                    found.append(
                        Violation(
                            response, language, rule["id"], f"must contain one of {phrases} ({rule['description']})"
                        )
                    )
    return found


def lint_domain(domain: dict[str, Any], guide: dict[str, Any] | None = None) -> list[Violation]:
    guide = guide or load_style_guide()
    responses = domain.get("responses") or {}
    found = [v for name, variations in responses.items() for v in lint_response(name, variations, guide)]
    for rule in guide["rules"]:
        for pattern in rule["responses"]:
            if not any(fnmatch.fnmatchcase(name, pattern) for name in responses):
                found.append(Violation(pattern, "", rule["id"], "the rule names a response the domain does not have"))
    return found
