"""The custom NLU components, run directly on Rasa messages."""

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.entities import SpacyRuleEntityExtractor, extract
from bot.nlu.input_guard import GibberishDetector, InputIssueRouter, InputSanitizer, is_gibberish, known_trigrams
from bot.nlu.language import LanguageDetector, ScriptNormalizer
from bot.nlu.tokenizer import MixedTokenizer


def run(component, sample):
    message = Message(data={TEXT: sample})
    component.process([message])
    return message


def guard(sample):
    message = run(InputSanitizer({"max_chars": 500}), sample)
    message.set(INTENT, {"name": "order_status", "confidence": 0.9})
    InputIssueRouter({}).process([message])
    return message


def test_sanitizer_strips_markup_before_the_model_sees_it():
    message = guard("<script>alert('x')</script>我的订单到哪了")
    assert "<" not in message.get(TEXT)
    assert message.get(INTENT)["name"] == "order_status"


def test_routed_input_keeps_what_the_model_read_below_the_fallback():
    message = run(InputSanitizer({"max_chars": 500}), "   ")
    message.set(
        INTENT_RANKING_KEY, [{"name": "order_status", "confidence": 0.9}, {"name": "refund", "confidence": 0.1}]
    )
    InputIssueRouter({}).process([message])
    assert [item["name"] for item in message.get(INTENT_RANKING_KEY)] == ["nlu_fallback", "order_status", "refund"]


def test_unusable_input_is_routed_to_the_fallback_with_its_issue():
    for sample, issue in [
        ("", "empty"),
        ("   \n", "empty"),
        ("😀😀👍", "symbols_only"),
        ("<img src=x>", "markup_only"),
        ("投诉" * 2600, "too_long"),
    ]:
        message = guard(sample)
        assert message.get("input_issue") == issue, sample[:20]
        assert message.get(INTENT)["name"] == "nlu_fallback"
        assert len(message.get(TEXT)) <= 500


def test_gibberish_is_mostly_unreadable_latin_words():
    vocabulary = {"的", "吧", "我", "还", "没到", "where", "is", "my", "order", "shipping", "to", "cancel", "pencil"}
    known = known_trigrams(vocabulary)
    for sample in ["qzxv bnmlk wrtp", "的 qzxv 吧 bnmlk", "asdfghjkl"]:
        assert is_gibberish(sample.split(), vocabulary, known, 0.25), sample
    # typos and names read like known words; Chinese, numbers and short words are not judged
    for sample in ["wher is my ordr", "shippinh to", "我 的 order 12345 还 没到", "榴莲", "ok", "12345"]:
        assert not is_gibberish(sample.split(), vocabulary, known, 0.25), sample


