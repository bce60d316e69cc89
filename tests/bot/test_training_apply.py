"""bot.training.apply and bot.training.items, on a temporary copy of data/ (the real data is never touched)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.training import __main__ as cli
from bot.training import apply as A
from bot.training import items as I

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    return tmp_path


def item(id, text, label, language="zh", status="labelled", at="2026-12-01T09:30:00+00:00", count=1):
    return I.Item(id, text, language, label, status, count, "trainer1", at)


def run(project, items, **kwargs):
    kwargs.setdefault("benchmark", set())
    return A.apply(items, project / "data" / "nlu", project / "heldback", project / "domain.yml", **kwargs)


def snapshot(project):
    return {p.relative_to(project): p.read_bytes() for p in sorted(project.rglob("*.yml"))}


def examples(path):
    found = {}
    if not path.exists():
        return found
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        found[block["intent"]] = [line[2:].strip() for line in block["examples"].splitlines()]
    return found


def training_keys(project):
    keys = {}
    for path in sorted((project / "data" / "nlu").glob("*/*.yml")):
        for intent, texts in examples(path).items():
            for text in texts:
                keys.setdefault(A.normalise(text), set()).add((path.parent.name, intent))
    return keys


def pick(prefix, held, language="zh"):
    """A text starting with `prefix` that the hash routes to the held-back set (held) or not."""
    for n in range(200):
        text = f"{prefix}{n}" if language == "en" else f"{prefix}{'一二三四五六七八九十'[n % 10]}{n}"
        if A.held_back(text) is held:
            return text
    raise AssertionError("no text found")


# ---- normalisation and routing


def test_normalise_folds_width_case_whitespace_and_edge_punctuation():
    assert A.normalise("  ＷＨＥＲＥ  is my   Order？！ ") == A.normalise("where is my order") == "where is my order"
    assert A.normalise("「我要退货」。") == "我要退货"
    assert A.normalise("我要退货") != A.normalise("我要退款")
    assert A.normalise("？？？") == "???"  # punctuation only: kept, not empty


def test_held_back_routing_is_stable_per_normalised_text_and_one_in_five():
    texts = [f"message number {n}" for n in range(2000)]
    share = sum(A.held_back(t) for t in texts) / len(texts)
    assert 0.17 < share < 0.23
    for text in texts[:200]:
        assert A.held_back(text) == A.held_back(f"  {text.upper()}!! ") == A.held_back(text)


# ---- apply


def test_apply_writes_each_item_into_its_intents_file_and_language(project):
    zh, en = pick("我的退款怎么还没到账呢", False), pick("when will my money come back ", False, "en")
    before = snapshot(project)
    report = run(project, [item("1", zh, "refund"), item("2", en, "faq/shipping", "en")])
    assert zh in examples(project / "data/nlu/zh/aftersales.yml")["refund"]
    assert en in examples(project / "data/nlu/en/faq.yml")["faq/shipping"]
    assert examples(project / "data/nlu/zh/aftersales.yml")["refund"][-1] == zh  # appended at the end of its block
    changed = {path for path, data in snapshot(project).items() if before.get(path) != data}
    assert changed == {Path("data/nlu/zh/aftersales.yml"), Path("data/nlu/en/faq.yml")}
    assert report.count("added") == 2
    # the file keeps its layout: only one line added, in the project's indentation
    old = before[Path("data/nlu/zh/aftersales.yml")].decode().splitlines()
    new = (project / "data/nlu/zh/aftersales.yml").read_text(encoding="utf-8").splitlines()
    assert len(new) == len(old) + 1 and f"    - {zh}" in new


def test_apply_twice_leaves_every_file_byte_identical(project):
    batch = [
        item("1", pick("这个订单能改收货地址吗", False), "modify_order"),
        item("2", pick("how long does shipping take to ", False, "en"), "faq/shipping", "en"),
        item("3", pick("我的退款怎么还没到账呢", True), "refund"),
        item("4", "我要退货", "refund"),
    ]
    first = run(project, batch)
    after_first = snapshot(project)
    mtimes = {p: p.stat().st_mtime_ns for p in project.rglob("*.yml")}
    second = run(project, list(reversed(batch)))
    assert snapshot(project) == after_first
    assert {p: p.stat().st_mtime_ns for p in project.rglob("*.yml")} == mtimes  # not even rewritten
    assert first.written and second.written == []
    assert second.count("added") == second.count("held back") == second.count("moved") == second.count("removed") == 0
    assert second.count("present") == 4


def test_item_order_does_not_change_the_result(project, tmp_path_factory):
    other = tmp_path_factory.mktemp("other")
    shutil.copytree(project / "data", other / "data")
    shutil.copy(project / "domain.yml", other / "domain.yml")
    batch = [item(str(n), pick(f"退款问题{n}", False), "refund") for n in range(4)]
    run(project, batch)
    run(other, list(reversed(batch)))
    assert snapshot(project) == snapshot(other)


def test_a_relabelled_text_moves_out_of_its_old_intent_in_both_languages(project):
    assert "我要退货" in examples(project / "data/nlu/zh/aftersales.yml")["return_exchange"]
    assert not A.held_back("我要退货")
    # the same text, written differently (full width, punctuation), also in the English files
    en_faq = project / "data/nlu/en/faq.yml"
    en_faq.write_text(en_faq.read_text(encoding="utf-8") + "    - 我要退货!\n", encoding="utf-8")
    report = run(project, [item("1", "我要退货。", "refund")])
    aftersales = examples(project / "data/nlu/zh/aftersales.yml")
    assert "我要退货" not in aftersales["return_exchange"]
    assert aftersales["refund"][-1] == "我要退货。"
    assert "我要退货!" not in examples(en_faq)["faq/return_policy"]
    assert training_keys(project)["我要退货"] == {("zh", "refund")}
    removed = {(c.language, c.intent) for c in report.changes if c.action == "moved"}
    assert removed == {("zh", "return_exchange"), ("en", "faq/return_policy")}


def test_a_text_already_there_after_normalisation_is_not_added_again(project):
    assert "转人工" in examples(project / "data/nlu/zh/escalation.yml")["request_human"]
    before = snapshot(project)
    report = run(project, [item("1", " 转人工！ ", "request_human")])
    assert snapshot(project) == before
    assert report.count("present") == 1 and report.count("added") == 0


@pytest.mark.parametrize(
    "batch, message",
    [
        (
            [item("1", "退款进度查一下", "refund"), item("2", "退款进度查一下！", "return_exchange")],
            "conflicting labels",
        ),
        (
            [item("1", "退款进度查一下", "refund"), item("2", "帮我查物流", "track_parcel")],
            "unknown intent 'track_parcel'",
        ),
        ([item("1", "退款进度查一下", "faq")], "unknown intent 'faq'"),
        ([item("1", "客服回来了吗", "EXTERNAL_handoff_resolved")], "unknown intent"),
        ([item("1", "i want 退款", "refund", "en")], "Chinese characters"),
        ([item("1", "[12345](order_number) where", "order_status", "en")], "entity annotation"),
    ],
)
def test_a_bad_batch_is_refused_and_nothing_is_written(project, batch, message):
    good = item("0", pick("帮我看看订单到哪了", False), "order_status")
    held = item("9", pick("帮我看看订单到哪了", True), "order_status")
    before = snapshot(project)
    with pytest.raises(A.ApplyError, match=message) as refused:
        run(project, [good, held, *batch])
    assert "nothing written" in str(refused.value)
    assert snapshot(project) == before
    assert not (project / "heldback").exists()


def test_ignored_items_are_not_written(project):
    text = pick("这条消息不用管", False)
    before = snapshot(project)
    report = run(project, [item("1", text, "", status="ignored"), item("2", text + "吧", "refund", status="ignored")])
    assert snapshot(project) == before
    assert all(A.normalise(text) not in key for key in training_keys(project))
    assert report.count("skipped") == 2


def test_applied_items_are_kept_in_place(project):
    text = pick("换货能不能上门取件", False)
    run(project, [item("1", text, "return_exchange", status="applied")])
    assert text in examples(project / "data/nlu/zh/aftersales.yml")["return_exchange"]


def test_held_back_items_go_to_the_test_set_only_and_leave_the_training_files(project):
    # an existing training example whose group is held back: labelling it moves it to the test set
    existing = next(
        (lang, intent, text)
        for lang, intent, text in (
            (p.parent.name, i, t)
            for p in sorted((project / "data/nlu").glob("*/*.yml"))
            for i, ts in examples(p).items()
            for t in ts
        )
        if A.held_back(text)
    )
    lang, intent, text = existing
    new_zh, new_en = pick("我的快递好几天没动了", True), pick("my parcel has not moved for days ", True, "en")
    training_text = pick("我的快递好几天没动了", False)
    batch = [
        item("1", text, intent, lang),
        item("2", new_zh, "order_status"),
        item("3", new_en, "order_status", "en"),
        item("4", training_text, "order_status"),
    ]
    report = run(project, batch)
    held_zh, held_en = examples(project / "heldback/zh.yml"), examples(project / "heldback/en.yml")
    held = held_zh if lang == "zh" else held_en
    assert text in held[intent]
    assert new_zh in held_zh["order_status"] and new_en in held_en["order_status"]
    keys = training_keys(project)
    assert A.normalise(text) not in keys and A.normalise(new_zh) not in keys and A.normalise(new_en) not in keys
    assert A.normalise(training_text) in keys
    # never in both places
    for path in (project / "heldback").glob("*.yml"):
        for texts in examples(path).values():
            assert not {A.normalise(t) for t in texts} & set(keys)
    assert report.count("held back") == 3 and report.count("added") == 1
    assert any(c.action == "removed" and c.note == "held back" for c in report.changes)
    # the test set is Rasa NLU YAML
    assert yaml.safe_load((project / "heldback/zh.yml").read_text(encoding="utf-8"))["version"] == "3.1"


def test_a_held_back_text_relabelled_moves_within_the_test_set(project):
    text = pick("我想问下退款", True)
    run(project, [item("1", text, "refund")])
    run(project, [item("1", text, "return_exchange", at="2026-12-02T09:30:00+00:00")])
    held = examples(project / "heldback/zh.yml")
    assert held == {"return_exchange": [text]}  # the emptied refund block is gone


def test_benchmark_utterances_are_never_written_to_training_data(project):
    text = pick("where is my parcel please ", False, "en")
    report = run(project, [item("1", text, "order_status", "en")], benchmark={A._benchmark_form(text)})
    assert A.normalise(text) not in training_keys(project)
    assert [c.note for c in report.changes if c.action == "skipped"] == ["a benchmark utterance, never trained on"]


def test_rasa_data_validate_passes_after_apply(project):
    shutil.copy(ROOT / "config.yml", project / "config.yml")
    run(
        project,
        [
            item("1", "我要退货", "refund"),  # a move
            item("2", pick("帮我改一下收货人电话", False), "modify_order"),
            item("3", pick("what are your opening hours on sunday ", False, "en"), "faq/business_hours", "en"),
            item("4", pick("发票能开公司抬头吗", True), "invoice"),
        ],
    )
    rasa = Path(sys.executable).parent / "rasa"
    done = subprocess.run(
        [str(rasa), "data", "validate", "--fail-on-warnings", "--quiet"]
        + [
            "--domain",
            str(project / "domain.yml"),
            "--data",
            str(project / "data"),
            "--config",
            str(project / "config.yml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_cli_apply_dry_run_writes_nothing_and_reports(project, tmp_path, capsys):
    items_file = tmp_path / "items.jsonl"
    text = pick("我想把这个订单取消掉", False)
    I.write_items(items_file, [item("1", text, "cancel_order")])
    before = snapshot(project)
    args = ["--items", str(items_file), "--data", str(project / "data/nlu"), "--domain", str(project / "domain.yml")]
    args += ["--held-back", str(project / "heldback")]
    assert cli.main(["apply", *args, "--dry-run"]) == 0
    assert snapshot(project) == before
    assert "1 added" in capsys.readouterr().out
    assert cli.main(["apply", *args]) == 0
    assert text in examples(project / "data/nlu/zh/orders.yml")["cancel_order"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x"}) + "\n", encoding="utf-8")
    assert cli.main(["apply", "--items", str(bad), *args[2:]]) == 1
    assert "line 1: missing field(s)" in capsys.readouterr().err


# ---- items: format, export, import


def test_reading_refuses_a_bad_line_naming_it(tmp_path):
    good = item("1", "你好", "greet").to_json()
    cases = {
        "not json": "line 2: not JSON",
        json.dumps({**json.loads(good), "id": "2", "language": "fr"}): "line 2: language 'fr'",
        json.dumps({**json.loads(good), "id": "2", "count": 0}): "line 2: count 0",
        json.dumps({**json.loads(good), "id": "2", "labelled_at": "2026-12-01T09:30:00"}): "line 2: labelled_at",
        json.dumps({**json.loads(good), "id": "2", "extra": 1}): "line 2: unknown field(s): extra",
        json.dumps({**json.loads(good), "id": "2", "label": ""}): "line 2: label ''",
        good: "line 2: id '1' already on line 1",
    }
    for line, message in cases.items():
        path = tmp_path / "items.jsonl"
        path.write_text(good + "\n" + line + "\n", encoding="utf-8")
        with pytest.raises(I.ItemsError, match=message.replace("(", r"\(").replace(")", r"\)")):
            I.read_items(path)


def test_export_then_import_round_trips_exactly(tmp_path):
    source = tmp_path / "source.jsonl"
    lines = [
        item("b", "退款 进度\t怎么样", "refund", count=3).to_json(),
        item("a", "Where is my order?", "order_status", "en", at="2026-12-01T09:30:00Z").to_json(),
        item("c", "算了", "", status="ignored").to_json(),
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, store = tmp_path / "out.jsonl", tmp_path / "store.jsonl"
    assert cli.main(["export", "--from", str(source), "--out", str(out)]) == 0
    assert cli.main(["import", str(out), "--into", str(store)]) == 0
    assert store.read_bytes() == out.read_bytes()
    assert I.read_items(store) == sorted(I.read_items(source), key=lambda i: i.id)
    # exporting the store again gives the same file; importing again changes nothing
    again = tmp_path / "again.jsonl"
    I.export_items(I.JsonlSource(store), again)
    assert again.read_bytes() == out.read_bytes()
    result = I.import_items(out, store)
    assert result.added == result.updated == [] and len(result.unchanged) == 3
    assert store.read_bytes() == out.read_bytes()


def test_reading_accepts_a_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_bytes(("\ufeff" + item("1", "你好", "greet").to_json() + "\r\n").encode("utf-8"))
    assert I.read_items(path) == [item("1", "你好", "greet")]


def test_export_filters_by_status(tmp_path):
    source = tmp_path / "source.jsonl"
    I.write_items(source, [item("1", "你好", "greet"), item("2", "嗯", "", status="ignored")])
    exported = I.export_items(I.JsonlSource(source), tmp_path / "out.jsonl", ["labelled"])
    assert [i.id for i in exported] == ["1"]
    assert [i.id for i in I.read_items(tmp_path / "out.jsonl")] == ["1"]


def test_import_merges_by_id_deterministically_whatever_the_order(tmp_path):
    old = item("1", "退款", "refund", at="2026-12-01T09:00:00+00:00")
    newer = item("1", "退款", "return_exchange", at="2026-12-01T10:00:00+01:00")  # 09:00Z: same time
    later = item("1", "退款", "return_exchange", at="2026-12-01T09:30:00+00:00")
    applied = dataclasses.replace(old, status="applied")
    other = item("2", "你好", "greet")
    assert I.merge([old], [later]).items == [later]
    assert I.merge([later], [old]).items == [later]
    assert I.merge([old], [applied]).items == [applied] == I.merge([applied], [old]).items
    assert I.merge([old], [newer]).items == I.merge([newer], [old]).items  # a tie: still one answer
    result = I.merge([old], [other, later])
    assert (result.added, result.updated, [i.id for i in result.items]) == (["2"], ["1"], ["1", "2"])


def test_import_of_a_bad_file_writes_nothing(tmp_path):
    store = tmp_path / "store.jsonl"
    I.write_items(store, [item("1", "你好", "greet")])
    before = store.read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(item("2", "嗨", "greet").to_json() + "\n{broken\n", encoding="utf-8")
    with pytest.raises(I.ItemsError, match="line 2"):
        I.import_items(bad, store)
    assert store.read_bytes() == before


def test_handoff_service_as_a_source_needs_a_trainers_token(monkeypatch, tmp_path):
    from bot.training.items import HandoffSource, ItemsError, JsonlSource, open_source

    monkeypatch.setattr(I, "TRAINER_TOKEN_FILE", tmp_path / "trainer.token")
    monkeypatch.delenv("HANDOFF_TRAINER_TOKEN", raising=False)
    with pytest.raises(ItemsError, match="HANDOFF_TRAINER_TOKEN"):
        open_source("http://127.0.0.1:8080")
    (tmp_path / "trainer.token").write_text("hsta_from_file\n")  # what make run keeps for its trainer
    assert open_source("http://127.0.0.1:8080") == HandoffSource("http://127.0.0.1:8080", "hsta_from_file")
    monkeypatch.setenv("HANDOFF_TRAINER_TOKEN", "hsta_x")  # the environment first
    assert open_source("http://127.0.0.1:8080") == HandoffSource("http://127.0.0.1:8080", "hsta_x")
    assert isinstance(open_source("var/review/items.jsonl"), JsonlSource)


def test_only_written_review_items_are_marked_applied():
    from bot.training.apply import Change, Report, applied_ids
    from bot.training.items import Item

    def item(i: str, text: str, status: str = "labelled") -> Item:
        return Item(i, text, "zh", "refund", status, 1, "tina", "2026-12-07T00:00:00+00:00")

    items = [
        item("r-1", "退款呢"),
        item("r-2", "基准句子"),
        item("r-3", "已经写过", "applied"),
        item("x-4", "别处来的"),
    ]
    report = Report(changes=[Change("skipped", "zh", "refund", "基准句子", "-", "a benchmark utterance")])
    assert applied_ids(items, report) == ["r-1"]
