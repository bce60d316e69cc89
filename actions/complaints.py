"""The five-step complaint script (SPEC §2): listen and accept → calm → clarify → negotiate → confirm.

Each step writes a timeline entry to the case (through the journal, so nothing is lost while
handoff_service is down). The wording lives in domain.yml; the remedies in data/complaint_policy.yml.
`complaint_step` (a featurised slot) tells the rules where the customer is in the script; the steps' names and the
slot's values are in actions/complaint_steps.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import complaint_steps as steps
from actions import ownership
from actions.cases import FORM_SLOTS, CaseAction, collected
from actions.clients import default_order_backend
from actions.clients.handoff import CaseJournal, HandoffUnavailable
from actions.clients.orders import OrderBackend
from actions.common import entity_text, format_deadline, label, language, latest_intent
from actions.complaint_policy import CATEGORIES, HUMAN_DECISION, REMEDIES, complaint_policy
from actions.complaint_steps import Stage
from actions.order_lookup import PROOF_RETRY_INTENTS, checked_order_number, form_proof_answer
from actions.outage_notices import SLOT as OUTAGE_SLOT
from actions.outage_notices import TOPIC_BY_CATEGORY, notices_in_force, told
from actions.ownership import Access, order_number_of
from bot.text import strip_markup

DEFAULT_RESULT_HOURS = 48  # the standard's limit, used when the case's own deadline cannot be read
# what a complaint raised inside another flow was probably about
CATEGORY_BY_INTENT = {
    "order_status": "delivery",
    "payment_issue": "billing",
    "refund": "billing",
    "return_exchange": "quality",
    "product_inquiry": "quality",
}


def emotion_level(tracker: Tracker) -> int:
    emotion = tracker.latest_message.get("emotion") or {}
    return int(emotion.get("level") or 0)


def entity(tracker: Tracker, name: str) -> str | None:
    return entity_text(tracker, name)


def category_label(domain: dict[str, Any], tracker: Tracker, category: str | None) -> str:
    return label(domain, f"utter_label_category_{category or 'other'}", tracker)


def remedy_label(domain: dict[str, Any], tracker: Tracker, remedy: str) -> str:
    return label(domain, f"utter_label_remedy_{remedy}", tracker)


def script_step(journal: CaseJournal, step: str, **details: Any) -> None:
    """The timeline entry of one of the script's five steps, with its number."""
    journal.step(step, step=steps.step_number(step), **details)


class ActionComplaintAccept(CaseAction):
    """Step 1, listen and accept: open the case at once, give its number, state who owns the matter."""

    def name(self) -> str:
        return "action_complaint_accept"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        text = strip_markup(tracker.latest_message.get("text") or "").strip()
        policy = complaint_policy()
        guess = policy.category_for(text) or CATEGORY_BY_INTENT.get(
            (tracker.latest_message.get("rerouted_from") or {}).get("name", "")
        )
        level = emotion_level(tracker)
        journal = self.journal(tracker)
        if tracker.get_slot(steps.SLOT) == Stage.DONE:
            journal.case_number = None  # a new matter gets a new case
        events: list[dict] = []
        notice = tracker.get_slot(OUTAGE_SLOT)
        if not journal.is_open and not notice and guess in TOPIC_BY_CATEGORY:
            # a complaint on a topic an outage notice in force affects: the notice first, and the case is linked
            events += told(
                dispatcher, tracker, domain, await notices_in_force(self.client, TOPIC_BY_CATEGORY[guess]) or []
            )
            notice = events[0]["value"] if events else None
        if not journal.is_open:
            journal.open_case(self.new_case(tracker, guess or "other", text, notice))
        script_step(
            journal,
            steps.LISTEN_ACCEPT,
            message=text[:1000],
            category_guess=guess,
            emotion_level=level,
            language=language(tracker),
        )
        events += await self.save(journal, dispatcher, tracker, announce=False)
        if journal.case_number:
            dispatcher.utter_message(response="utter_complaint_accepted", case_number=journal.case_number)
        else:
            dispatcher.utter_message(response="utter_complaint_accepted_pending")
        events += [
            SlotSet("case_number_told", bool(journal.case_number)),
            SlotSet(steps.SLOT, Stage.ACCEPTED),
            SlotSet("emotion_level", max(level, int(tracker.get_slot("emotion_level") or 0))),
        ]
        if tracker.get_slot(steps.SLOT) in (None, Stage.DONE):  # a new matter: nothing carried over
            events += [
                SlotSet("complaint_category", guess),
                # the complaint message already says what happened when its category could be told from it
                SlotSet("complaint_details", text[:500] if guess and len(text) >= 6 else None),
                SlotSet("complaint_expectation", None),
                SlotSet("complaint_remedy", None),
                SlotSet("remedy_offers", None),
                SlotSet("remedy_rejected", []),
            ]
        number = order_number_of(entity(tracker, "order_number"))
        if number:
            events.append(SlotSet("order_number", number))
        return events


