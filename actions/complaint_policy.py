"""The complaint policy table (data/complaint_policy.yml): categories, remedies, keyword matching."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from bot.text import to_simplified

POLICY_FILE = Path(__file__).resolve().parents[1] / "data" / "complaint_policy.yml"
CATEGORIES = ("quality", "delivery", "service", "billing", "other")
REMEDIES = ("refund", "replacement", "repair", "voucher", "human_decision")
HUMAN_DECISION = "human_decision"


def _normalise(text: str) -> str:
    return to_simplified(text or "").lower()


class ComplaintPolicy:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _first_match(self, table: dict[str, Any], text: str) -> str | None:
        """The key whose keywords (either language) appear earliest in the text."""
        text = _normalise(text)
        best: tuple | None = None
        for key, words in table.items():
            for word in [*words.get("zh", []), *words.get("en", [])]:
                at = text.find(word.lower())
                if at >= 0 and (best is None or at < best[0]):
                    best = (at, key)
        return best[1] if best else None

    def category_for(self, text: str) -> str | None:
        return self._first_match({k: v["keywords"] for k, v in self.data["categories"].items()}, text)

    def needs_order(self, category: str | None) -> bool:
        return bool(self.data["categories"].get(category or "other", {}).get("needs_order"))

    def remedy_for(self, text: str) -> str | None:
        return self._first_match(self.data["remedy_keywords"], text)

    def wants_another(self, text: str) -> bool:
        return self._first_match({"another": self.data["another_remedy"]}, text) is not None

    def field_for(self, text: str) -> str | None:
        return self._first_match(self.data["fields"], text)

    def offers(self, category: str | None, order_state: str | None) -> list[str]:
        """Remedies that fit the category and the order's state, best first."""
        for rule in self.data["remedies"].get(category or "other", []):
            states = rule.get("order_states")
            if not states or order_state in states:
                return list(rule["offer"])
        return [HUMAN_DECISION]


@functools.lru_cache(maxsize=1)
def complaint_policy(path: Path = POLICY_FILE) -> ComplaintPolicy:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = set(data["categories"]) - set(CATEGORIES)
    offered = {r for rules in data["remedies"].values() for rule in rules for r in rule["offer"]} - set(REMEDIES)
    if unknown or offered:
        raise ValueError(f"{path}: unknown categories {sorted(unknown)} or remedies {sorted(offered)}")
    return ComplaintPolicy(data)
