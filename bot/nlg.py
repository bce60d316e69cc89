"""Response generation in the customer's language and script.

Responses come from the domain (zh/en variations chosen by the `language` slot).
Values filled into a response are HTML-escaped and made inert for the widget's Markdown
(`[`, `]`, `*` and backticks become their full-width forms, so a customer's `[text](url)` echoed
back is never a link), and Chinese replies are converted to Traditional characters for customers
who write Traditional.
Configured in endpoints.yml as `nlg: {type: bot.nlg.LocalizedNLG}`.
"""

from __future__ import annotations

import html
import re
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.language import detected
from bot.text import to_traditional

# Markdown that could make a link, an image, emphasis or code out of a filled-in value, and the
# colon of a link's scheme (the widget links bare http(s):// and mailto: addresses); the same rule
# as handoff_service's for agents' replies, with no allowed host: a customer's value is never a link.
INERT_MARKDOWN = str.maketrans({"[": "［", "]": "］", "*": "＊", "`": "｀"})
LINK_SCHEME = re.compile(r"(?i)\b(https?|mailto|ftp|file):")


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return LINK_SCHEME.sub(r"\1：", html.escape(value, quote=False).translate(INERT_MARKDOWN))
    if isinstance(value, list):
        return [_escape(item) for item in value]
    return value


def localize(response: dict[str, Any], slots: dict[str, Any]) -> dict[str, Any]:
    """Converts a Chinese response to Traditional characters when the customer writes them."""
    if slots.get("language") != "zh" or slots.get("script") != "traditional":
        return response
    if response.get("text"):
        response["text"] = to_traditional(response["text"])
    for button in response.get("buttons") or []:
        if button.get("title"):
            button["title"] = to_traditional(button["title"])
    return response


class LocalizedNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Any = None, domain: Any = None) -> None:
        super().__init__(domain.responses if domain is not None else {})

    def _fill_response(
        self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        # Button payloads are intents with JSON entities ('/inform{"rating":"5"}'), never templates:
        # keep them out of Rasa's {placeholder} interpolation (which would log an error for each).
        buttons = response.get("buttons") or []
        payloads = [button.get("payload") for button in buttons]
        for button in buttons:
            button.pop("payload", None)
        filled = super()._fill_response(response, filled_slots, **kwargs)
        for button, payload in zip(filled.get("buttons") or [], payloads, strict=True):
            if payload is not None:
                button["payload"] = payload
        return filled

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        # the latest message's language wins: the slot catches up after this turn's first action
        current = {**tracker.current_slot_values(), **detected(tracker)}
        slots = {name: _escape(value) for name, value in current.items()}
        values = {name: _escape(value) for name, value in kwargs.items()}
        response = self.generate_from_slots(utter_action, slots, output_channel, **values)
        return localize(response, slots) if response is not None else None