class ActionComplaintCalm(CaseAction):
    """Step 2, calm: empathy worded for how upset the customer is; level 3 raises the case's tier."""

    RAISED_TIER = "high"

    def name(self) -> str:
        return "action_complaint_calm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        level = max(0, min(3, int(tracker.get_slot("emotion_level") or 0)))
        cues = list((tracker.latest_message.get("emotion") or {}).get("cues") or [])
        journal = self.journal(tracker)
        raised = level >= 3
        if raised:
            journal.add("update", {"tier": self.RAISED_TIER})
        script_step(journal, steps.CALM, emotion_level=level, cues=cues[:10], tier=self.RAISED_TIER if raised else None)
        dispatcher.utter_message(response=f"utter_complaint_calm_{level}")
        return await self.save(journal, dispatcher, tracker) + [SlotSet(steps.SLOT, Stage.CLARIFYING)]


class ValidateComplaintForm(FormValidationAction):
    """Step 3, clarify: category, order (when the category needs one), what happened, what is expected."""

    def __init__(self, orders: OrderBackend | None = None) -> None:
        self._orders = orders

    @property
    def orders(self) -> OrderBackend:
        return self._orders or default_order_backend()

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        category = tracker.get_slot("complaint_category")
        if category and not complaint_policy().needs_order(category):
            return [slot for slot in domain_slots if slot not in ("order_number", ownership.PROOF_SLOT)]
        if not ownership.needs_proof(tracker, order_number_of(tracker.get_slot("order_number"))):
            # an identified customer, an order proved before, or no more asking after three wrong answers
            return [slot for slot in domain_slots if slot != ownership.PROOF_SLOT]
        return domain_slots

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        # the order is proved before the remedies, which depend on its state, are chosen
        proof_events = await form_proof_answer(self.orders, dispatcher, tracker, PROOF_RETRY_INTENTS)
        return proof_events + await super().run(dispatcher, tracker, domain)

    def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        chosen = entity(tracker, "complaint_category")
        if chosen not in CATEGORIES:
            chosen = complaint_policy().category_for(str(value or ""))
        return {"complaint_category": chosen}

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return checked_order_number(value, dispatcher)

    def validate_complaint_details(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = strip_markup(str(value or "")).strip()
        return {"complaint_details": text[:500] if len(text) >= 2 else None}

    def validate_complaint_expectation(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = strip_markup(str(value or "")).strip()
        return {"complaint_expectation": text[:300] if text else None}


class ActionComplaintRestate(CaseAction):
    """Active listening: the whole problem in one sentence, then "did I get that right?"."""

    def name(self) -> str:
        return "action_complaint_restate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        values = {
            "category": category_label(domain, tracker, tracker.get_slot("complaint_category")),
            "details": tracker.get_slot("complaint_details") or "",
            "expectation": tracker.get_slot("complaint_expectation") or "",
        }
        if tracker.get_slot("order_number") and complaint_policy().needs_order(tracker.get_slot("complaint_category")):
            dispatcher.utter_message(
                response="utter_confirm_complaint_problem", order_number=tracker.get_slot("order_number"), **values
            )
        else:
            dispatcher.utter_message(response="utter_confirm_complaint_problem_no_order", **values)
        return [SlotSet(steps.SLOT, Stage.CONFIRMING_PROBLEM)]


class ActionComplaintAskFix(CaseAction):
    """The customer said the restatement is wrong: take a correction given right away, or ask which part."""

    def name(self) -> str:
        return "action_complaint_ask_fix"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        number = order_number_of(entity(tracker, "order_number"))
        if number and number != tracker.get_slot("order_number"):
            journal = self.journal(tracker)
            journal.step(steps.CORRECTED, field="order_number", value=number)
            events = await self.save(journal, dispatcher, tracker)
            return events + [
                SlotSet("order_number", number),
                SlotSet("complaint_fix", None),
                SlotSet(steps.SLOT, Stage.CORRECTED),
            ]
        dispatcher.utter_message(response="utter_ask_complaint_fix")
        return [SlotSet(steps.SLOT, Stage.FIXING)]


class ActionComplaintFix(CaseAction):
    """Clears the part the customer wants to correct, so the form asks for just that part again."""

    def name(self) -> str:
        return "action_complaint_fix"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        field = entity(tracker, "complaint_fix")
        if field not in FORM_SLOTS:
            field = complaint_policy().field_for(tracker.latest_message.get("text") or "")
        if field is None:
            # the answer itself may be the correction ("it's about the delivery")
            category = complaint_policy().category_for(tracker.latest_message.get("text") or "")
            if category and category != tracker.get_slot("complaint_category"):
                return [SlotSet("complaint_category", category), SlotSet(steps.SLOT, Stage.CORRECTED)]
            dispatcher.utter_message(response="utter_ask_complaint_fix")
            return [SlotSet(steps.SLOT, Stage.FIXING)]
        journal = self.journal(tracker)
        journal.step(steps.CORRECTED, field=field)
        events = await self.save(journal, dispatcher, tracker)
        return events + [SlotSet(field, None), SlotSet(steps.SLOT, Stage.CLARIFYING)]


class ActionComplaintClarified(CaseAction):
    """Step 3 done: the problem is confirmed; the case gets its category and description; remedies are chosen."""

    def name(self) -> str:
        return "action_complaint_clarified"

    async def _order_state(self, tracker: Tracker, number: str | None) -> str | None:
        """The order's state when the customer may see the order (their own, or proved); the remedies
        offered depend on it, so another's order is treated as one whose state is unknown."""
        if not number:
            return None
        access, order = await ownership.access(self.orders, tracker, number)
        return order.status if access is Access.GRANTED and order else None

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        category = tracker.get_slot("complaint_category") or "other"
        policy = complaint_policy()
        number = order_number_of(tracker.get_slot("order_number")) if policy.needs_order(category) else None
        state = await self._order_state(tracker, number)
        offers = policy.offers(category, state)
        journal = self.journal(tracker)
        problem = "; ".join(f"{k}: {v}" for k, v in collected(tracker).items())
        journal.add("update", {"category": category, "description": problem[:4000]})
        script_step(journal, steps.CLARIFY, collected=collected(tracker), order_state=state)
        events = await self.save(journal, dispatcher, tracker)
        return events + [
            SlotSet("remedy_offers", offers),
            SlotSet("remedy_rejected", []),
            SlotSet("complaint_remedy", None),
            SlotSet(steps.SLOT, Stage.NEGOTIATING),
        ]


def open_offers(tracker: Tracker) -> list[str]:
    rejected = set(tracker.get_slot("remedy_rejected") or [])
    left = [r for r in tracker.get_slot("remedy_offers") or [] if r not in rejected]
    return left or [HUMAN_DECISION]


class ActionAskComplaintRemedy(CaseAction):
    """Step 4, negotiate: the remedies that fit, as buttons; another offer or a person are always possible."""

    def name(self) -> str:
        return "action_ask_complaint_remedy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        offers = open_offers(tracker)
        buttons = [
            {"title": remedy_label(domain, tracker, r), "payload": f'/inform{{"complaint_remedy":"{r}"}}'}
            for r in offers
        ]
        if offers != [HUMAN_DECISION]:
            buttons.append(
                {
                    "title": label(domain, "utter_label_remedy_another", tracker),
                    "payload": '/inform{"complaint_remedy":"another"}',
                }
            )
        buttons.append({"title": label(domain, "utter_suggest_request_human", tracker), "payload": "/request_human"})
        response = "utter_ask_complaint_remedy_human" if offers == [HUMAN_DECISION] else "utter_ask_complaint_remedy"
        dispatcher.utter_message(
            response=response,
            buttons=buttons,
            options="、".join(remedy_label(domain, tracker, r) for r in offers)
            if language(tracker) == "zh"
            else ", ".join(remedy_label(domain, tracker, r) for r in offers),
        )
        return []


class ValidateRemedyForm(FormValidationAction):
    def name(self) -> str:
        return "validate_remedy_form"

    def validate_complaint_remedy(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "")
        policy = complaint_policy()
        chosen = entity(tracker, "complaint_remedy")
        if chosen is None:
            chosen = (
                "another" if policy.wants_another(text) or latest_intent(tracker) == "deny" else policy.remedy_for(text)
            )
        offers = open_offers(tracker)
        if chosen == "another":
            if offers == [HUMAN_DECISION]:
                return {"complaint_remedy": HUMAN_DECISION}
            return {"complaint_remedy": None, "remedy_rejected": (tracker.get_slot("remedy_rejected") or []) + offers}
        if chosen in REMEDIES and chosen not in offers:
            return {"complaint_remedy": HUMAN_DECISION}  # beyond what policy allows here: a colleague decides
        return {"complaint_remedy": chosen if chosen in REMEDIES else None}


class ActionComplaintConfirmRemedy(CaseAction):
    """Step 4 done, step 5 begins: restate the chosen remedy and its deadline, ask to confirm."""

    def name(self) -> str:
        return "action_complaint_confirm_remedy"

    async def _deadline(self, number: str | None, conversation_id: str) -> dt.datetime:
        if number:
            try:
                case = await self.client.get_case(number, conversation_id=conversation_id)
                due = ((case or {}).get("sla") or {}).get("result", {}).get("due")
                if due:
                    return dt.datetime.fromisoformat(due)
            except HandoffUnavailable:
                pass
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=DEFAULT_RESULT_HOURS)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        remedy = tracker.get_slot("complaint_remedy")
        journal = self.journal(tracker)
        script_step(
            journal,
            steps.NEGOTIATE,
            offered=tracker.get_slot("remedy_offers") or [],
            rejected=tracker.get_slot("remedy_rejected") or [],
            chosen=remedy,
        )
        events = await self.save(journal, dispatcher, tracker)
        if remedy == HUMAN_DECISION:
            dispatcher.utter_message(response="utter_complaint_needs_colleague")
            return events + [SlotSet(steps.SLOT, Stage.NEEDS_COLLEAGUE)]
        deadline = await self._deadline(journal.case_number, tracker.sender_id)
        dispatcher.utter_message(
            response="utter_confirm_complaint_remedy",
            remedy=remedy_label(domain, tracker, remedy),
            deadline=format_deadline(deadline, language(tracker)),
        )
        return events + [SlotSet(steps.SLOT, Stage.CONFIRMING_REMEDY), SlotSet("remedy_deadline", deadline.isoformat())]


