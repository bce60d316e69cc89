from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlg import LocalizedNLG

ROOT = Path(__file__).resolve().parents[2]


def nlg_and_tracker(**slots):
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events("t", [SlotSet(k, v) for k, v in slots.items()], domain.slots)
    return LocalizedNLG(domain=domain), tracker


async def test_variation_follows_the_language_slot():
    nlg, tracker = nlg_and_tracker(language="zh")
    assert (await nlg.generate("utter_greet", tracker, "rest"))["text"].startswith("您好，欢迎光临")
    nlg, tracker = nlg_and_tracker(language="en")
    assert (await nlg.generate("utter_greet", tracker, "rest"))["text"].startswith("Hello, welcome")


async def test_traditional_customers_get_traditional_text_and_buttons():
    nlg, tracker = nlg_and_tracker(language="zh", script="traditional")
    response = await nlg.generate("utter_order_not_found", tracker, "rest", order_number="12345")
    assert "沒有查到訂單 12345" in response["text"]
    assert response["buttons"][1]["title"] == "轉人工客服"


async def test_filled_values_are_html_escaped():
    nlg, tracker = nlg_and_tracker(language="en", order_number="<script>alert(1)</script>")
    response = await nlg.generate("utter_order_lookup_restate", tracker, "rest")
    assert "<script>" not in response["text"] and "&lt;script&gt;" in response["text"]


async def test_unknown_response_gives_nothing():
    nlg, tracker = nlg_and_tracker()
    assert await nlg.generate("utter_does_not_exist", tracker, "rest") is None


async def test_button_payloads_with_entities_are_kept_verbatim(capfd):
    nlg, tracker = nlg_and_tracker(language="zh")
    response = await nlg.generate("utter_ask_csat_overall", tracker, "rest")
    assert response["buttons"][0] == {"title": "5 分", "payload": '/inform{"rating":"5"}'}
    out, err = capfd.readouterr()
    assert "interpolator" not in out + err  # Rasa's interpolator logs an error for every JSON payload


async def test_filled_values_cannot_make_links_or_markup_in_the_widget():
    """A customer's `[退款入口](https://…)` echoed by the bot must not come back as a link
    (the widget renders Markdown); nor an image, emphasis or code."""
    import re

    nlg, tracker = nlg_and_tracker(language="zh")
    typed = "[退款入口](https://evil.example/pay) ![x](https://evil.example/a.png) **急** `code`"
    response = await nlg.generate("utter_order_not_found", tracker, "rest", order_number=typed)
    text = response["text"]
    assert not re.search(r"\]\s*\(", text)  # no [label](url) or ![alt](src)
    assert "**" not in text and "`" not in text
    assert "退款入口" in text and "evil.example/pay" in text  # the words are kept
    assert "https://" not in text  # the widget links a bare address
