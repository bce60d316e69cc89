"""The emotion-intensity detector (bot/emotion.py) and its NLU component."""

import csv
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.emotion import LEXICON_FILE, Emotion, detect_emotion
from bot.nlu.emotion import EmotionDetector

ROOT = Path(__file__).resolve().parents[2]


def level(text):
    return detect_emotion(text).level


@pytest.mark.parametrize(
    "text, expected",
    [
        # Simplified Chinese
        ("请问我的订单什么时候发货？", 0),
        ("有点失望，和图片上的颜色不一样", 1),
        ("太差了，杯子收到就是碎的", 2),
        ("气死了，客服一直不回消息", 2),
        ("再不退款我就打12315投诉你们", 3),
        ("我要找律师，你们等着", 3),
        ("已经差评了，再也不买你们家的东西", 3),
        # Traditional Chinese
        ("請問可以開發票嗎", 0),
        ("有點失望，包裝破了", 1),
        ("這服務太爛了", 2),
        ("我要去消費者協會投訴你們", 3),
        # English
        ("Can I change my delivery address?", 0),
        ("I'm a bit disappointed with the fit", 1),
        ("The delivery was not great", 1),
        ("This is unacceptable, the screen is cracked", 2),
        ("I am very angry about this refund", 2),
        ("I'm reporting you to consumer protection", 3),
        ("Fix it or I'll talk to my lawyer", 3),
        ("I will never shop here again", 3),
        ("I'm filing a chargeback", 3),
    ],
)
def test_levels_per_language(text, expected):
    assert level(text) == expected


def test_mixed_chinese_and_english():
    assert level("我的order还没到，this is unacceptable") == 2
    assert level("This is ridiculous，我要去12315投诉") == 3
    assert level("我的order 20240601888 什么时候发货？") == 0


def test_traditional_scores_like_simplified():
    for simplified, traditional in [
        ("气死了，还没发货", "氣死了，還沒發貨"),
        ("我要在网上曝光你们", "我要在網上曝光你們"),
    ]:
        assert detect_emotion(traditional).level == detect_emotion(simplified).level > 0


@pytest.mark.parametrize(
    "text",
    [
        "我不生气，就是问一下",
        "我没有生气",
        "I'm not angry, just asking",
        "I am not upset at all",
        "我不会给差评的",
        "I'm not going to sue you",
    ],
)
def test_negation_cancels_the_word(text):
    emotion = detect_emotion(text)
    assert emotion.level == 0
    assert any(cue.startswith("negated:") for cue in emotion.cues)


def test_negation_does_not_reach_past_other_words():
    assert level("忍不住生气") == 2  # 不住 is no negation
    assert level("你们不发货，气死了") == 2
    assert level("I have never been so angry") >= 2


def test_a_negated_positive_word_is_mildly_unhappy():
    assert level("不是很满意") == 1
    assert level("This isn't great") == 1


def test_intensifiers_and_diminishers():
    assert level("我有点生气") == 1
    assert level("我生气") == 2
    assert "intensifier:生气" in detect_emotion("我非常生气").cues
    assert level("非常非常生气！！！") == 3
    assert level("I am so angry!!! Worst shop ever!!!") == 3


def test_repetition():
    assert "repetition:快点" in detect_emotion("快点快点快点").cues
    assert level("快点快点快点") == 2
    assert "repetition:why" in detect_emotion("why why why").cues
    assert level("hurry up hurry up!!") >= 2
    assert level("气死我了气死我了！！！") == 3


def test_punctuation():
    assert level("订单到哪了") == 0
    assert level("订单到哪了？？") == 1
    assert level("订单到哪了！！！") == 2
    assert level("where is my order???") == 1
    assert any(cue.startswith("punctuation:") for cue in detect_emotion("怎么回事！！！").cues)


def test_shouting():
    assert level("WHERE IS MY ORDER") == 2
    assert level("I am EXTREMELY ANGRY") == 3
    assert level("Does the LEGO set ship to Hong Kong?") == 0  # a brand, not shouting
    assert level("Is the DHL tracking number ready") == 0


def test_thanks_stay_calm_whatever_the_punctuation():
    assert level("THANK YOU SO MUCH!!!") == 0
    assert level("太好了，谢谢谢谢！！！") == 0


def test_profanity():
    assert level("what the hell, wrong colour again") == 2
    assert "profanity:妈的" in detect_emotion("妈的，又发错了").cues