class ActionComplaintRemedyDeclined(CaseAction):
    """The customer did not confirm the remedy: it is set aside and the others are offered."""

    def name(self) -> str:
        return "action_complaint_remedy_declined"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        remedy = tracker.get_slot("complaint_remedy")
        journal = self.journal(tracker)
        journal.step(steps.REMEDY_DECLINED, remedy=remedy)
        events = await self.save(journal, dispatcher, tracker)
        rejected = (tracker.get_slot("remedy_rejected") or []) + ([remedy] if remedy else [])
        return events + [
            SlotSet("remedy_rejected", rejected),
            SlotSet("complaint_remedy", None),
            SlotSet(steps.SLOT, Stage.NEGOTIATING),
        ]


class ActionComplaintClose(CaseAction):
    """Step 5, confirm: the customer agreed. The case is resolved with the result (archived); the
    service schedules the follow-up visit; the customer is thanked and told how to reach us."""

    def name(self) -> str:
        return "action_complaint_close"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        remedy = tracker.get_slot("complaint_remedy")
        deadline = tracker.get_slot("remedy_deadline")
        journal = self.journal(tracker)
        script_step(journal, steps.CONFIRM, remedy=remedy, deadline=deadline, confirmed=True)
        result = f"{remedy_label(domain, tracker, remedy)} (remedy: {remedy}; due {deadline})"
        journal.add("resolve", {"result": result})
        events = await self.save(journal, dispatcher, tracker)
        dispatcher.utter_message(response="utter_complaint_closed", case_number=journal.case_number or "")
        return events + [SlotSet(steps.SLOT, Stage.DONE)]


