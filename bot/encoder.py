"""A pretrained English sentence encoder (all-MiniLM-L6-v2) run in ONNX Runtime.

BERT's uncased WordPiece tokenizer and the 6-layer forward pass, mean pooling and L2
normalisation, as sentence-transformers computes them; the ONNX graph is built here from
the weights, so neither PyTorch nor a model export is needed. The weights come from
`.ci/fetch-pretrained.sh` (see `PRETRAINED_DIR`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

MAX_TOKENS = 128  # sentence-transformers' max_seq_length for this model
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def pretrained_dir() -> Path:
    """Where `.ci/fetch-pretrained.sh` unpacks the encoder and the dictionary (PRETRAINED_DIR overrides)."""
    default = Path(__file__).resolve().parents[1] / "var" / "pretrained"
    return Path(os.environ.get("PRETRAINED_DIR") or default).resolve()


class MissingPretrainedFiles(FileNotFoundError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is missing: run `make setup` (it runs .ci/fetch-pretrained.sh)")


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    body = memoryview(raw)[8 + size :]
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

    def __init__(self, vocab: dict[str, int], max_chars_per_word: int = 100) -> None:
        self.vocab = vocab
        self.max_chars_per_word = max_chars_per_word
        self.unk = vocab["[UNK]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
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
        return (
            0x4E00 <= code <= 0x9FFF
            or 0x3400 <= code <= 0x4DBF
            or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F
            or 0x2B740 <= code <= 0x2B81F
            or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF
            or 0x2F800 <= code <= 0x2FA1F
        )

    def basic_tokens(self, text: str) -> list[str]:
        chars = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or (unicodedata.category(char).startswith("C") and char not in "\t\n\r"):
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

    def wordpiece(self, word: str) -> list[int]:
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

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """[CLS] word pieces [SEP], cut to `max_tokens`."""
        ids = [piece for word in self.basic_tokens(text) for piece in self.wordpiece(word)]
        return [self.vocab["[CLS]"], *ids[: max_tokens - 2], self.vocab["[SEP]"]]


class _GraphBuilder:
    """Nodes and initializers of an ONNX graph, each intermediate named t1, t2, ..."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def const(self, name: str, value) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes) -> str:
        self._count += 1
        output = f"t{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attributes))
        return output


