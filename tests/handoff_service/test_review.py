"""The trainers' review list (issue 26, first part): grouping by normalised text, collecting once
per source, masking, the standing ignore rule, and audited trainer actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handoff_service.audit.models import AuditEntry
from handoff_service.core.errors import Conflict, ValidationFailed
from handoff_service.core.orm import table_of
from handoff_service.core.principal import STAFF, TRAINER, Principal
from handoff_service.review import service as review
from handoff_service.review import states
from handoff_service.review.models import ReviewItem, ReviewOccurrence
from handoff_service.review.normalize import group_key, normalized

ITEMS, OCCURRENCES, AUDIT = table_of(ReviewItem), table_of(ReviewOccurrence), table_of(AuditEntry)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("退款怎么还没到？？", "退款怎么还没到"),
        ("ＲＥＦＵＮＤ　please！", "refund please"),
        ("order 12345 where", "Order 67890, where?"),
        ("  我的  订单\t呢 ", "我的 订单 呢"),
    ],
)
def test_the_same_text_after_normalisation_is_one_group(a, b):
    assert group_key(a) == group_key(b), (normalized(a), normalized(b))


def test_different_words_are_different_groups():
    assert group_key("退款") != group_key("退货")
    assert group_key("refund") != group_key("refunds")


def collected(n: int, text: str = "我的东西坏了怎么弄", at_days: int = 0, **over) -> review.Collected:
    base = {
        "source": f"conv-{n}:{n}",
        "conversation_id": f"conv-{n}",
        "at": datetime(2026, 12, 7, 8, 0, tzinfo=UTC) + timedelta(days=at_days, minutes=n),
        "text": text,
        "reasons": (states.FALLBACK,),
        "intents": (("nlu_fallback", 0.41), ("product_fault", 0.33), ("return_goods", 0.12), ("greet", 0.01)),
        "language": "zh",
        "script": "simplified",
        "channel": "socketio",
    }
    return review.Collected(**{**base, **over})


async def rows(h, table):
    async with h.deps.engine.connect() as conn:
        return (await conn.execute(select(table).order_by(table.c.id))).all()


async def test_messages_group_into_one_item_with_a_count_and_each_source_counts_once(h):
    first = await review.collect(h.deps, collected(1))
    again = await review.collect(h.deps, collected(2, "我的东西坏了，怎么弄？", reasons=(states.LOW_CONFIDENCE,)))
    assert first == again
    # the same source for the same reason: collected already
    assert await review.collect(h.deps, collected(2, reasons=(states.LOW_CONFIDENCE,))) is None
    [item] = await rows(h, ITEMS)
    assert item.count == 2 and item.status == states.OPEN
    assert item.reasons == [states.FALLBACK, states.LOW_CONFIDENCE]
    # the same source for a new reason (an agent corrected it): one more reason, not one more message
    corrected = collected(1, reasons=(states.AGENT_CORRECTION,))
    assert await review.collect(h.deps, corrected) == first
    [item] = await rows(h, ITEMS)
    assert item.count == 2 and item.reasons == [states.FALLBACK, states.LOW_CONFIDENCE, states.AGENT_CORRECTION]
    assert [o.reasons for o in await rows(h, OCCURRENCES)] == [
        [states.FALLBACK, states.AGENT_CORRECTION],
        [states.LOW_CONFIDENCE],
    ]
    assert [i["name"] for i in item.intents] == ["nlu_fallback", "product_fault", "return_goods"]  # top three
    assert len(await rows(h, OCCURRENCES)) == 2


async def test_personal_data_is_masked_before_it_is_stored(h):
    await review.collect(h.deps, collected(1, "我的手机13812345678收不到验证码"))
    [item] = await rows(h, ITEMS)
    [occurrence] = await rows(h, OCCURRENCES)
    assert "13812345678" not in item.text and "13812345678" not in occurrence.text
    assert "138****5678" in item.text


async def test_bad_reasons_are_refused_and_nothing_is_written(h):
    with pytest.raises(ValidationFailed):
        await review.collect(h.deps, collected(1, reasons=("because",)))
    with pytest.raises(ValidationFailed):
        await review.collect(h.deps, collected(1, reasons=()))
    assert await rows(h, ITEMS) == [] and await rows(h, OCCURRENCES) == []


async def trainer(h) -> Principal:
    await h.user("tina", role=TRAINER)
    return Principal(kind=STAFF, user_id=h.ids["tina"], username="tina", role=TRAINER)


async def test_label_flag_and_reopen_are_audited_with_before_and_after(h):
    p = await trainer(h)
    item_id = await review.collect(h.deps, collected(1))
    labelled = await review.review(h.deps, p, item_id, states.LABEL, label="product_fault")
    assert labelled["status"] == states.LABELLED and labelled["label"] == "product_fault"
    flagged = await review.review(h.deps, p, item_id, states.FLAG, comment="坏了 = 故障还是退货？")
    assert flagged["status"] == states.FLAGGED and flagged["label"] == "product_fault"
    reopened = await review.review(h.deps, p, item_id, states.REOPEN)
    assert reopened["status"] == states.OPEN and reopened["label"] is None
    entries = [e for e in await rows(h, AUDIT) if e.action.startswith("review.")]
    assert [e.action for e in entries] == ["review.label", "review.flag", "review.reopen"]
    assert entries[0].details["before"] == {"status": "open", "label": None, "comment": None}
    assert entries[0].details["after"]["label"] == "product_fault"
    assert entries[0].actor_name == "tina" and entries[0].target_id == str(item_id)


async def test_an_ignored_text_stays_ignored_when_it_comes_back(h):
    p = await trainer(h)
    item_id = await review.collect(h.deps, collected(1, "哈哈哈哈"))
    await review.review(h.deps, p, item_id, states.IGNORE)
    assert await review.collect(h.deps, collected(2, "哈哈哈哈！！")) == item_id
    [item] = await rows(h, ITEMS)
    assert item.status == states.IGNORED and item.count == 2


async def test_actions_follow_the_transitions_and_need_their_inputs(h):
    p = await trainer(h)
    item_id = await review.collect(h.deps, collected(1))
    with pytest.raises(ValidationFailed):
        await review.review(h.deps, p, item_id, states.LABEL, label=" ")
    with pytest.raises(ValidationFailed):
        await review.review(h.deps, p, item_id, states.FLAG)
    with pytest.raises(ValidationFailed):
        await review.review(h.deps, p, item_id, "delete")
    with pytest.raises(Conflict):
        await review.review(h.deps, p, item_id, states.MARK_APPLIED)  # only a labelled item is applied
    [item] = await rows(h, ITEMS)
    assert item.status == states.OPEN and item.reviewed_by is None


# ---------------------------------------------------------------- the API


async def test_only_trainers_and_supervisors_reach_the_review_list(h):
    agent = await h.user("amy", role="agent", team="l1")
    tina = await h.user("tina", role=TRAINER)
    sam = await h.user("sam", role="supervisor")
    assert (await h.get("/api/review/items", agent))[0] == 403
    assert (await h.get("/api/review/items", h.bot))[0] == 403
    assert (await h.get("/api/review/items", {}))[0] == 401
    for who in (tina, sam):
        status, page = await h.get("/api/review/items", who)
        assert status == 200 and page["items"] == []
    status, vocab = await h.get("/api/review/vocabulary", tina)
    assert status == 200 and vocab["reasons"] == list(states.REASONS)
    assert vocab["actions"]["ignore"]["to"] == states.IGNORED


async def test_the_list_is_ordered_by_count_and_recency_and_filtered(h):
    tina = await h.user("tina", role=TRAINER)
    often_old = [collected(i, "老问题", at_days=-20) for i in range(1, 9)]  # 8 times, three weeks ago
    once_new = [collected(20, "新问题")]
    twice_new = [collected(30 + i, "how do i pay", language="en", reasons=(states.LOW_CONFIDENCE,)) for i in (1, 2)]
    for c in often_old + once_new + twice_new:
        await review.collect(h.deps, c)
    status, page = await h.get("/api/review/items", tina)
    assert status == 200
    assert [i["text"] for i in page["items"]] == ["how do i pay", "老问题", "新问题"]
    assert [i["count"] for i in page["items"]] == [2, 8, 1]
    status, page = await h.get("/api/review/items?language=en", tina)
    assert [i["text"] for i in page["items"]] == ["how do i pay"]
    status, page = await h.get("/api/review/items?reason=fallback", tina)
    assert {i["text"] for i in page["items"]} == {"老问题", "新问题"}
    status, page = await h.get("/api/review/items?max_confidence=0.3", tina)
    assert page["items"] == []
    since = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    status, page = await h.get(f"/api/review/items?since={since}", tina)
    assert {i["text"] for i in page["items"]} == {"how do i pay", "新问题"}
    assert (await h.get("/api/review/items?since=yesterday", tina))[0] == 400
    assert (await h.get("/api/review/items?reason=whim", tina))[0] == 400


async def test_a_trainers_actions_through_the_api(h):
    tina = await h.user("tina", role=TRAINER)
    item_id = await review.collect(h.deps, collected(1))
    status, item = await h.post(f"/api/review/items/{item_id}/label", tina, {"label": "product_fault"})
    assert status == 200 and item["status"] == "labelled" and item["label"] == "product_fault"
    assert (await h.post(f"/api/review/items/{item_id}/label", tina, {"label": "x y"}))[0] == 400
    assert (await h.post(f"/api/review/items/{item_id}/flag", tina, {}))[0] == 400  # a flag needs its comment
    status, item = await h.post(f"/api/review/items/{item_id}/flag", tina, {"comment": "故障还是退货？"})
    assert status == 200 and item["status"] == "flagged"
    status, item = await h.post(f"/api/review/items/{item_id}/ignore", tina)
    assert status == 200 and item["status"] == "ignored"
    status, body = await h.post(f"/api/review/items/{item_id}/ignore", tina)
    assert status == 409 and body["error"]["code"] == "review_state_conflict"
    status, body = await h.post("/api/review/items/999999/ignore", tina)
    assert status == 404 and body["error"]["code"] == "review_item_not_found"
    status, page = await h.get("/api/review/items?status=ignored", tina)
    assert [i["id"] for i in page["items"]] == [item_id]


async def test_a_confidence_range_filters_and_a_bad_number_is_a_400(h):
    tina = await h.user("tina", role=TRAINER)
    await review.collect(h.deps, collected(1))  # top confidence 0.41
    assert [
        i["count"] for i in (await h.get("/api/review/items?min_confidence=0.4&max_confidence=0.5", tina))[1]["items"]
    ] == [1]
    assert (await h.get("/api/review/items?min_confidence=0.5", tina))[1]["items"] == []
    for bad in ("abc", "2", "1e3", "0.5.1", "nan", "inf", "0x1"):
        status, body = await h.get(f"/api/review/items?min_confidence={bad}", tina)
        assert status == 400, bad


async def test_reviewed_items_export_in_the_trainers_item_format_page_by_page(h):
    """What `python -m bot.training export --from <this service>` reads: its own reader
    (bot/training/items.py, standard library only) takes every item, across pages."""
    import asyncio

    from bot.training.items import HandoffSource

    tina = await h.user("tina", role=TRAINER)
    ids = [await review.collect(h.deps, collected(i, f"第{'一二三四'[i]}个问题 {'abcd'[i]}")) for i in range(4)]
    await h.post(f"/api/review/items/{ids[0]}/label", tina, {"label": "refund"})
    await h.post(f"/api/review/items/{ids[1]}/ignore", tina)
    await h.post(f"/api/review/items/{ids[2]}/label", tina, {"label": "order_status"})
    await h.post(f"/api/review/items/{ids[2]}/flag", tina, {"comment": "really?"})  # flagged: not exported
    status, page = await h.get("/api/review/export?status=labelled", tina)
    assert status == 200 and [i["label"] for i in page["items"]] == ["refund"]
    assert page["items"][0]["labelled_by"] == "tina" and page["items"][0]["id"] == f"r-{ids[0]}"

    token = tina["Authorization"].split()[1]
    source = HandoffSource(str(h.client.make_url("")), token, page=1)
    items = await asyncio.to_thread(lambda: list(source.items()))
    assert [(i.id, i.status, i.label) for i in items] == [
        (f"r-{ids[0]}", "labelled", "refund"),
        (f"r-{ids[1]}", "ignored", ""),
    ]
    bad = HandoffSource(str(h.client.make_url("")), "hsta_not-a-token")
    with pytest.raises(Exception, match="401"):
        await asyncio.to_thread(lambda: list(bad.items()))


async def test_apply_marks_what_it_wrote_applied_and_leaves_what_changed_meanwhile(h, tmp_path, monkeypatch, capsys):
    """`python -m bot.training apply --mark-applied URL`'s last step against this service."""
    import asyncio

    from bot.training import apply as apply_tool

    tina = await h.user("tina", role=TRAINER)
    first = await review.collect(h.deps, collected(1, "第一个问题"))
    second = await review.collect(h.deps, collected(2, "第二个问题"))
    for item_id in (first, second):
        await h.post(f"/api/review/items/{item_id}/label", tina, {"label": "refund"})
    await h.post(f"/api/review/items/{second}/reopen", tina)  # a trainer changed it meanwhile
    monkeypatch.setenv("HANDOFF_TRAINER_TOKEN", tina["Authorization"].split()[1])
    url = str(h.client.make_url(""))
    code = await asyncio.to_thread(apply_tool.mark_applied, url, [f"r-{first}", f"r-{second}"])
    assert code == 0 and f"changed meanwhile: r-{second}" in capsys.readouterr().out
    status, page = await h.get("/api/review/items?status=applied", tina)
    assert [i["id"] for i in page["items"]] == [first]
    monkeypatch.setenv("HANDOFF_TRAINER_TOKEN", "hsta_wrong")
    assert await asyncio.to_thread(apply_tool.mark_applied, url, [f"r-{first}"]) == 1