class ActionComplaintPause(CaseAction):
    """`stop` during the script: the case stays open; the customer learns how to come back."""

    def name(self) -> str:
        return "action_complaint_pause"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        step = tracker.get_slot(steps.SLOT)
        journal = self.journal(tracker)
        journal.step(steps.PAUSED, at_step=step, collected=collected(tracker))
        events = await self.save(journal, dispatcher, tracker, announce=False)
        if journal.case_number:
            dispatcher.utter_message(response="utter_complaint_paused", case_number=journal.case_number)
        else:
            dispatcher.utter_message(response="utter_complaint_paused_pending")
        return events + [
            SlotSet("case_number_told", bool(journal.case_number)),
            SlotSet(steps.SLOT, Stage.PAUSED),
            SlotSet(steps.PAUSED_AT_SLOT, step),
        ]


class ActionCaseStatus(CaseAction):
    """A customer gives a case number: its status; a paused complaint of this conversation can be resumed."""

    def name(self) -> str:
        return "action_case_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        number = (entity(tracker, "case_number") or "").upper()
        try:
            # only this conversation's cases: handoff_service answers another's like an unknown one
            case = await self.client.get_case(number, conversation_id=tracker.sender_id) if number else None
        except HandoffUnavailable:
            dispatcher.utter_message(response="utter_case_status_unavailable")
            return []
        if case is None:
            dispatcher.utter_message(response="utter_case_not_found", case_number=number)
            return []
        status = case.get("status", "open")
        dispatcher.utter_message(
            response="utter_case_status",
            case_number=number,
            status=label(domain, f"utter_label_status_{status}", tracker),
        )
        if (
            number == tracker.get_slot("case_number")
            and tracker.get_slot(steps.SLOT) == Stage.PAUSED
            and status not in ("resolved", "closed")
        ):
            dispatcher.utter_message(response="utter_ask_complaint_resume")
            return [SlotSet(steps.SLOT, Stage.RESUME_OFFERED)]
        return []


class ActionComplaintResume(CaseAction):
    """Back to where the script was paused, with everything collected so far."""

    def name(self) -> str:
        return "action_complaint_resume"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        paused_at = tracker.get_slot(steps.PAUSED_AT_SLOT)
        journal = self.journal(tracker)
        journal.step(steps.RESUMED, at_step=paused_at)
        events = await self.save(journal, dispatcher, tracker)
        if paused_at in (Stage.NEGOTIATING, Stage.CONFIRMING_REMEDY) and tracker.get_slot("remedy_offers"):
            resumed = Stage.NEGOTIATING
            events.append(SlotSet("complaint_remedy", None))
        elif paused_at in (Stage.CONFIRMING_PROBLEM, Stage.FIXING, Stage.CORRECTED):
            resumed = Stage.CORRECTED  # the restatement is asked again
        else:
            resumed = Stage.CLARIFYING
        dispatcher.utter_message(response="utter_complaint_resumed")
        return events + [SlotSet(steps.SLOT, resumed)]
