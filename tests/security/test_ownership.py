"""Orders and cases belong to someone (issue 25): attacks through the REST channel on the stack `make run`
starts (real Rasa, action server, handoff_service and demo order store).

- another customer's order cannot be cancelled (or read) by its number alone: the store still has it paid;
- three wrong answers to "the last four digits of the order's phone" end the asking: a person takes over;
- a case number of another conversation gets the answer of an unknown case, from the bot and from the
  service's bot API alike;
- an identified customer (the gateway vouches for `customer_id`) reads their own orders without digits,
  and someone else's order answers exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from actions.clients.orders import DemoOrderStore
from tests.security.stack import MakeRun, http

CASE_NUMBER = re.compile(r"C\d{8}-\d{4,6}")
ALICE_ORDER, ALICE_DIGITS = "20002", "8001"  # paid; placed by cust-1001 with a phone ending 8001
CAROL_ORDER = "20007"  # paid; cust-1003's


def sender(name: str) -> str:
    return f"{name}-{time.time_ns()}"


def say(stack: MakeRun, conversation: str, text: str, metadata: dict[str, Any] | None = None) -> str:
    """One message through the REST channel, as the messaging gateway sends it; the bot's reply
    texts, one per line."""
    body: dict[str, Any] = {"sender": conversation, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    status, replies = stack.gateway(body)
    assert status == 200, (status, replies)
    return "\n".join(r.get("text", "") for r in replies or [])


def store_status(stack: MakeRun, number: str) -> str:
    """The order's status as the demo store the action server uses holds it (var/demo_store.db of the stack's
    checkout; created and seeded on first use, by whichever process comes first)."""
    order = asyncio.run(DemoOrderStore(stack.root / "var" / "demo_store.db").get_order(number))
    assert order is not None, number
    return order.status


def bot_api(stack: MakeRun, path: str) -> tuple[int, Any]:
    token = (stack.root / "var" / "bot.token").read_text().strip()
    return http(stack.handoff + path, headers={"Authorization": f"Bearer {token}"}, method="GET")


def test_someone_elses_order_cannot_be_cancelled_by_its_number(stack: MakeRun) -> None:
    mallory = sender("mallory")
    asked = say(stack, mallory, f"取消订单{ALICE_ORDER}")
    attempts = ("是的", "确认取消", "/affirm", f'/cancel_order{{"order_number":"{ALICE_ORDER}"}}', "/affirm")
    replies = {attempt: say(stack, mallory, attempt) for attempt in attempts}
    assert store_status(stack, ALICE_ORDER) == "paid", (asked, replies)
    assert "确认取消" not in asked and "智能手表" not in asked, asked  # nothing of the order is shown
    assert "后四位" in asked
    assert not [reply for reply in replies.values() if "已为您取消" in reply or "智能手表" in reply], replies
    # the order is still cancellable: its owner, proving it, is asked to confirm (and keeps it)
    alice = sender("alice")
    assert "后四位" in say(stack, alice, f"取消订单{ALICE_ORDER}")
    confirm = say(stack, alice, ALICE_DIGITS)
    assert "确认取消" in confirm and ALICE_DIGITS not in confirm, confirm
    say(stack, alice, "不了，我还是留着吧")
    assert store_status(stack, ALICE_ORDER) == "paid"


def test_three_wrong_answers_lead_to_a_person(stack: MakeRun) -> None:
    mallory = sender("mallory")
    say(stack, mallory, f"帮我取消订单{CAROL_ORDER}")
    guesses = ("4729", "6183", "5307")
    replies = [say(stack, mallory, guess) for guess in guesses]
    assert "再试 2 次" in replies[0] and "再试 1 次" in replies[1], replies
    last = replies[2]
    assert "人工客服" in last and "后四位" not in last, last  # no more asking
    number = CASE_NUMBER.search(last)
    assert number, last  # the handoff gave the case number and the queue
    status, case = bot_api(stack, f"/api/bot/cases/{number.group(0)}?conversation_id={mallory}")
    assert status == 200 and case["status"] == "queued", case
    assert store_status(stack, CAROL_ORDER) == "paid"
    for guess in ("1234", "7003"):  # while an agent has it, the bot asks nothing and proves nothing
        reply = say(stack, mallory, guess)
        assert "后四位" not in reply and "确认取消" not in reply, reply
    # the answers are in no reply, no log and not on the case's summary card
    logs = {path.name: path.read_text(errors="replace") for path in (stack.root / "var" / "log").glob("*.log")}
    assert logs
    for guess in guesses:
        assert not any(guess in reply for reply in replies)
        assert not [name for name, text in logs.items() if re.search(rf"(?<!\d){guess}(?!\d)", text)], guess
        assert guess not in json.dumps(case, ensure_ascii=False)


def test_a_case_of_another_conversation_is_not_shown(stack: MakeRun) -> None:
    owner, other = sender("case-owner"), sender("case-snoop")
    reply = say(stack, owner, "我要投诉，快递员态度太差了")
    number = CASE_NUMBER.search(reply)
    assert number, reply
    case = number.group(0)
    mine = say(stack, owner, f"我的案件 {case} 现在怎么样了")
    assert "没有查到" not in mine and case in mine, mine
    snooped = say(stack, other, f"我的案件 {case} 现在怎么样了")
    unknown = say(stack, other, "我的案件 C20200101-0001 现在怎么样了")
    assert "没有查到案件" in snooped, snooped
    assert snooped.replace(case, "X") == unknown.replace("C20200101-0001", "X")  # like an unknown case
    # enforced by the service, not only by the action
    status, body = bot_api(stack, f"/api/bot/cases/{case}?conversation_id={other}")
    assert status == 404 and body["error"]["code"] == "case_not_found", body
    status, _ = bot_api(stack, f"/api/bot/cases/{case}?conversation_id={owner}")
    assert status == 200


def test_an_identified_customer_sees_only_their_own_orders(stack: MakeRun) -> None:
    bob = sender("bob")
    others = say(stack, bob, f"取消订单{ALICE_ORDER}", metadata={"customer_id": "cust-1002"})
    unknown = say(stack, bob, "取消订单99999", metadata={"customer_id": "cust-1002"})
    assert "没有查到订单" in others and "后四位" not in others, others
    assert others.replace(ALICE_ORDER, "N") == unknown.replace("99999", "N")  # no hint that it exists
    own = say(stack, bob, "订单20003到哪了", metadata={"customer_id": "cust-1002"})
    assert "中通快递" in own and "后四位" not in own, own
    assert store_status(stack, ALICE_ORDER) == "paid"