async def test_trainer_kpis_count_the_backlog_labels_per_day_and_the_wait(h):
    tina = await h.user("tina", role=TRAINER)
    h.clock.set(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    ids = []
    for i in range(4):  # first seen 08:00-08:03 UTC on 2026-12-07
        ids.append(await review.collect(h.deps, collected(i, f"问题{'一二三四'[i]}")))
    h.clock.set(datetime(2026, 12, 7, 10, 1, tzinfo=UTC))  # 18:01 Shanghai: 2 h after the first message
    await h.post(f"/api/review/items/{ids[0]}/label", tina, {"label": "refund"})
    h.clock.set(datetime(2026, 12, 7, 18, 2, tzinfo=UTC))  # 02:02 next day in Shanghai
    await h.post(f"/api/review/items/{ids[1]}/label", tina, {"label": "refund"})
    await h.post(f"/api/review/items/{ids[2]}/flag", tina, {"comment": "?"})
    status, k = await h.get("/api/review/kpis?days=3", tina)
    assert status == 200
    assert k["backlog"] == 2  # one open, one flagged
    assert k["by_status"]["labelled"] == 2 and k["by_status"]["open"] == 1
    assert k["labelled_per_day"] == [
        {"day": "2026-12-06", "count": 0},
        {"day": "2026-12-07", "count": 1},
        {"day": "2026-12-08", "count": 1},
    ]
    assert k["median_hours_to_label"] == 6.02  # 2 h 1 min and 10 h 1 min
    assert (await h.get("/api/review/kpis?days=0", tina))[0] == 400
    assert (await h.get("/api/review/kpis", await h.user("amy", role="agent", team="l1")))[0] == 403