def bert_graph(weights: dict[str, np.ndarray], config: dict) -> bytes:
    """An ONNX model of the BERT forward pass with mean pooling: inputs `ids` (batch, length) int64 and
    `mask` (batch, length) float32; output `pooled` (batch, hidden), not yet normalised."""
    layers, heads = int(config["num_hidden_layers"]), int(config["num_attention_heads"])
    hidden, eps = int(config["hidden_size"]), float(config.get("layer_norm_eps", 1e-12))
    head = hidden // heads
    g = _GraphBuilder()
    for name in ("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight"):
        g.const(name, weights[name])

    def layer_norm(t: str, prefix: str) -> str:
        return g.op(
            "LayerNormalization",
            t,
            g.const(prefix + ".weight", weights[prefix + ".weight"]),
            g.const(prefix + ".bias", weights[prefix + ".bias"]),
            axis=-1,
            epsilon=eps,
        )

    def dense(t: str, prefix: str) -> str:  # weights are stored (in, out)
        product = g.op("MatMul", t, g.const(prefix + ".weight", weights[prefix + ".weight"]))
        return g.op("Add", product, g.const(prefix + ".bias", weights[prefix + ".bias"]))

    length = g.op(
        "Slice", g.op("Shape", "ids"), g.const("one_index", np.array([1])), g.const("two_index", np.array([2]))
    )
    positions = g.op(
        "Slice", "embeddings.position_embeddings.weight", g.const("zero_index", np.array([0])), length, "zero_index"
    )
    x = g.op("Add", g.op("Gather", "embeddings.word_embeddings.weight", "ids"), positions)
    x = g.op("Add", x, g.const("token_type", weights["embeddings.token_type_embeddings.weight"][0]))
    x = layer_norm(x, "embeddings.LayerNorm")
    blocked = g.op("Mul", g.op("Sub", g.const("one", np.float32(1.0)), "mask"), g.const("minus_inf", np.float32(-1e9)))
    blocked = g.op("Unsqueeze", blocked, g.const("head_and_query_axes", np.array([1, 2])))
    by_head = g.const("by_head", np.array([0, 0, heads, head]))
    merged = g.const("merged", np.array([0, 0, hidden]))
    scale = g.const("scale", np.float32(math.sqrt(head)))
    half, root2 = g.const("half", np.float32(0.5)), g.const("root2", np.float32(math.sqrt(2.0)))

    def split(t: str) -> str:
        return g.op("Transpose", g.op("Reshape", t, by_head), perm=[0, 2, 1, 3])

    for i in range(layers):
        p = f"encoder.layer.{i}."
        q, k, v = (split(dense(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
        scores = g.op("Add", g.op("Div", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2])), scale), blocked)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merged)
        x = layer_norm(g.op("Add", dense(context, p + "attention.output.dense"), x), p + "attention.output.LayerNorm")
        h = dense(x, p + "intermediate.dense")  # exact (erf) GELU, as BERT's "gelu"
        h = g.op("Mul", g.op("Mul", h, half), g.op("Add", "one", g.op("Erf", g.op("Div", h, root2))))
        x = layer_norm(g.op("Add", dense(h, p + "output.dense"), x), p + "output.LayerNorm")
    summed = g.op(
        "ReduceSum",
        g.op("Mul", x, g.op("Unsqueeze", "mask", g.const("last_axis", np.array([2])))),
        g.const("token_axis", np.array([1])),
        keepdims=0,
    )
    g.nodes.append(helper.make_node("Div", [summed, g.op("ReduceSum", "mask", "token_axis", keepdims=1)], ["pooled"]))
    graph = helper.make_graph(
        g.nodes,
        "mean_pooled_bert",
        [
            helper.make_tensor_value_info("ids", TensorProto.INT64, [None, None]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, [None, None]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [None, hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


class VectorCache:
    """Sentence vectors of texts encoded by earlier trainings, so that a training after an edit of
    a few examples encodes only those. One `.npz` file (texts and vectors, no pickle) per version
    of the encoder's files; it keeps the texts of the latest training."""

    def __init__(self, directory: Path, encoder: SentenceEncoder, encoder_files: Path) -> None:
        stamp = hashlib.sha256()
        for name in ("config.json", "vocab.txt", "model.safetensors"):
            info = (encoder_files / name).stat()
            stamp.update(f"{name}:{info.st_size}:{info.st_mtime_ns};".encode())
        self.path = directory / f"sentence-vectors-{stamp.hexdigest()[:16]}.npz"
        self.encoder = encoder

    def _load(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                return dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
        except (OSError, ValueError, KeyError):  # no cache yet, or an unreadable one: start afresh
            return {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        known = self._load()
        missing = sorted(set(texts) - set(known))
        if missing:
            known.update(zip(missing, self.encoder.encode(missing), strict=True))
        wanted = sorted(set(texts))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp.npz")
        np.savez(scratch, texts=np.array(wanted, dtype=str), vectors=self._stack(known, wanted))
        os.replace(scratch, self.path)  # whole or not at all, also with two trainings at once
        return self._stack(known, texts)

    def _stack(self, known: dict[str, np.ndarray], texts: Sequence[str]) -> np.ndarray:
        rows = [known[text] for text in texts]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.encoder.dimension), np.float32)


class SentenceEncoder:
    """all-MiniLM-L6-v2: text -> unit vector of 384 floats.

    The forward pass runs in ONNX Runtime on one thread: ~3.5 ms for a short message, against
    ~13 ms with NumPy's BLAS, which is slow for matrices of a few rows.
    """

    def __init__(self, tokenizer: WordPieceTokenizer, weights: dict[str, np.ndarray], config: dict) -> None:
        self.tokenizer = tokenizer
        self.dimension = int(config["hidden_size"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self._session = onnxruntime.InferenceSession(
            bert_graph(weights, config), options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def load(cls, path: Path) -> SentenceEncoder:
        for name in ("vocab.txt", "config.json", "model.safetensors"):
            if not (path / name).is_file():
                raise MissingPretrainedFiles(path / name)
        weights = {k.removeprefix("bert."): v for k, v in read_safetensors(path / "model.safetensors").items()}
        for name in [k for k in weights if k.endswith(".weight") and weights[k].ndim == 2 and "embeddings" not in k]:
            weights[name] = np.ascontiguousarray(weights[name].T)  # (in, out): x @ w
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        return cls(WordPieceTokenizer.from_file(path / "vocab.txt"), weights, config)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32, each row of unit length (mean of token states over the mask).

        Each text is encoded on its own, as a message is when the assistant runs: a batch pads its
        rows and sums them in another order, which moves a vector by ~1e-7, so a text's vector
        would depend on the texts beside it. Alone, it is the same in training, in the cache of
        earlier trainings and in use."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._pooled([self.tokenizer.encode(text)])[0]
        return out

    def _pooled(self, batch: list[list[int]]) -> np.ndarray:
        """Mean-pooled unit vectors of token id lists, padded to one batch (`encode` sends one)."""
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, token_ids in enumerate(batch):
            ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        pooled = self._session.run(["pooled"], {"ids": ids, "mask": mask})[0]
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-9)
