"""Whole conversations through the REST channel, with real Rasa and action-server processes."""

import re

CJK = re.compile(r"[\u4e00-\u9fff]")


def texts(replies):
    return "\n".join(r.get("text", "") for r in replies)


def test_chinese_reception_lookup_refund_goodbye(chat):
    greeting = texts(chat("你好"))
    assert greeting.startswith("您好，欢迎光临") and "？" in greeting
    assert "订单 12345 下单时所留手机号码的后四位" in texts(chat("帮我看看订单12345到哪了"))  # proof first
    lookup = texts(chat("8001"))
    assert "8001" not in lookup  # the digits are never echoed
    assert "明白，您要查询订单 12345 的状态，请稍等" in lookup
    assert "顺丰速运" in lookup and "SF1402875531" in lookup
    refund = texts(chat("退款一般多久到账"))
    assert "1–3 个工作日" in refund
    goodbye = texts(chat("好的，再见"))
    assert "感谢" in goodbye and "400-820-8820" in goodbye and "打个分" in goodbye


def test_english_reception_lookup_refund_goodbye(chat):
    assert texts(chat("hi there")).startswith("Hello, welcome")
    assert "last four digits of the phone number on order 20003" in texts(chat("what's the status of order 20003"))
    lookup = texts(chat("the last four digits are 9002"))
    assert "Understood, you'd like the status of order 20003" in lookup and "ZTO Express" in lookup
    assert "working days" in texts(chat("how long does a refund take"))
    goodbye = texts(chat("great, goodbye"))
    assert "Thank you" in goodbye and "400-820-8820" in goodbye and "rate" in goodbye


def test_traditional_input_is_answered_in_traditional(chat):
    assert "後四位" in texts(chat("我的訂單12345還沒到"))
    reply = texts(chat("8001"))
    assert "查詢訂單 12345" in reply and "順豐速運" in reply


def test_language_follows_the_customer_and_stays(chat):
    assert texts(chat("你好")).startswith("您好")
    english = texts(chat("I'd like to send back the earbuds I bought"))
    assert english and not CJK.search(english)
    assert texts(chat("12345")).startswith("Got it")  # a number alone keeps English
    assert CJK.search(texts(chat("我想查一下物流")))


def test_order_number_is_asked_for_when_missing(chat):
    assert "订单号" in texts(chat("我的快递到哪了"))
    assert "后四位" in texts(chat("20003"))
    assert "已发货" in texts(chat("尾号9002"))


def test_an_unknown_order_number_is_asked_for_like_any_other_and_a_person_offered(chat):
    # asking for the digits tells nothing about whether 99999 exists; no answer can prove it
    assert "订单 99999 下单时所留手机号码的后四位" in texts(chat("查一下订单99999"))
    wrong = texts(chat("1234"))
    assert "不一致" in wrong and "正确的订单号" in wrong and "1234" not in wrong
    assert "人工客服" in texts(chat("我不记得了"))


def test_bad_input_gets_polite_answers_and_markup_is_never_echoed(chat):
    cases = {
        "": "没有收到您的文字内容",
        "   ": "没有收到您的文字内容",
        "😀😀👍": "表情",
        "<script>alert('x')</script>": None,
        "投诉" + "很生气" * 400: "消息比较长",  # over 500 characters, under the channel's 16 KB
        "<img src=x onerror=alert(1)>": "网页代码",
    }
    for message, expected in cases.items():
        reply = chat(message)
        assert reply, f"no answer to {message[:30]!r}"
        body = texts(reply)
        assert "<script" not in body and "<img" not in body
        if expected:
            assert expected in body, (message[:30], body)


def test_gibberish_is_asked_to_be_rephrased(chat):
    reply = chat("的 qzxv 吧 bnmlk")
    assert "换个说法" in texts(reply)
    assert [b["payload"] for r in reply for b in r.get("buttons", [])][-1] == "/request_human"


def test_misunderstanding_first_asks_to_rephrase_then_offers_a_person(chat):
    chat("你好")
    first = chat("的 qzxv 吧 bnmlk")  # not understood (typing "/nlu_fallback" is only words now)
    assert "换个说法" in texts(first)
    assert any(b["payload"] == "/request_human" for r in first for b in r.get("buttons", []))
    second = texts(chat("吧 bnmlk 的 qzxv"))
    assert "转接人工客服" in second


def test_personal_data_stays_out_of_the_server_logs(chat, rasa_servers):
    _, logs = rasa_servers
    chat("我的手机号是13912345678，邮箱 wang.fang@example.com，订单20003到哪了")
    for log in logs.values():
        content = log.read_text(encoding="utf-8", errors="replace")
        assert "13912345678" not in content and "wang.fang@example.com" not in content, log.name
