"""Satisfaction and follow-up (SPEC §6).

The survey: overall 1-5, then attitude, speed and problem solved, and an optional comment. Buttons and
typed answers (「5分」「非常满意」 "4 stars") both work; skipping is allowed. The answers land on the case
(credited by handoff_service to its owner and last handler).

The follow-up visit (回访): handoff_service triggers EXTERNAL_follow_up_visit when one is due; the bot asks
whether the matter is solved (and for a 1-5 rating when the survey was not answered). Solved closes the
case; not solved reopens it to its owner, and the customer hears who will reply and by when."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cases import CaseAction
from actions.clients.handoff import CaseJournal
from actions.common import entity_text, format_deadline, language, latest_intent
from bot.text import strip_markup, to_simplified

RATING_SLOTS = ("csat_overall", "csat_attitude", "csat_speed", "csat_solved")
SKIP_WORDS = ("跳过", "不评", "不想评", "不用评", "下次", "skip", "no thanks", "not now", "rather not")
# longest phrases first, so 非常不满意 is not read as 满意
WORDS = sorted(
    {
        "非常满意": 5,
        "很满意": 5,
        "特别满意": 5,
        "超级满意": 5,
        "完美": 5,
        "满分": 5,
        "好评": 5,
        "非常不满意": 1,
        "很不满意": 1,
        "极差": 1,
        "很差": 1,
        "太差": 1,
        "差评": 1,
        "非常差": 1,
        "不满意": 2,
        "不太满意": 2,
        "较差": 2,
        "不好": 2,
        "一般": 3,
        "还行": 3,
        "凑合": 3,
        "马马虎虎": 3,
        "满意": 4,
        "挺好": 4,
        "不错": 4,
        "比较满意": 4,
        "好": 4,
        "very satisfied": 5,
        "excellent": 5,
        "perfect": 5,
        "amazing": 5,
        "great": 5,
        "very dissatisfied": 1,
        "terrible": 1,
        "awful": 1,
        "very bad": 1,
        "very poor": 1,
        "dissatisfied": 2,
        "unsatisfied": 2,
        "bad": 2,
        "poor": 2,
        "not good": 2,
        "average": 3,
        "okay": 3,
        "ok": 3,
        "so-so": 3,
        "fine": 3,
        "neutral": 3,
        "satisfied": 4,
        "good": 4,
        "pretty good": 4,
    }.items(),
    key=lambda item: -len(item[0]),
)
YES_NO = {
    "是": 5,
    "解决了": 5,
    "已解决": 5,
    "没解决": 1,
    "未解决": 1,
    "没有解决": 1,
    "还没解决": 1,
    "yes": 5,
    "solved": 5,
    "no": 1,
    "not solved": 1,
    "unsolved": 1,
}
NUMBER = re.compile(r"(?<![\d.])([1-5])(?:\s*(?:分|星|颗星|stars?|/\s*5|out of 5|points?))?(?![\d.])", re.I)
CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
CHINESE_NUMBER = re.compile(r"([一二两三四五])\s*(?:分|星|颗星)")


def parse_rating(text: str, yes_no: bool = False) -> int | None:
    """A 1-5 rating from a typed answer, or None when the answer holds none."""
    text = to_simplified(strip_markup(text or "")).strip().lower()
    if not text:
        return None
    match = NUMBER.search(text)
    if match:
        return int(match.group(1))
    match = CHINESE_NUMBER.search(text)
    if match:
        return CHINESE_DIGITS[match.group(1)]
    if yes_no:
        for phrase, value in sorted(YES_NO.items(), key=lambda item: -len(item[0])):
            if phrase in text:
                return value
    for phrase, value in WORDS:
        if re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text):
            return value
    return None


def valid_rating(value: Any) -> int | None:
    """An answer already validated (1-5), or None (not asked yet, raw text, or 0 = skipped)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 5:
        return int(value)
    return None


def wants_to_skip(tracker: Tracker) -> bool:
    text = (tracker.latest_message.get("text") or "").lower()
    return latest_intent(tracker) in ("stop", "deny") and not parse_rating(text) or any(w in text for w in SKIP_WORDS)


def rating_from(tracker: Tracker, value: Any, slot: str) -> int | None:
    button = next(tracker.get_latest_entity_values("rating"), None)
    if button and str(button).isdigit() and 1 <= int(button) <= 5:
        return int(button)
    return parse_rating(str(value or ""), yes_no=slot == "csat_solved" or latest_intent(tracker) in ("affirm", "deny"))