def test_gibberish_detector_learns_the_vocabulary_and_keeps_it_in_the_model(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    tokenizer = MixedTokenizer(MixedTokenizer.get_default_config())
    data = TrainingData(
        [
            Message(data={TEXT: "Where is my order", INTENT: "order_status"}),
            Message(data={TEXT: "我的订单还没到", INTENT: "order_status"}),
            Message(data={TEXT: "qzxv bnmlk", INTENT: "out_of_scope"}),
        ]
    )  # mashes are not words
    tokenizer.process_training_data(data)
    storage, resource = LocalModelStorage(tmp_path), Resource("gibberish")
    config = GibberishDetector.get_default_config()
    GibberishDetector.create(config, storage, resource, None).train(data)
    detector = GibberishDetector.load(config, storage, resource, None)
    messages = [Message(data={TEXT: text}) for text in ("qzxv bnmlk wrtp", "where is my ordr", "的 qzxv bnmlk")]
    tokenizer.process(messages)
    detector.process(messages)
    assert [m.get("input_issue") for m in messages] == ["gibberish", None, "gibberish"]
    InputIssueRouter({}).process(messages)
    assert messages[0].get(INTENT)["name"] == "nlu_fallback"


def test_language_detector_reports_language_and_script():
    message = run(LanguageDetector({}), "我的訂單還沒到")
    assert (message.get("language"), message.get("script")) == ("zh", "traditional")
    message = run(LanguageDetector({}), "where is my parcel")
    assert (message.get("language"), message.get("script")) == ("en", None)
    assert ENTITIES not in message.data or not message.get(ENTITIES)


def test_script_normalizer_converts_traditional_for_the_model_and_training_data():
    assert run(ScriptNormalizer({}), "我的訂單還沒到").get(TEXT) == "我的订单还没到"
    data = TrainingData([Message(data={TEXT: "退貨怎麼辦", INTENT: "return_exchange"})])
    ScriptNormalizer({}).process_training_data(data)
    assert data.training_examples[0].get(TEXT) == "退货怎么办"


def test_mixed_tokenizer_segments_chinese_and_english():
    tokenizer = MixedTokenizer(MixedTokenizer.get_default_config())
    tokens = tokenizer.tokenize(Message(data={TEXT: "我的order 12345 还没到"}), TEXT)
    assert [t.text for t in tokens] == ["我", "的", "order", "12345", "还", "没到"]
    assert tokenizer.tokenize(Message(data={TEXT: ""}), TEXT)  # never zero tokens


def test_entities_order_phone_email_product():
    found = {
        (e["entity"], e["value"])
        for e in extract("订单号20240315001,手机13812345678,邮箱Li.Lei@Example.com,买的智能手表X2")
    }
    assert found == {
        ("order_number", "20240315001"),
        ("phone", "13812345678"),
        ("email", "li.lei@example.com"),
        ("product", "X2"),
    }


def test_a_mobile_number_is_not_an_order_number():
    assert [e["entity"] for e in extract("138 1234 5678")] == ["phone"]
    assert [e["entity"] for e in extract("13812345678")] == ["phone"]
    assert extract("order 1234") == []  # too short for an order number


def test_english_products_and_offsets():
    sample = "does the robot vacuum r5 work on carpet"
    [entity] = extract(sample)
    assert entity["value"] == "R5"
    assert sample[entity["start"] : entity["end"]] == "robot vacuum r5"


def test_extractor_component_adds_entities_with_its_name():
    message = run(SpacyRuleEntityExtractor({}), "my order 20003 is late")
    [entity] = message.get(ENTITIES)
    assert entity["entity"] == "order_number" and entity["extractor"] == "SpacyRuleEntityExtractor"


def routed(sample, intent):
    from bot.nlu.dissatisfaction import DissatisfactionRouter
    from bot.nlu.emotion import EmotionDetector

    message = Message(data={TEXT: sample})
    EmotionDetector({}).process_message(message)
    message.set(INTENT, {"name": intent, "confidence": 0.8})
    DissatisfactionRouter(DissatisfactionRouter.get_default_config()).process_message(message)
    return message


def test_strong_dissatisfaction_in_another_flow_becomes_a_complaint():
    message = routed("我的订单到底什么时候到？？等了十天了，气死我了！！！", "order_status")
    assert message.get(INTENT)["name"] == "complain"
    assert message.get("rerouted_from")["name"] == "order_status"
    calm = routed("我的订单什么时候到？", "order_status")
    assert calm.get(INTENT)["name"] == "order_status" and calm.get("rerouted_from") is None
    cursing = routed("where is my damn order", "order_status")  # upset (level 2), not yet a complaint
    assert cursing.get(INTENT)["name"] == "order_status"
    answer = routed("不对！！你们搞错了！！气死了", "deny")  # answers keep their intent
    assert answer.get(INTENT)["name"] == "deny"


def test_sanitizer_scans_a_bounded_prefix_of_a_huge_message(monkeypatch):
    """A 20 MB message must not be walked whole (it stalled the server for everyone)."""
    import bot.nlu.input_guard as input_guard

    seen = []
    real = input_guard.textlib.strip_markup

    def spy(text):
        seen.append(len(text))
        return real(text)

    monkeypatch.setattr(input_guard.textlib, "strip_markup", spy)
    message = run(InputSanitizer({"max_chars": 500}), "<b>" * 2_000_000 + "退款")
    assert seen and max(seen) <= 500 * input_guard.SCAN_FACTOR
    assert message.get(input_guard.ISSUE_KEY) == "too_long"