def test_polite_words_that_contain_emotional_ones():
    for text in [
        "麻烦你帮我查一下",
        "我想退差价",
        "滚筒洗衣机有货吗",
        "I hate to bother you, where is my parcel",
        "what is the court fee",
        "Do you have a Facebook page?",
    ]:
        assert level(text) == 0, text


def test_cues_name_what_was_found():
    emotion = detect_emotion("太差了！！！我要去12315投诉")
    assert "threat:12315" in emotion.cues
    assert "punctuation:!!!" in emotion.cues
    assert any(cue.startswith("anger:") for cue in emotion.cues)
    assert len(emotion.cues) == len(set(emotion.cues))
    assert detect_emotion("请问有货吗").cues == ()


def test_emotion_is_a_frozen_dataclass():
    emotion = detect_emotion("太差了")
    assert isinstance(emotion, Emotion) and isinstance(emotion.cues, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        emotion.level = 0
    assert emotion.as_dict() == {"level": emotion.level, "cues": list(emotion.cues)}


@pytest.mark.parametrize("text", ["", "   \n", "😀", "👍👍", "🙂 ok", "12345", "？？", "\x00\x01", "<b></b>"])
def test_odd_input_does_not_crash(text):
    emotion = detect_emotion(text)
    assert emotion.level in (0, 1)


def test_angry_emoji():
    assert level("😡😡") == 2


def test_very_long_input():
    calm = "".join(f"第{i}件商品是什么颜色？" for i in range(500))
    assert len(calm) > 5000 and level(calm) == 0
    assert level("请问" * 2500) <= 1  # repetition, nothing else
    assert level("我的订单还没到" * 700 + "太差了") in (0, 1, 2, 3)  # the tail may be cut off, no crash
    long = detect_emotion("气死了！" * 1300)
    assert long.level == 3 and len(long.cues) <= 12
    shout = detect_emotion("!" * 5000 + "a" * 5000)
    assert shout.level == 2 and all(len(cue) <= 32 for cue in shout.cues)


def test_levels_are_between_0_and_3():
    for text in ["!!!!!!!!!!?????? WHY WHY WHY AAAAA", "骗子骗子骗子！！！！12315律师曝光差评", "ok"]:
        assert 0 <= level(text) <= 3


def test_no_work_at_import_time():
    code = (
        "import sys, bot.emotion as e; "
        "print(e._lexicon.cache_info().currsize, 'jieba' in sys.modules, 'opencc' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False", "False"]


def test_lexicon_file_is_well_formed():
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    known = {
        "threat",
        "anger",
        "profanity",
        "mild",
        "positive",
        "neutral",
        "intensifiers",
        "intensifier_suffixes",
        "diminishers",
        "negators",
        "negation_fillers",
        "caps_ignore",
    }
    for lang in ("zh", "en"):
        assert set(data[lang]) <= known, set(data[lang]) - known
        words = [
            str(w).lower()
            for c in ("threat", "anger", "profanity", "mild", "positive", "neutral")
            for w in data[lang].get(c) or []
        ]
        assert len(words) == len(set(words)), "an entry is listed twice"
    assert set(data["weights"]) == {"threat", "anger", "profanity", "mild"}


def test_evaluation_sets_cover_every_level():
    for lang in ("zh", "en"):
        with open(ROOT / "bench" / "data" / f"emotion_{lang}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) >= 60
        for lvl in "0123":
            assert sum(r["level"] == lvl for r in rows) >= 12


# ------------------------------------------------------------------ NLU component


def test_component_adds_emotion_to_the_parse_output():
    message = Message(data={TEXT: "氣死了！！再不退款我就去12315投訴"})
    EmotionDetector(EmotionDetector.get_default_config()).process([message])
    output = message.as_dict(only_output_properties=True)
    assert output["emotion"]["level"] == 3
    assert "threat:12315" in output["emotion"]["cues"]
    assert isinstance(output["emotion"]["cues"], list)


def test_component_on_calm_and_empty_messages():
    for text, expected in [("where is my parcel", 0), (" ", 0), ("", 0)]:
        message = Message(data={TEXT: text})
        EmotionDetector({}).process([message])
        assert message.get("emotion") == {"level": expected, "cues": []}


def test_component_leaves_training_data_alone():
    data = TrainingData([Message(data={TEXT: "太差了", "intent": "complain"})])
    EmotionDetector({}).process_training_data(data)
    assert data.training_examples[0].get("emotion") is None
