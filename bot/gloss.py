"""Chinese words rendered as English glosses from CC-CEDICT, for the English sentence encoder.

"我的快递怎么还没到" -> "I express delivery how still not arrive": crude, but an English
encoder reads the gist, which it cannot from Chinese characters (its vocabulary has few).
The dictionary comes from `.ci/fetch-pretrained.sh`; numbers are read as 0 (an order
number says nothing about the request).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from pathlib import Path

from bot.text import has_chinese

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
# senses that say nothing about meaning in a customer's message
_SKIPPED_SENSE = re.compile(
    r"^(surname|variant of|old variant|see |used in|erhua|radical|CL:|abbr\. for|japanese variant|archaic|"
    r"classifier|also written|also pr\.|\(old\)|\(dialect\)|\(literary\)|\(bound form\))",
    re.I,
)
_NOTES = re.compile(r"\([^)]*\)|\[[^\]]*\]|\S+\|\S+")
_NUMBER = re.compile(r"\d+")
# particles whose dictionary glosses ("possessive particle") would only add noise
PARTICLES = frozenset("的了吗呢吧啊呀哦嘛么着过得地哈啦呗噢嗯把被")
# everyday words whose dictionary entry with the most senses is not the everyday sense
EVERYDAY = {
    "没": "not",
    "没有": "not have",
    "不": "not",
    "别": "don't",
    "在": "at",
    "哪": "where",
    "哪里": "where",
    "哪儿": "where",
    "转": "transfer",
    "人工": "human",
    "要": "want",
    "想": "want",
    "能": "can",
    "会": "can",
    "给": "give",
    "还": "still",
    "到": "arrive",
    "都": "all",
    "就": "just",
}


def _first_sense(senses: Iterable[str]) -> str:
    for sense in senses:
        sense = _NOTES.sub("", sense).strip()
        if sense and not _SKIPPED_SENSE.match(sense):
            sense = sense.split(";")[0].strip()
            return sense[3:] if sense.startswith("to ") else sense
    return ""


class Glossary:
    """Simplified headword -> one short English gloss (the entry with the most senses wins)."""

    def __init__(self, glosses: dict[str, str]) -> None:
        self.glosses = glosses

    @classmethod
    def load(cls, path: Path) -> Glossary:
        from bot.encoder import MissingPretrainedFiles

        if not path.is_file():
            raise MissingPretrainedFiles(path)
        best: dict[str, tuple] = {}
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                match = _ENTRY.match(line)
                if not match:
                    continue
                simplified, senses = match.group(2), match.group(3).split("/")
                gloss = _first_sense(senses)
                if gloss and len(senses) > best.get(simplified, (0, ""))[0]:
                    best[simplified] = (len(senses), gloss)
        return cls({**{word: gloss for word, (_, gloss) in best.items()}, **EVERYDAY})

    def word(self, word: str) -> str:
        """A Chinese word's gloss; character by character when the word is unknown; else the word."""
        if not has_chinese(word):
            return _NUMBER.sub("0", word)
        if word in PARTICLES:
            return ""
        if word in self.glosses:
            return self.glosses[word]
        return " ".join(self.glosses[c] for c in word if c in self.glosses and c not in PARTICLES)

    def render(self, words: Iterable[str]) -> str:
        return " ".join(g for g in (self.word(w) for w in words) if g)
