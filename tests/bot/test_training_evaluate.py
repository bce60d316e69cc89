"""`python -m bot.training evaluate`: the report on fixed predictions (pure), the gate, the choice of the
previous model, the masker, and the real command on real models."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.training import evaluate, pii, report
from bot.training.report import Example, IntentRow, LabelledSet, Scores, SetResult

ROOT = Path(__file__).resolve().parents[2]


def labelled(examples, name="real-traffic", language="zh", show_texts=True):
    return LabelledSet(name, language, "test set", [Example(*e) for e in examples], show_texts)


# text, gold, new, old
FIXED = [
    ("我要退款", "refund", "refund", "order_status"),  # fixed
    ("退钱给我", "refund", "refund", "refund"),
    ("我的快递到哪了", "order_status", "order_status", "order_status"),
    ("订单还没到，电话13812345678", "order_status", "refund", "order_status"),  # broken
    ("查一下物流", "order_status", "nlu_fallback", "refund"),  # still wrong, prediction changed
    ("你好", "greet", "greet", "greet"),
]


@pytest.fixture
def result():
    return report.compare(labelled(FIXED))


def by_intent(result):
    return {row.intent: row for row in result.intents}


def test_per_intent_scores_and_their_changes(result):
    rows = by_intent(result)
    refund, status = rows["refund"], rows["order_status"]
    assert (refund.support, status.support, rows["greet"].support) == (2, 3, 1)
    # old: refund predicted 2x (1 right), order_status predicted 3x (2 right, of 3)
    assert refund.old == Scores(precision=0.5, recall=0.5, f1=0.5)
    # new: refund predicted 3x (2 right); order_status predicted once (right), 1 of 3 found
    assert refund.new.precision == pytest.approx(2 / 3) and refund.new.recall == 1.0
    assert refund.delta("f1") == pytest.approx(0.8 - 0.5)
    assert status.old.f1 == pytest.approx(2 / 3) and status.new.f1 == pytest.approx(0.5)
    assert status.delta("recall") == pytest.approx(1 / 3 - 2 / 3)
    assert rows["greet"].delta("f1") == 0.0
    assert result.macro_f1_old == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert result.macro_f1_new == pytest.approx((0.8 + 0.5 + 1) / 3)
    assert result.macro_f1_change == pytest.approx(result.macro_f1_new - result.macro_f1_old)


def test_fixed_broken_and_still_wrong_lists(result):
    assert [(e.text, e.old, e.new) for e in result.fixed] == [("我要退款", "order_status", "refund")]
    assert [(e.gold, e.old, e.new) for e in result.broken] == [("order_status", "order_status", "refund")]
    assert [(e.text, e.old, e.new) for e in result.still_wrong] == [("查一下物流", "refund", "nlu_fallback")]


def test_example_texts_are_masked(result):
    assert result.broken[0].text == "订单还没到，电话138****5678"
    out = report.render(report_of([result]))
    for content in out.values():
        assert "13812345678" not in content


def test_confusions_with_old_and_new_counts(result):
    pairs = {(c.gold, c.predicted): (c.old, c.new, c.change) for c in result.confusions}
    assert pairs == {
        ("refund", "order_status"): (1, 0, -1),
        ("order_status", "refund"): (1, 1, 0),
        ("order_status", "nlu_fallback"): (0, 1, 1),
    }


def test_public_set_examples_are_named_by_row_not_text():
    result = report.compare(labelled([("where is my money", "refund", "greet", "refund")], show_texts=False))
    assert [e.text for e in result.broken] == ["row 1"]


def test_public_set_rows_name_the_source_row_after_sampling():
    items = [(f"text {i}", "refund") for i in (0, 4, 8)]
    text_set = evaluate.TextSet("bitext", "en", "", items, show_texts=False, rows=[1, 5, 9])
    result = report.compare(evaluate.labelled(text_set, ["greet"] * 3, ["refund"] * 3))
    assert [e.text for e in result.broken] == ["row 1", "row 5", "row 9"]
    assert all("text" not in e.text for e in result.broken)


def test_without_old_predictions_only_the_new_scores_and_wrong_examples():
    result = report.compare(labelled([(t, g, n, None) for t, g, n, _ in FIXED]))
    assert result.macro_f1_old is None and result.macro_f1_change is None
    assert all(row.old is None and row.delta("f1") is None for row in result.intents)
    assert result.fixed == [] and result.broken == []
    assert len(result.still_wrong) == 2
    verdict = report.gate([result])
    assert verdict.passed and "no previous model" in verdict.message
    alone = report.Report("2026-12-07", "models/new.tar.gz", None, "no previous model", [result], verdict)
    md = report.to_markdown(alone)
    assert "- previous model: none" in md and "**Wrong** (2)" in md and "| refund | 2 | – | 0.667 | – |" in md


def report_of(results, passed=True):
    return report.Report(
        created="2026-12-07T00:00:00+00:00",
        new_model="models/new.tar.gz",
        old_model="models/old.tar.gz",
        old_model_note="given",
        sets=results,
        gate=report.gate(results),
    )


def test_csv_has_a_bom_and_escapes_formulas():
    result = report.compare(
        labelled(
            [
                ('=HYPERLINK("http://x")', "refund", "greet", "refund"),
                ("+1 件退款", "refund", "greet", "refund"),
                ("-1 件", "refund", "greet", "refund"),
                ("@所有人 退款", "refund", "greet", "refund"),
                ("我要退款", "refund", "refund", "refund"),
            ]
        )
    )
    files = report.render(report_of([result]))
    for name in ("intents.csv", "examples.csv", "confusions.csv"):
        assert files[name].startswith("\ufeff"), name
    rows = list(csv.DictReader(io.StringIO(files["examples.csv"].lstrip("\ufeff"))))
    texts = [row["text"] for row in rows]
    assert texts == ['\'=HYPERLINK("http://x")', "'+1 件退款", "'-1 件", "'@所有人 退款"]
    assert {row["kind"] for row in rows} == {"broken"}
    intents = list(csv.DictReader(io.StringIO(files["intents.csv"].lstrip("\ufeff"))))
    refund = next(row for row in intents if row["intent"] == "refund")
    assert float(refund["recall change"]) == pytest.approx(-0.8)  # a number, not an escaped text
    assert report.csv_cell(-0.5) == -0.5 and report.csv_cell("-0.5") == "'-0.5" and report.csv_cell("ok") == "ok"


def test_markdown_and_json_hold_every_part():
    result = report.compare(labelled(FIXED))
    files = report.render(report_of([result]))
    md = files["report.md"]
    assert "## Gate: passed" in md and "## real-traffic/zh" in md and "| refund | 2 |" in md
    assert "**Fixed (wrong before, right now)** (1)" in md and "**Broken (right before, wrong now)** (1)" in md
    data = json.loads(files["report.json"])
    assert data["sets"][0]["macro_f1_change"] == pytest.approx(result.macro_f1_change)
    # macro-F1 rose, (0.5 + 2/3 + 1)/3 -> (0.8 + 0.5 + 1)/3; order_status lost 0.167 but has support 3
    assert data["gate"] == {"passed": True, "reasons": [], "message": report.gate([result]).message}


def test_what_changed_comes_first_and_names_the_intents_that_got_better_and_worse():
    result = report.compare(labelled(FIXED))
    md = report.to_markdown(report_of([result]))
    changed = md[md.index("## What changed") : md.index("## real-traffic/zh")]
    assert "1 example(s) fixed, 1 broken" in changed
    better, worse = changed[changed.index("**Better**") :].split("**Worse**")
    # refund 0.5 -> 0.8, order_status 0.667 -> 0.5; greet unchanged is in neither list
    assert "`refund` +0.300 F1 on real-traffic/zh (0.500 -> 0.800, support 2)" in better
    assert "`order_status` -0.167 F1 on real-traffic/zh (0.667 -> 0.500, support 3)" in worse
    assert "greet" not in changed


def set_result(macro_old, macro_new, intents, name="heldout", language="en"):
    rows = [
        IntentRow(intent, support, Scores(1.0, 1.0, new), Scores(1.0, 1.0, old))
        for intent, support, old, new in intents
    ]
    return SetResult(name, language, "", 10, macro_new, macro_old, rows, [])


def test_gate_fails_when_macro_f1_falls():
    verdict = report.gate([set_result(0.90, 0.90, []), set_result(0.90, 0.899, [], name="bitext")])
    assert not verdict.passed
    assert verdict.reasons == ["macro-F1 fell on bitext/en: 0.900 -> 0.899 (-0.001)"]


def test_gate_fails_when_an_intent_with_support_5_loses_003():
    verdict = report.gate([set_result(0.90, 0.91, [("refund", 5, 0.90, 0.87), ("greet", 9, 0.50, 0.70)])])
    assert not verdict.passed
    assert len(verdict.reasons) == 1 and "intent refund on heldout/en (support 5) lost 0.030" in verdict.reasons[0]


def test_gate_passes_a_001_loss_and_a_big_loss_with_support_4():
    verdict = report.gate([set_result(0.90, 0.91, [("refund", 5, 0.90, 0.89), ("invoice", 4, 0.90, 0.20)])])
    assert verdict.passed and verdict.reasons == []
    assert verdict.message.startswith("gate passed")


def test_gate_allows_exactly_002():
    assert report.gate([set_result(0.9, 0.9, [("refund", 20, 0.85, 0.83)])]).passed


# ---------------------------------------------------------------- previous model


def test_previous_model_is_the_last_accepted_other_one(tmp_path):
    new, a, b = (tmp_path / f"{n}.tar.gz" for n in ("new", "a", "b"))
    for path in (new, a, b):
        path.write_bytes(b"x")
    models = [(new, 3.0), (a, 1.0), (b, 2.0)]
    assert evaluate.choose_previous(new, [str(a), str(new)], models)[0] == a.resolve()
    # nothing accepted (or accepted ones gone): the newest other model in models/
    old, how = evaluate.choose_previous(new, [str(tmp_path / "gone.tar.gz")], models)
    assert old == b.resolve() and "newest other model" in how
    old, how = evaluate.choose_previous(new, [], [(new, 3.0)])
    assert old is None and "no previous model" in how


def test_accepted_models_are_recorded_in_order(tmp_path):
    state = tmp_path / "state.json"
    assert evaluate.read_accepted(state) == []
    for name in ("a", "b", "a"):
        evaluate.record_accepted(tmp_path / f"{name}.tar.gz", state)
    assert [Path(x).name for x in evaluate.read_accepted(state)] == ["b.tar.gz", "a.tar.gz"]


def test_sets_are_labelled_by_language_and_limited(tmp_path):
    if not evaluate.nlu.BENCHMARKS.is_dir():
        pytest.skip("public benchmarks not here")
    traffic = tmp_path / "traffic"
    traffic.mkdir()
    (traffic / "zh.yml").write_text('version: "3.1"\nnlu:\n- intent: refund\n  examples: |\n    - 我要退款\n')
    sets, notes = evaluate.load_sets(["real-traffic", "bitext", "clinc150"], traffic, 4)
    assert [(s.name, s.language, len(s.items)) for s in sets] == [
        ("real-traffic", "zh", 1),
        ("bitext", "en", 4),
        ("clinc150", "en", 4),
    ]
    assert sets[0].items == [("我要退款", "refund")] and sets[0].show_texts
    bitext = evaluate.nlu.read_benchmark("bitext_en.csv")
    assert [bitext[r - 1]["text"] for r in sets[1].rows] == [t for t, _ in sets[1].items]
    assert not sets[1].show_texts and any("--limit 4" in n for n in notes)
    _, notes = evaluate.load_sets(["real-traffic"], tmp_path / "none", None)
    assert notes == [f"real-traffic test set not found ({tmp_path / 'none'}): not scored"]


def test_parsing_plan_shares_the_processes():
    assert evaluate.plan([["a", "b", "c"], []], 2) == [(0, ["a", "b"]), (0, ["c"])]
    assert evaluate.plan([["a", "b"], ["c"]], 2) == [(0, ["a", "b"]), (1, ["c"])]
    assert evaluate.plan([["a", "b"]], 1) == [(0, ["a", "b"])]
    assert evaluate.plan([[], []], 2) == []


def test_sample_spreads_evenly():
    items = [(str(i), "x") for i in range(10)]
    assert evaluate.sample(items, 5) == [items[i] for i in (0, 2, 4, 6, 8)]
    assert evaluate.sample(items, None) == items


def test_cached_predictions_are_reused_and_keyed_by_text_hash(tmp_path, monkeypatch):
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"model")
    cache = tmp_path / "cache"
    parsed = []

    def fake_parse(path, texts):
        parsed.append(list(texts))
        return [f"intent-{t}" for t in texts]

    monkeypatch.setattr(evaluate, "parse_texts", fake_parse)
    assert evaluate.predict([model], ["a", "b", "a"], cache, jobs=1) == [["intent-a", "intent-b", "intent-a"]]
    assert evaluate.predict([model], ["b", "c"], cache, jobs=1) == [["intent-b", "intent-c"]]
    assert parsed == [["a", "b"], ["c"]]  # each text parsed once
    (stored,) = cache.iterdir()
    assert "intent-a" in stored.read_text() and '"a"' not in stored.read_text()  # texts only as hashes
    model.write_bytes(b"retrained")  # another file: nothing reused
    evaluate.predict([model], ["a"], cache, jobs=1)
    assert parsed[-1] == ["a"]


# ---------------------------------------------------------------- masker


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我的手机13812345678", "我的手机138****5678"),
        ("call +86 138-1234-5678", "call +86 1**-****-5678"),
        ("身份证110105199003070021", "身份证110***********0021"),
        ("卡号 6222 0212 3456 7890 128", "卡号 622* **** **** ***0 128"),
        ("mail zhang.san@example.com please", "mail z***@example.com please"),
        ("手机１３８１２３４５６７８", "手机１３８****５６７８"),
        ("订单12345 在 2026-11-24 发货", "订单12345 在 2026-11-24 发货"),
        ("运单号SF1402875531", "运单号SF1402875531"),
    ],
)
def test_masker(text, expected):
    assert pii.mask(text) == expected


# ---------------------------------------------------------------- the real command


def run_evaluate(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "bot.training", "evaluate", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def current_model() -> Path:
    if os.environ.get("RASA_MODEL"):
        return (ROOT / os.environ["RASA_MODEL"]).resolve()
    digest = subprocess.run([str(ROOT / ".ci" / "model-hash")], capture_output=True, text=True, check=True)
    return ROOT / "models" / f"{digest.stdout.strip()}.tar.gz"


def test_command_refuses_when_there_is_nothing_to_score(tmp_path):
    model = tmp_path / "m.tar.gz"
    model.write_bytes(b"not parsed")
    args = ["--new", str(model), "--no-old", "--sets", "real-traffic", "--real-traffic", str(tmp_path / "none")]
    done = run_evaluate(*args, "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "nothing to score: real-traffic test set not found" in done.stderr
    assert not (tmp_path / "out").exists()


def test_command_on_the_current_model_against_itself(tmp_path):
    model = current_model()
    if not model.exists():
        pytest.skip(f"no current model ({model}): `make train` first")
    out = tmp_path / "report"
    args = ["--new", str(model), "--old", str(model), "--sets", "heldout", "--limit", "12", "--jobs", "1"]
    done = run_evaluate(*args, "--out", str(out), "--cache", str(tmp_path / "cache"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == sorted(report.render(report_of([])))
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["language"], s["size"]) for s in data["sets"]] == [
        ("heldout", "zh", 12),
        ("heldout", "en", 12),
    ]
    for s in data["sets"]:
        assert s["macro_f1_change"] == 0.0 and s["fixed"] == [] and s["broken"] == []
        assert all(row["change"]["f1"] == 0.0 for row in s["intents"])
    assert data["gate"]["passed"] is True and "gate passed" in done.stdout
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1  # one model, parsed once


TINY = {
    "greet": ["hello", "hi there", "good morning", "hey", "hello, anyone there?", "hi, good afternoon"],
    "goodbye": ["bye", "goodbye", "see you later", "that's all, bye", "thanks, goodbye", "see you"],
    "order_status": [
        "where is my order",
        "has my parcel shipped",
        "track my package",
        "when will my order arrive",
        "my delivery is late",
        "order status please",
    ],
    "refund": [
        "I want a refund",
        "give me my money back",
        "when will I get my refund",
        "refund my payment",
        "how long does a refund take",
        "I'd like my money returned",
    ],
}


def nlu_yaml(intents: dict[str, list[str]]) -> str:
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in intents.items():
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def train_tiny(tmp: Path, name: str, intents: dict[str, list[str]]) -> Path:
    nlu = tmp / f"{name}.yml"
    nlu.write_text(nlu_yaml(intents), encoding="utf-8")
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "RASA_CACHE_DIRECTORY": str(tmp / f"cache-{name}"),
    }
    rasa = Path(sys.executable).with_name("rasa")
    args = [str(rasa), "train", "nlu", "--config", "config.yml", "--nlu", str(nlu), "--out", str(tmp)]
    done = subprocess.run(
        [*args, "--fixed-model-name", name, "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return tmp / f"{name}.tar.gz"


def test_report_on_two_small_fixed_models(tmp_path):
    """Old knows four intents, new lost `refund`: every refund text breaks, the gate fails naming it."""
    if not (ROOT / "var" / "pretrained").exists():
        pytest.skip("pretrained files missing: `make setup` first")
    old = train_tiny(tmp_path, "old", TINY)
    new = train_tiny(tmp_path, "new", {k: v for k, v in TINY.items() if k != "refund"})
    traffic = tmp_path / "traffic"
    traffic.mkdir()
    (traffic / "en.yml").write_text(nlu_yaml({k: TINY[k] for k in ("refund", "greet")}), encoding="utf-8")
    out = tmp_path / "report"
    args = ["--new", str(new), "--old", str(old), "--sets", "real-traffic", "--real-traffic", str(traffic)]
    done = run_evaluate(*args, "--out", str(out), "--no-cache", "--jobs", "1")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "intent refund on real-traffic/en (support 6) lost" in done.stderr
    assert "macro-F1 fell on real-traffic/en" in done.stderr
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (result,) = data["sets"]
    assert (result["name"], result["language"], result["size"]) == ("real-traffic", "en", 12)
    rows = {row["intent"]: row for row in result["intents"]}
    assert rows["refund"]["old"]["f1"] == 1.0 and rows["refund"]["new"]["f1"] == 0.0
    assert sorted(e["text"] for e in result["broken"]) == sorted(TINY["refund"])
    assert all(e["old"] == "refund" and e["new"] != "refund" for e in result["broken"])
    assert result["macro_f1_change"] < 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Gate: FAILED" in md and "- intent refund on real-traffic/en (support 6) lost 1.000 F1" in md


def test_a_report_is_published_to_the_review_page_shortened_to_fit(tmp_path, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from types import SimpleNamespace

    from bot.training import evaluate as E

    got: list[tuple[str, str, dict]] = []

    class ReviewPage(BaseHTTPRequestHandler):  # handoff_service's POST /api/review/reports, as far as used
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            got.append((self.path, self.headers["Authorization"], body))
            answer = json.dumps({"id": 7}).encode()
            self.send_response(201 if self.headers["Authorization"] == "Bearer hsta_t" else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ReviewPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    markdown = tmp_path / "report.md"
    markdown.write_text("# 评估报告\n" + "退款 refund 0.91 → 0.95\n" * 2000, encoding="utf-8")
    report = SimpleNamespace(new_model="models/new.tar.gz", old_model=None, gate=SimpleNamespace(passed=True))
    monkeypatch.setenv("HANDOFF_TRAINER_TOKEN", "hsta_t")
    try:
        said = E.publish(url, report, markdown)
        monkeypatch.setenv("HANDOFF_TRAINER_TOKEN", "wrong")
        refused = E.publish(url, report, markdown)
    finally:
        server.shutdown()
    assert said.endswith("(report 7)") and "not published" in refused and "401" in refused
    path, auth, body = got[0]
    assert (path, auth) == ("/api/review/reports", "Bearer hsta_t")
    assert body["title"] == "models/new.tar.gz vs no previous model" and body["passed"] is True
    assert len(body["markdown"]) == E.PUBLISHED_CHARS and body["markdown"].startswith("# 评估报告")
    assert body["markdown"].rstrip().endswith("report.md)")  # says where the whole report is
