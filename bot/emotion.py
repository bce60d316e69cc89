"""How upset a customer is, from one message: level 0-3 and the cues that were found.

    0  calm or neutral
    1  mildly unhappy          失望, "a bit disappointed", "not great"
    2  clearly upset or angry  太差了, 气死了, "this is unacceptable", !!, shouted words
    3  very upset              threats to go to the authorities, the media or a lawyer,
                               to leave a bad review or the shop, to charge back; or
                               strong anger with intensifiers, repetition, !!!

Simplified and Traditional Chinese (converted with `bot.text.to_simplified`) and
English, mixed freely in one message. The word lists live in `emotion_lexicon.yml`
next to this module (loaded on first use, then cached); the rules are here:

- words: the strongest word found sets the base (mild 1, anger/profanity 2, threat 3);
  a negator just before a word cancels it (不生气, "not angry"), before a positive
  word it makes it mildly unhappy (不是很满意, "not very pleased"); a diminisher in
  the same clause keeps it at 1 (有点生气, "a bit annoyed");
- amplifiers add points: an intensifier on a word (非常生气, "so angry", 糟透了),
  a second anger word, runs of ! or ? (!! 1 point, !!! 2), repetition (快点快点快点,
  "why why why", "sooo"), shouted words (1 point, 2 when the shouted word is itself
  emotional or several words are shouted);
- base 2 with 2+ points is level 3; base 1 with 1-3 points is 2, with 4+ it is 3;
  no emotional word: 1 point is 1, 2-4 points are 2, 5 points are 3;
- a message with thanks or praise and no negative word is calm whatever its
  punctuation ("THANK YOU!!!").

Pure functions; no state besides the cached lexicon (and jieba's dictionary).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.text import CJK, segment, to_simplified

LEXICON_FILE = Path(__file__).with_name("emotion_lexicon.yml")
MAX_CHARS = 2000  # longer messages are judged on their first 2000 characters
MAX_CUES = 12
MAX_CUE_CHARS = 32
LANGS = ("zh", "en")
WORD_CATEGORIES = ("threat", "anger", "profanity", "mild", "positive", "neutral")
NEGATIVE = ("threat", "anger", "profanity", "mild")

_CJK_RE = re.compile(f"[{CJK}]")
_CLAUSE_BREAK = "，,。.!！?？;；:：\n…~"
_CLAUSE_RE = re.compile(f"[{re.escape(_CLAUSE_BREAK)}]")
_PUNCT_RUN_RE = re.compile(r"[!?]{2,}")
_CAPS_RE = re.compile(r"(?<![A-Za-z0-9-])[A-Z][A-Z']*[A-Z](?![A-Za-z0-9-])")  # not model names (WH-1000XM5)
_ELONGATION_RE = re.compile(rf"([a-z{CJK}])\1{{2,}}")
_NOT_ELONGATION = "wx哈呵嘿嘻嗯哦噢啦"  # www, xxx, laughter and assent
_EN_WINDOW = 6  # words of context looked at before an English entry
_ZH_WINDOW = 8  # characters of context looked at before a Chinese entry


@dataclass(frozen=True)
class Emotion:
    level: int
    cues: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"level": self.level, "cues": list(self.cues)}


@dataclass(frozen=True)
class _Entry:
    category: str
    lang: str
    weight: int


@dataclass(frozen=True)
class _Rules:
    """Per-language modifiers, compiled."""

    negated: re.Pattern[str]  # matches the end of the context before an entry
    intensified: re.Pattern[str]
    diminished: re.Pattern[str]
    suffix: re.Pattern[str]  # intensifier right after an entry
    diminished_after: re.Pattern[str]
    intensifiers: frozenset


@dataclass(frozen=True)
class _Lexicon:
    patterns: re.Pattern[str]  # English (whole words) and gapped entries, one group each
    pattern_entries: tuple[_Entry, ...]  # by capture-group number - 1
    english: re.Pattern[str]  # the English part alone, for shouted words
    literals: dict[str, _Entry]  # plain Chinese and emoji entries, found by substring
    literal_lengths: tuple[int, ...]  # longest first
    rules: dict[str, _Rules]
    caps_ignore: frozenset


def _is_ascii(entry: str) -> bool:
    return all(ord(ch) < 128 for ch in entry)


def _entry_pattern(entry: str) -> str:
    """Regex for one lexicon entry (see the header of emotion_lexicon.yml)."""
    if not _is_ascii(entry):
        gap = f"[^{re.escape(_CLAUSE_BREAK)}]{{0,6}}?"
        return gap.join(re.escape(part.strip()) for part in entry.split(".."))
    words_gap = r"(?:[\s,]+[\w'-]+){0,4}?[\s,]+"

    def words(part: str) -> str:
        out = []
        for word in part.split():
            stem = word[:-1] if word.endswith("*") else word
            out.append(re.escape(stem) + (r"[a-z'-]*" if word.endswith("*") else ""))
        return r"\s+".join(out)

    return words_gap.join(words(part) for part in entry.split(" .. "))


def _alternation(items: Sequence[str], lang: str) -> str:
    items = sorted({str(i).lower() for i in items}, key=len, reverse=True)
    if not items:
        return "(?!)"
    if lang == "zh":
        return "|".join(re.escape(i) for i in items)
    return "|".join(re.escape(i) if i.startswith("n'") else rf"\b{re.escape(i)}\b" for i in items)


def _rules(section: dict[str, list], lang: str) -> _Rules:
    negators = _alternation(section.get("negators", []), lang)
    fillers = _alternation(section.get("negation_fillers", []), lang)
    intens = _alternation(section.get("intensifiers", []), lang)
    dimin = _alternation(section.get("diminishers", []), lang)
    suffixes = _alternation(section.get("intensifier_suffixes", []), lang)
    if lang == "zh":
        negated = rf"(?:{negators})(?:{fillers}){{0,2}}$"
        intensified = rf"(?:{intens})[是的都也很]?$"
        suffix, after = rf"^(?:了)?(?:{suffixes})", rf"^(?:{dimin})"  # 差到极点, 太慢了点
    else:
        negated = rf"(?:{negators})(?:\s+(?:{fillers})){{0,3}}\s*$"
        intensified = rf"(?:{intens})\s*$"
        suffix, after = rf"^\s*(?:{suffixes})", r"(?!)"
    return _Rules(
        negated=re.compile(negated),
        intensified=re.compile(intensified),
        diminished=re.compile(dimin),
        suffix=re.compile(suffix),
        diminished_after=re.compile(after),
        intensifiers=frozenset(str(i).lower() for i in section.get("intensifiers", [])),
    )


@functools.lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    import yaml

    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    weights = {**dict.fromkeys(WORD_CATEGORIES, 0), **data.get("weights", {})}
    items: list[tuple[str, _Entry]] = []
    for lang in LANGS:
        for category in WORD_CATEGORIES:
            for raw in data.get(lang, {}).get(category) or []:
                entry = str(raw).strip().lower()
                if entry:
                    items.append((entry, _Entry(category, lang, int(weights[category]))))
    # the longest entry first, so that alternation prefers it where entries overlap
    items.sort(key=lambda item: len(item[0].replace("..", "").replace("*", "")), reverse=True)
    # English entries (whole words) first, then gapped Chinese ones; groups numbered alike
    english_items = [item for item in items if _is_ascii(item[0])]
    gapped_items = [item for item in items if not _is_ascii(item[0]) and ".." in item[0]]
    english = "|".join(f"({_entry_pattern(e)})" for e, _ in english_items)
    gapped = "|".join(f"({_entry_pattern(e)})" for e, _ in gapped_items)
    literals: dict[str, _Entry] = {}
    for entry, info in items:
        if not _is_ascii(entry) and ".." not in entry:
            literals.setdefault(entry, info)
    en = data.get("en", {})
    return _Lexicon(
        patterns=re.compile(rf"(?<![a-z0-9'])(?:{english})(?![a-z0-9])" + (f"|{gapped}" if gapped else "")),
        pattern_entries=tuple(info for _, info in english_items + gapped_items),
        english=re.compile(rf"(?:{english})"),
        literals=literals,
        literal_lengths=tuple(sorted({len(e) for e in literals}, reverse=True)),
        rules={lang: _rules(data.get(lang, {}), lang) for lang in LANGS},
        caps_ignore=frozenset(str(w).lower() for w in en.get("caps_ignore", [])),
    )


def _matches(lower: str, lex: _Lexicon) -> list[tuple[int, int, _Entry]]:
    """Non-overlapping lexicon entries in the text, leftmost and then longest first."""
    found = [(m.start(), m.end(), lex.pattern_entries[m.lastindex - 1]) for m in lex.patterns.finditer(lower)]
    i, n = 0, len(lower)
    while i < n:
        if lower[i].isascii():  # plain entries are Chinese or emoji
            i += 1
            continue
        for length in lex.literal_lengths:
            entry = lex.literals.get(lower[i : i + length])
            if entry is not None:
                found.append((i, i + length, entry))
                i += length
                break
        else:
            i += 1
    found.sort(key=lambda m: (m[0], m[0] - m[1]))
    kept: list[tuple[int, int, _Entry]] = []
    for match in found:
        if not kept or match[0] >= kept[-1][1]:
            kept.append(match)
    return kept


def _clause_before(text: str, start: int, lang: str) -> str:
    """The end of the clause before an entry: a few characters (zh) or words (en)."""
    if lang == "zh":
        return _CLAUSE_RE.split(text[max(0, start - _ZH_WINDOW) : start])[-1]
    clause = _CLAUSE_RE.split(text[max(0, start - 80) : start])[-1]
    words = clause.split()
    return " ".join(words[-_EN_WINDOW:]) + (" " if words else "")


def _clause_after(text: str, end: int) -> str:
    return _CLAUSE_RE.split(text[end : end + 8])[0]


@dataclass
class _Found:
    cues: list[str]
    base: int = 0
    anger_terms: int = 0
    intensified: bool = False
    positive: bool = False


def _words(lower: str, lex: _Lexicon) -> _Found:
    found = _Found(cues=[])
    anger_seen = set()
    for start, end, entry in _matches(lower, lex):
        if entry.category == "neutral":
            continue
        word = lower[start:end]
        rules = lex.rules[entry.lang]
        before = _clause_before(lower, start, entry.lang)
        after = _clause_after(lower, end)
        if rules.negated.search(before):
            found.cues.append(f"negated:{word}")
            if entry.category == "positive":  # 不是很满意, "not very pleased": mildly unhappy
                found.base = max(found.base, 1)
            continue
        if entry.category == "positive":
            found.positive = True
            found.cues.append(f"positive:{word}")
            continue
        weight = entry.weight
        if entry.category != "threat" and (rules.diminished.search(before) or rules.diminished_after.search(after)):
            weight = min(weight, 1)
            found.cues.append(f"diminisher:{word}")
        elif entry.category != "threat" and (rules.intensified.search(before) or rules.suffix.search(after)):
            found.intensified = True
            found.cues.append(f"intensifier:{word}")
        if weight >= 2 and entry.category != "threat":
            anger_seen.add(word)
        found.base = max(found.base, weight)
        found.cues.append(f"{entry.category}:{word}")
    found.anger_terms = len(anger_seen)
    return found


def _punctuation(text: str) -> tuple[int, str | None]:
    runs = _PUNCT_RUN_RE.findall(text)
    if not runs:
        return (1, f"exclamations:{text.count('!')}") if text.count("!") >= 3 else (0, None)
    best = max(runs, key=lambda r: (len(r) >= 3 and "!" in r, len(r)))
    points = 2 if len(best) >= 3 and "!" in best else 1
    return points, f"punctuation:{best}"


def _repetition(lower: str, rules: dict[str, _Rules]) -> str | None:
    """The repeated unit when a word or a short phrase is said again and again."""
    tokens = [t for t, _ in segment(lower) if any(ch.isalpha() for ch in t)]
    intensifiers = rules["zh"].intensifiers | rules["en"].intensifiers
    for size in (1, 2, 3):
        for i in range(len(tokens) - 2 * size + 1):
            unit = tokens[i : i + size]
            count = 1
            while count < 3 and tokens[i + count * size : i + (count + 1) * size] == unit:
                count += 1
            if count < 2 or all(ch in _NOT_ELONGATION for ch in "".join(unit)):
                continue
            word = unit[0]
            strong_single = (_CJK_RE.match(word) and len(word) >= 2) or word in intensifiers
            if size > 1 or count >= 3 or strong_single:
                return ("" if _CJK_RE.match(word) else " ").join(unit).strip()
    for elongated in _ELONGATION_RE.finditer(lower):
        if elongated.group(1) not in _NOT_ELONGATION:
            return elongated.group()
    return None


def _is_emotional(word: str, lex: _Lexicon) -> bool:
    match = lex.english.fullmatch(word)
    return bool(match and lex.pattern_entries[match.lastindex - 1].category in NEGATIVE) or (
        word in lex.rules["en"].intensifiers
    )


def _caps(text: str, lex: _Lexicon) -> tuple[int, str | None]:
    """Shouted words: 2 points when several, or an emotional one, or the whole message; 1 for
    another single word of 4+ letters, unless the message is a question (brand names: "Is
    the LEGO set in stock?")."""
    shouted = [w for w in _CAPS_RE.findall(text) if w.lower() not in lex.caps_ignore]
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    all_caps = len(letters) >= 8 and all(ch.isupper() for ch in letters)
    if not shouted and not all_caps:
        return 0, None
    if all_caps or sum(len(w) >= 3 for w in shouted) >= 2 or any(_is_emotional(w.lower(), lex) for w in shouted):
        return 2, f"caps:{' '.join(shouted[:3]) or text[:20]}"
    long_words = [w for w in shouted if len(w) >= 4]
    if long_words and not text.rstrip().endswith("?"):
        return 1, f"caps:{long_words[0]}"
    return 0, None


def _level(base: int, points: int) -> int:
    if base >= 3:
        return 3
    if base == 2:
        return 3 if points >= 2 else 2
    if base == 1:
        return 1 if points == 0 else (2 if points <= 3 else 3)
    return 0 if points == 0 else (1 if points == 1 else (2 if points <= 4 else 3))


def detect_emotion(text: str) -> Emotion:
    """The emotion level (0-3) of one customer message and the cues it rests on."""
    if not text or not text.strip():
        return Emotion(0)
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    if _CJK_RE.search(text):
        text = to_simplified(text)
    lower = text.lower()
    lex = _lexicon()

    found = _words(lower, lex)
    cues = found.cues
    points = 0
    if found.intensified:
        points += 1
    if found.anger_terms >= 2:
        points += 1
        cues.append(f"anger_words:{found.anger_terms}")
    for signal_points, cue in (_punctuation(text), _caps(text, lex)):
        if cue and signal_points:
            points += signal_points
            cues.append(cue)
    repeated = _repetition(lower, lex.rules)
    if repeated:
        points += 1
        cues.append(f"repetition:{repeated}")

    cues = list(dict.fromkeys(cue[:MAX_CUE_CHARS] for cue in cues))[:MAX_CUES]
    if found.base == 0 and found.positive:
        return Emotion(0, tuple(cues))
    return Emotion(_level(found.base, points), tuple(cues))
