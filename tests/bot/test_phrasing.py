import copy
import subprocess
import sys
from pathlib import Path

from bot.phrasing import find_taboos, lint_domain

ROOT = Path(__file__).resolve().parents[2]


def zh_en(zh, en):
    return [
        {"condition": [{"type": "slot", "name": "language", "value": "zh"}], "text": zh},
        {"condition": [{"type": "slot", "name": "language", "value": "en"}], "text": en},
    ]


def test_the_domain_follows_the_style_guide(domain_dict):
    assert [str(v) for v in lint_domain(domain_dict)] == []


def test_cli_passes_on_the_domain_and_names_the_broken_rule(tmp_path, domain_dict):
    ok = subprocess.run([sys.executable, "-m", "bot.phrasing"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = copy.deepcopy(domain_dict)
    broken["responses"]["utter_goodbye"] = zh_en("再见。", "Bye, calm down.")
    path = tmp_path / "domain.yml"
    import yaml

    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot.phrasing", str(path)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert 'utter_goodbye [en]: taboo-cold: contains "calm down"' in result.stdout
    assert "utter_goodbye [zh]: closing: must contain one of ['感谢', '谢谢']" in result.stdout


def test_missing_language_variation_is_reported():
    domain = {"responses": {"utter_x": zh_en("好的，请稍等。", "One moment, please.")[:1]}}
    assert any(v.rule == "bilingual" and v.language == "en" for v in lint_domain(domain))


def test_text_in_the_wrong_language_is_reported():
    domain = {"responses": {"utter_x": zh_en("Hello", "您好")}}
    rules = {(v.language, v.rule) for v in lint_domain(domain)}
    assert {("zh", "language"), ("en", "language")} <= rules


def test_rules_naming_missing_responses_are_reported():
    assert any(v.response == "utter_greet" for v in lint_domain({"responses": {}}))


def test_find_taboos_in_both_languages_and_scripts():
    assert find_taboos("这不归我管，你找别人去") == [
        {"category": "shirking", "phrase": "这不归我管"},
        {"category": "shirking", "phrase": "不归我管"},
        {"category": "shirking", "phrase": "找别人去"},
        {"category": "shirking", "phrase": "找别人"},
    ]
    assert {t["phrase"] for t in find_taboos("這不歸我管")} >= {"这不归我管"}
    assert find_taboos("Please CALM DOWN") == [{"category": "cold", "phrase": "calm down"}]
    assert find_taboos("感谢您的理解，请稍等。") == []
