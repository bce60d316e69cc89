"""A pretrained English sentence encoder (all-MiniLM-L6-v2) run in NumPy.

BERT's uncased WordPiece tokenizer and the 6-layer forward pass, mean pooling and L2
normalisation, as sentence-transformers computes them; neither PyTorch nor TensorFlow
is needed. The weights come from `.ci/fetch-pretrained.sh` (see `PRETRAINED_DIR`).
"""
from __future__ import annotations

import json
import math
import os
import unicodedata
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

MAX_TOKENS = 128  # sentence-transformers' max_seq_length for this model
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def pretrained_dir() -> Path:
    """Where `.ci/fetch-pretrained.sh` unpacks the encoder and the dictionary (PRETRAINED_DIR overrides)."""
    default = Path(__file__).resolve().parents[1] / "var" / "pretrained"
    return Path(os.environ.get("PRETRAINED_DIR") or default).resolve()


class MissingPretrainedFiles(FileNotFoundError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is missing: run `make setup` (it runs .ci/fetch-pretrained.sh)")


def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    """The tensors of a .safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    body = memoryview(raw)[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = np.ascontiguousarray(array, dtype=np.float32 if array.dtype == np.float16 else array.dtype)
    return tensors


class WordPieceTokenizer:
    """BERT's uncased tokenizer: clean, lower-case, strip accents, split punctuation, WordPiece."""

    def __init__(self, vocab: Dict[str, int], max_chars_per_word: int = 100) -> None:
        self.vocab = vocab
        self.max_chars_per_word = max_chars_per_word
        self.unk = vocab["[UNK]"]

    @classmethod
    def from_file(cls, path: Path) -> "WordPieceTokenizer":
        lines = path.read_text(encoding="utf-8").split("\n")
        return cls({token: i for i, token in enumerate(lines) if token})

    @staticmethod
    def _is_punctuation(char: str) -> bool:
        code = ord(char)
        if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
            return True
        return unicodedata.category(char).startswith("P")

    @staticmethod
    def _is_cjk(code: int) -> bool:
        return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
                or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
                or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)

    def basic_tokens(self, text: str) -> List[str]:
        chars = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or (unicodedata.category(char).startswith("C")
                                               and char not in "\t\n\r"):
                continue
            if char.isspace() or unicodedata.category(char) == "Zs":
                chars.append(" ")
            elif self._is_cjk(code):
                chars.append(f" {char} ")
            else:
                chars.append(char)
        words = []
        for word in "".join(chars).lower().split():
            word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
            current = ""
            for char in word:
                if self._is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def wordpiece(self, word: str) -> List[int]:
        if len(word) > self.max_chars_per_word:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> List[int]:
        """[CLS] word pieces [SEP], cut to `max_tokens`."""
        ids = [piece for word in self.basic_tokens(text) for piece in self.wordpiece(word)]
        return [self.vocab["[CLS]"], *ids[: max_tokens - 2], self.vocab["[SEP]"]]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:  # exact (erf) GELU, as BERT's "gelu"
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class SentenceEncoder:
    """all-MiniLM-L6-v2: text -> unit vector of 384 floats."""

    def __init__(self, tokenizer: WordPieceTokenizer, weights: Dict[str, np.ndarray], config: Dict) -> None:
        self.tokenizer = tokenizer
        self.w = weights
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dimension = int(config["hidden_size"])
        # BLAS on one thread: its threads only spin on matrices this small (2x the CPU per message)
        from threadpoolctl import ThreadpoolController

        self._blas = ThreadpoolController()

    @classmethod
    def load(cls, path: Path) -> "SentenceEncoder":
        for name in ("vocab.txt", "config.json", "model.safetensors"):
            if not (path / name).is_file():
                raise MissingPretrainedFiles(path / name)
        weights = {k.removeprefix("bert."): v for k, v in read_safetensors(path / "model.safetensors").items()}
        for name in [k for k in weights if k.endswith(".weight") and weights[k].ndim == 2 and "embeddings" not in k]:
            weights[name] = np.ascontiguousarray(weights[name].T)  # (in, out): x @ w
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        return cls(WordPieceTokenizer.from_file(path / "vocab.txt"), weights, config)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token states of a padded batch: ids and mask are (batch, length)."""
        w, (batch, length) = self.w, ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        head = self.dimension // self.heads
        blocked = (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(t: np.ndarray, name: str) -> np.ndarray:
                flat = t.reshape(-1, t.shape[-1]) @ w[p + name + ".weight"] + w[p + name + ".bias"]
                return flat.reshape(*t.shape[:-1], -1)

            q, k, v = (split(dense(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(batch, length, self.dimension)
            x = _layer_norm(dense(context, "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                            self.eps)
            hidden = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(dense(hidden, "output.dense") + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        return x

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(len(texts), 384) float32, each row of unit length (mean of token states over the mask)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encoded = [self.tokenizer.encode(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))  # similar lengths together
        with self._blas.limit(limits=1, user_api="blas"):
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                out[chunk] = self._pooled([encoded[i] for i in chunk])
        return out

    def _pooled(self, batch: List[List[int]]) -> np.ndarray:
        """Mean-pooled unit vectors of token id lists, padded to one batch."""
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.int64)
        for row, token_ids in enumerate(batch):
            ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        states = self._forward(ids, mask)
        pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-9)
