"""A whole complaint through the REST channel, against real Rasa, action-server and handoff_service
processes; the finished case is read back through handoff_service's staff API."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from actions.complaint_steps import STEPS

CASE_NUMBER = re.compile(r"C\d{8}-\d{4,6}")


@pytest.fixture(scope="module")
def supervisor_token(handoff_service, tmp_path_factory):
    handoff_service.env["HANDOFF_NEW_PASSWORD"] = "a-long-test-password-1"
    handoff_service.cli("create-user", "sup1", "--role", "supervisor")
    out = tmp_path_factory.mktemp("sup") / "token"
    handoff_service.cli("create-token", "--user", "sup1", "--out", str(out))
    return out.read_text().strip()


def staff_get(handoff_service, token, path):
    import json
    import urllib.request

    req = urllib.request.Request(f"{handoff_service.url}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def finished_case(handoff_service, token, number):
    case = handoff_service.get(f"/api/bot/cases/{number}")
    timeline = staff_get(handoff_service, token, f"/api/cases/{case['id']}/timeline")["events"]
    return case, timeline


def assert_five_steps_in_order(timeline):
    steps = [entry for entry in timeline if entry["action"] in STEPS]
    assert [entry["action"] for entry in steps] == list(STEPS)
    times = [dt.datetime.fromisoformat(entry["details"]["at"]) for entry in steps]
    assert times == sorted(times)
    return steps


def test_a_chinese_complaint_goes_through_all_five_steps_onto_the_case(chat, handoff_service, supervisor_token):
    reply = texts(chat("你们寄来的保温杯是碎的，太让人失望了，我要投诉"))
    number = CASE_NUMBER.search(reply).group(0)
    assert "由我负责" in reply  # this contact owns the matter
    assert "请告诉我订单号" in reply  # category and details came with the complaint; the order is asked for
    assert "手机号码的后四位" in texts(chat("20004"))  # the order is proved before its state picks the remedies
    assert "希望我们怎样处理" in texts(chat("8001"))
    reply = texts(chat("希望给我换一个新的"))
    assert "订单 20004" in reply and "理解得对吗" in reply  # one-sentence restatement
    reply = texts(chat("对的"))
    assert "换货" in reply and "您选择哪一种" in reply
    reply = texts(chat('/inform{"complaint_remedy":"replacement"}'))
    assert re.search(r"最晚在 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d 前完成", reply)
    reply = texts(chat("可以"))
    assert number in reply and "400-820-8820" in reply and "打个分" in reply

    case, timeline = finished_case(handoff_service, supervisor_token, number)
    assert case["status"] == "resolved" and "replacement" in case["result"]
    assert case["category"] == "quality" and "20004" in case["description"]
    steps = assert_five_steps_in_order(timeline)
    assert steps[2]["details"]["collected"]["order_number"] == "20004"
    assert steps[3]["details"]["chosen"] == "replacement"
    assert case["sla"]["follow_up"]["due"]  # the follow-up visit is scheduled


def test_the_conversation_goes_on_while_handoff_service_is_down(chat, handoff_service, supervisor_token):
    reply = texts(chat("I want to complain, my parcel is two weeks late and nobody answers"))
    number = CASE_NUMBER.search(reply).group(0)
    handoff_service.stop()
    try:
        replies = [chat("order 20003"), chat("9002"), chat("I'd like it delivered this week or my money back")]
        reply = texts(chat("yes that's right"))
        assert "Traceback" not in reply and "error" not in reply.lower()
        assert "Which would you prefer" in reply  # the script went on without the service
        assert all(r for r in replies)
        reply = texts(chat('/inform{"complaint_remedy":"voucher"}'))
        assert "completed by" in reply
    finally:
        handoff_service.start()
    reply = texts(chat("yes please"))
    assert number in reply
    case, timeline = finished_case(handoff_service, supervisor_token, number)
    assert case["status"] == "resolved"
    assert_five_steps_in_order(timeline)  # nothing collected was lost


def test_survey_answers_given_while_handoff_service_is_down_land_without_another_message(
    chat, handoff_service, supervisor_token
):
    reply = texts(chat("你们寄来的保温杯是碎的，太让人失望了，我要投诉"))
    number = CASE_NUMBER.search(reply).group(0)
    chat("20004")
    chat("8001")
    chat("希望给我换一个新的")
    chat("对的")
    chat('/inform{"complaint_remedy":"replacement"}')
    assert "打个分" in texts(chat("可以"))
    handoff_service.stop()
    try:
        assert "服务态度" in texts(chat("5"))
        assert "感谢您的评价" in texts(chat("跳过"))  # the customer is thanked, and says nothing more
    finally:
        handoff_service.start()
    case_id = handoff_service.get(f"/api/bot/cases/{number}")["id"]
    deadline = time.monotonic() + 120  # the action server retries after 5, 15, 60... seconds
    while (csat := staff_get(handoff_service, supervisor_token, f"/api/cases/{case_id}")["csat"]) is None:
        assert time.monotonic() < deadline, "the kept survey answers never reached the case"
        time.sleep(1)
    assert csat["overall"] == 5 and csat["attitude"] is None
