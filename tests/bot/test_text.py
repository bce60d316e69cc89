import pytest

from bot import text


def test_segment_splits_chinese_with_jieba_and_keeps_numbers_words_and_emails_whole():
    words = [word for word, _ in text.segment("我的order 12345 还没到,邮箱a.b@example.com")]
    assert words[:3] == ["我", "的", "order"]
    assert "12345" in words and "a.b@example.com" in words
    assert " " not in words


def test_segment_offsets_point_into_the_text():
    sample = "订单 20003 到哪了"
    for word, start in text.segment(sample):
        assert sample[start : start + len(word)] == word


@pytest.mark.parametrize(
    "sample, expected",
    [
        ("我的订单还没到", "zh"),
        ("where is my order", "en"),
        ("我的order 12345 还没到", "zh"),
        ("我的訂單還沒到", "zh"),
        ("is the 退款 done yet or not", "en"),
        ("12345", None),
        ("😀😀", None),
        ("", None),
    ],
)
def test_detect_language(sample, expected):
    assert text.detect_language(sample) == expected


@pytest.mark.parametrize(
    "sample, expected",
    [
        ("我的訂單還沒到", "traditional"),
        ("我的订单还没到", "simplified"),
        ("你好", None),  # the same in both scripts
        ("hello", None),
    ],
)
def test_detect_script(sample, expected):
    assert text.detect_script(sample) == expected


def test_script_conversion_round_trip():
    assert text.to_simplified("我的訂單還沒到") == "我的订单还没到"
    assert text.to_traditional("我的订单还没到") == "我的訂單還沒到"


def test_strip_markup_removes_tags_and_encoded_tags():
    assert text.strip_markup("<script>alert(1)</script> hi") == "alert(1) hi"
    assert "<" not in text.strip_markup("&lt;img src=x onerror=alert(1)&gt;查订单")
    assert text.strip_markup("a < b") == "a < b"  # a lone "<" is no tag


def test_symbols_only():
    assert text.is_symbols_only("😀 👍!!")
    assert not text.is_symbols_only("好的👍")
    assert not text.is_symbols_only("   ")