class ValidateSurveyForm(FormValidationAction):
    def name(self) -> str:
        return "validate_survey_form"

    def _rating(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        if wants_to_skip(tracker):
            # 0 = not answered; the form ends and action_survey_submit sends only real answers
            left = {s: 0 for s in RATING_SLOTS if valid_rating(tracker.get_slot(s)) is None}
            return {**left, "csat_comment": "-", "survey_skipped": True}
        rating = rating_from(tracker, value, slot)
        if rating is None:
            dispatcher.utter_message(response="utter_survey_rating_unclear")
        return {slot: rating}

    def validate_csat_overall(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._rating("csat_overall", value, dispatcher, tracker)

    def validate_csat_attitude(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._rating("csat_attitude", value, dispatcher, tracker)

    def validate_csat_speed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._rating("csat_speed", value, dispatcher, tracker)

    def validate_csat_solved(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._rating("csat_solved", value, dispatcher, tracker)

    def validate_csat_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = strip_markup(str(value or "")).strip()
        no_comment = latest_intent(tracker) in ("deny", "stop") or text.lower() in (
            "无",
            "没有",
            "没了",
            "no",
            "none",
            "nothing",
        )
        return {"csat_comment": "-" if no_comment or not text else text[:2000]}


class ActionSurveySubmit(CaseAction):
    """Sends the answers to the case; thanks the customer either way (a skipped survey sends nothing)."""

    def name(self) -> str:
        return "action_survey_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        answers = {slot.replace("csat_", ""): valid_rating(tracker.get_slot(slot)) for slot in RATING_SLOTS}
        answers = {k: v for k, v in answers.items() if v is not None}
        comment = tracker.get_slot("csat_comment")
        if comment and comment != "-":
            answers["comment"] = comment
        number = tracker.get_slot("case_number")
        clear = [SlotSet(slot, None) for slot in (*RATING_SLOTS, "csat_comment", "survey_skipped")]
        if "overall" not in answers or not number:
            dispatcher.utter_message(response="utter_survey_skipped")
            return clear
        journal = self.journal(tracker)
        journal.add("csat", answers)  # kept and retried like every case write
        events = await self.save(journal, dispatcher, tracker)
        dispatcher.utter_message(response="utter_survey_thanks")
        return events + clear


# ---------------------------------------------------------------- the follow-up visit

FOLLOW_UP_SLOTS = ("follow_up_case", "follow_up_ask_rating", "follow_up_solved", "follow_up_rating")
# typed answers to "is it solved now?"; the negative phrases first (没解决 holds 解决)
NOT_SOLVED_WORDS = (
    "没解决", "未解决", "没有解决", "还没", "没有", "不行", "没好", "还是", "依然", "仍然", "否",
    "not solved", "unsolved", "not yet", "still", "no",
)  # fmt: skip
SOLVED_WORDS = ("已解决", "解决了", "好了", "可以了", "是的", "是", "solved", "fixed", "resolved", "yes", "ok")


def parse_solved(tracker: Tracker, value: Any) -> bool | None:
    """True, False, or None when the answer says neither."""
    intent = latest_intent(tracker)
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    text = to_simplified(strip_markup(str(value or ""))).strip().lower()
    for words, answer in ((NOT_SOLVED_WORDS, False), (SOLVED_WORDS, True)):
        if any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text) for w in words):
            return answer
    return None


class ActionFollowUpVisit(CaseAction):
    """A follow-up visit is due: introduce it; the form asks. The visit's case becomes the
    conversation's case (a reopened case's messages go to its agent)."""

    def name(self) -> str:
        return "action_follow_up_visit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        number = entity_text(tracker, "case_number")
        ask = next(tracker.get_latest_entity_values("ask_rating"), None)
        events: list[dict] = [SlotSet(slot, None) for slot in FOLLOW_UP_SLOTS[2:]]
        events += [SlotSet("follow_up_case", number), SlotSet("follow_up_ask_rating", str(ask).lower() == "true")]
        if number and (tracker.get_slot("case_number") == number or not tracker.get_slot("case_journal")):
            events.append(SlotSet("case_number", number))
        dispatcher.utter_message(response="utter_follow_up_visit", case_number=number or "")
        return events


class ValidateFollowUpForm(FormValidationAction):
    def name(self) -> str:
        return "validate_follow_up_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        wanted = list(domain_slots)
        if not tracker.get_slot("follow_up_ask_rating"):
            wanted.remove("follow_up_rating")
        return wanted

    def validate_follow_up_solved(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is None:  # cleared by action_follow_up_visit (rasa_sdk validates every slot just set)
            return {"follow_up_solved": None}
        solved = parse_solved(tracker, value)
        if solved is None:
            dispatcher.utter_message(response="utter_follow_up_unclear")
        return {"follow_up_solved": solved}

    def validate_follow_up_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is None:  # cleared by action_follow_up_visit
            return {"follow_up_rating": None}
        if wants_to_skip(tracker):
            return {"follow_up_rating": 0}  # not answered: nothing is sent
        rating = rating_from(tracker, value, "follow_up_rating")
        if rating is None:
            dispatcher.utter_message(response="utter_survey_rating_unclear")
        return {"follow_up_rating": rating}


class ActionFollowUpSubmit(CaseAction):
    """Sends the answer (kept and retried like every case write) and tells the customer what follows."""

    def name(self) -> str:
        return "action_follow_up_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        number, solved = tracker.get_slot("follow_up_case"), tracker.get_slot("follow_up_solved")
        clear = [SlotSet(slot, None) for slot in FOLLOW_UP_SLOTS]
        if not number or not isinstance(solved, bool):
            dispatcher.utter_message(response="utter_follow_up_skipped")
            return clear
        body: dict[str, Any] = {"solved": solved}
        rating = valid_rating(tracker.get_slot("follow_up_rating"))
        if rating is not None:
            body["rating"] = rating
        journal, events = self.journal(tracker), clear
        if journal.case_number == number:  # kept in the slots and retried until it lands
            journal.add("follow_up", body)
            result = await journal.flush(self.client)
            self.retrier.retry_later(tracker.sender_id, journal, self.client)
            events = clear + [SlotSet("case_journal", journal.pending)]
        else:  # another matter's writes wait in the slots: this answer goes alone (unanswered, it is asked again)
            journal = CaseJournal(number, [])
            journal.add("follow_up", body)
            result = await journal.flush(self.client)
        if solved:
            dispatcher.utter_message(response="utter_follow_up_solved", case_number=number)
            return events
        case = result.case if not result.error else None
        owner = (case or {}).get("owner") or {}
        due = ((case or {}).get("sla") or {}).get("result", {}).get("due")
        if case and owner and due:
            dispatcher.utter_message(
                response="utter_follow_up_reopened",
                case_number=number,
                agent=owner.get("display_name") or owner.get("username"),
                deadline=format_deadline(dt.datetime.fromisoformat(due), language(tracker)),
            )
        else:
            dispatcher.utter_message(response="utter_follow_up_reopened_later", case_number=number)
        return events
