"""Whose order is it (issue 25, part 4 of the security model).

- An **identified** customer (the channel verified their signed token and put their id into the
  message metadata under `customer_id`; clients cannot set it themselves) reads and changes only
  their own orders. Someone else's order is answered exactly like an unknown one.
- An **anonymous** customer first proves an order is theirs with the last four digits of the phone
  number on it. A right answer puts the order number on the conversation's list (`verified_orders`),
  so it is not asked again; every well-formed number is asked for, known or not, so the question
  itself tells nothing. After `MAX_TRIES` wrong answers in a conversation the asking stops and a
  person takes over.

The digits are compared by the order backend (the phone never reaches the actions), never put into a
reply, a slot or a log line. Plain functions over the tracker, so the rules are tested without Rasa.
"""

from __future__ import annotations

import enum
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.clients.orders import Order, OrderBackend
from actions.common import bounded_text
from bot.identity import CUSTOMER_ID, CUSTOMER_ID_KEY  # the channels' contract for message metadata

logger = logging.getLogger(__name__)

VERIFIED_SLOT = "verified_orders"
FAILURES_SLOT = "proof_failures"
PROOF_SLOT = "order_proof"  # what the order forms request; never filled (the digits are not kept)
ASKED_SLOT = "proof_asked_for"  # the order whose digits a plain action (refund progress) asked for
MAX_TRIES = 3
MAX_VERIFIED = 20
MAX_ANSWER_CHARS = 200  # of a message, read for the digits
ORDER_NUMBER = re.compile(r"^\d{5,20}$")
_DIGIT_RUN = re.compile(r"\d+")
MOBILE_DIGITS = 11


class Access(enum.Enum):
    GRANTED = "granted"  # the customer's own order (identified), or one they proved
    NOT_FOUND = "not_found"  # unknown, or someone else's: answered the same way
    NEEDS_PROOF = "needs_proof"  # anonymous, not proved yet: ask for the phone's last four digits
    LOCKED = "locked"  # anonymous, three wrong answers: no more asking, a person takes over


class Proof(enum.Enum):
    NO_ANSWER = "no_answer"  # the message holds no four digits (or several candidates)
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"  # the wrong answer that used up the last try


@dataclass
class ProofResult:
    outcome: Proof
    events: list[dict[str, Any]] = field(default_factory=list)
    tries_left: int = 0


def order_number_of(value: Any) -> str | None:
    """An order number from a slot or entity value of any shape (list, int, text), or None."""
    text = bounded_text(value)
    return text if text is not None and ORDER_NUMBER.match(text) else None


def customer_id(tracker: Tracker) -> str | None:
    """The verified customer id of the latest message, or None for an anonymous customer."""
    metadata = tracker.latest_message.get("metadata")
    value = metadata.get(CUSTOMER_ID_KEY) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and CUSTOMER_ID.match(value) else None


def verified_orders(tracker: Tracker) -> list[str]:
    value = tracker.get_slot(VERIFIED_SLOT)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def failures(tracker: Tracker) -> int:
    value = tracker.get_slot(FAILURES_SLOT)
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def locked(tracker: Tracker) -> bool:
    return customer_id(tracker) is None and failures(tracker) >= MAX_TRIES


def needs_proof(tracker: Tracker, number: str | None) -> bool:
    """Whether the order forms must ask for the phone digits of `number` before they finish."""
    return (
        number is not None
        and customer_id(tracker) is None
        and number not in verified_orders(tracker)
        and failures(tracker) < MAX_TRIES
    )


async def access(orders: OrderBackend, tracker: Tracker, number: str) -> tuple[Access, Order | None]:
    """What this customer may see of order `number`, and the order when they may."""
    identified = customer_id(tracker)
    if identified is None and number not in verified_orders(tracker):
        return (Access.LOCKED if failures(tracker) >= MAX_TRIES else Access.NEEDS_PROOF), None
    order = await orders.get_order(number)
    if order is None or (identified is not None and order.customer_id != identified):
        return Access.NOT_FOUND, None
    return Access.GRANTED, order


def last_four_in(text: Any) -> str | None:
    """The four digits a message answers with ("1234", "尾号１２３４", or a whole mainland mobile number);
    None when it holds none or more than one candidate."""
    if not isinstance(text, str):
        return None
    runs = _DIGIT_RUN.findall(unicodedata.normalize("NFKC", text[:MAX_ANSWER_CHARS]))
    runs = [run for run in runs if run.isascii()]
    if len(runs) != 1:
        return None
    run = runs[0]
    if len(run) == 4:
        return run
    if len(run) == MOBILE_DIGITS and run.startswith("1"):
        return run[-4:]
    return None


def mask_answer(text: str) -> str:
    """A customer message with what may be an answer to the digits question masked (for the handoff card)."""
    if last_four_in(text) is None:
        return text
    return _DIGIT_RUN.sub(lambda run: "*" * len(run.group(0)), unicodedata.normalize("NFKC", text))


async def check_answer(orders: OrderBackend, tracker: Tracker, number: str) -> ProofResult:
    """Checks the latest message as the answer to "the last four digits of order `number`'s phone"."""
    digits = last_four_in(tracker.latest_message.get("text"))
    if digits is None:
        return ProofResult(Proof.NO_ANSWER, tries_left=MAX_TRIES - failures(tracker))
    if await orders.phone_matches(number, digits):
        verified = [n for n in verified_orders(tracker) if n != number] + [number]
        logger.info("conversation %s: order %s proved by its phone", tracker.sender_id, number)
        return ProofResult(Proof.VERIFIED, [SlotSet(VERIFIED_SLOT, verified[-MAX_VERIFIED:])])
    tried = failures(tracker) + 1
    logger.warning(
        "conversation %s: wrong phone digits for order %s (%d of %d)", tracker.sender_id, number, tried, MAX_TRIES
    )
    outcome = Proof.LOCKED if tried >= MAX_TRIES else Proof.WRONG
    return ProofResult(outcome, [SlotSet(FAILURES_SLOT, float(tried))], tries_left=max(0, MAX_TRIES - tried))
