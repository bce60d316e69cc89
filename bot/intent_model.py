"""Intents from one multinomial logistic regression over the pipeline's sentence features.

Each message arrives as feature blocks, one per featurizer: counts (word and character
n-grams) and dense vectors (the pretrained sentence encoder). Every block is scaled on
its own, so that no block outweighs another by its size alone: counts are damped
(log(1 + count)) and each block is turned into a unit vector times its weight. The
weighted blocks, side by side, go into one logistic regression whose labels are full
retrieval intents (``faq/shipping``): a retrieval intent's probability is the sum of its
sub-intents', and its best sub-intent is the answer to select.

Beside them, one column per label says how close the message's meaning comes to that
label's training examples: the largest cosine similarity between its dense vector and
theirs (the nearest example of each label). A linear model cannot draw "near any one
example of refund" by itself; these columns give it that, which is worth 1-2 points on
paraphrases it has not seen. In training each example is compared with the others only
(leave-one-out), so the regression learns how far to trust a similarity it has to earn.

Training is a convex problem solved by L-BFGS on one BLAS thread: the same examples give
the same weights on any machine (no random initialisation, no shuffling), in seconds instead of the
minutes of a neural classifier. The weights are stored as plain arrays (``.npz``) and
JSON, never as a pickle, so loading a model runs no code from it.

Pure NumPy/SciPy/scikit-learn; the Rasa adapter is `bot.nlu.intent_classifier`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

# one message: featurizer name -> its sentence-level feature row (1 x dims, dense or sparse)
Blocks = Mapping[str, object]
COUNTS, DENSE = "counts", "dense"
WEIGHTS_FILE, META_FILE = "weights.npz", "meta.json"
CHUNK = 1024  # messages compared with the training examples at once (bounds memory in training)


@dataclass(frozen=True)
class Block:
    """One featurizer's columns: where they start, how many, and how they are scaled."""

    name: str
    kind: str  # COUNTS or DENSE
    dims: int
    weight: float


def block_kind(row: object) -> str:
    return COUNTS if sp.issparse(row) else DENSE


def scale_rows(matrix: sp.csr_matrix, kind: str, weight: float) -> sp.csr_matrix:
    """log(1 + count) for counts, then every row to length `weight` (empty rows stay empty)."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    if kind == COUNTS:
        np.log1p(matrix.data, out=matrix.data)
    lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    factors = np.divide(weight, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    return sp.csr_matrix(sp.diags(factors) @ matrix)


def layout(messages: Sequence[Blocks], weights: Mapping[str, float]) -> List[Block]:
    """The blocks seen in training, in name order, weighted by kind (`counts`, `dense`)."""
    found: Dict[str, Block] = {}
    for blocks in messages:
        for name, row in blocks.items():
            if name not in found:
                kind = block_kind(row)
                found[name] = Block(name, kind, int(np.shape(row)[-1]), float(weights[kind]))
    return [found[name] for name in sorted(found)]


def block_matrix(messages: Sequence[Blocks], block: Block) -> sp.csr_matrix:
    """One block's rows, unscaled (a message without it gets a row of zeros)."""
    rows = []
    for features in messages:
        row = features.get(block.name)
        if row is None or np.shape(row)[-1] != block.dims:
            rows.append(sp.csr_matrix((1, block.dims)))
        else:
            rows.append(sp.csr_matrix(np.reshape(row, (1, -1)) if not sp.issparse(row) else row))
    return sp.vstack(rows, format="csr")


def design_matrix(messages: Sequence[Blocks], blocks: Sequence[Block]) -> sp.csr_matrix:
    """The weighted blocks side by side."""
    parts = [scale_rows(block_matrix(messages, block), block.kind, block.weight) for block in blocks]
    return sp.hstack(parts, format="csr") if parts else sp.csr_matrix((len(messages), 0))


def meaning_vectors(messages: Sequence[Blocks], blocks: Sequence[Block]) -> np.ndarray:
    """Unit vectors of the dense blocks (side by side, each of unit length, then the whole)."""
    dense = [b for b in blocks if b.kind == DENSE]
    if not dense:
        return np.zeros((len(messages), 0), dtype=np.float32)
    parts = [scale_rows(block_matrix(messages, block), DENSE, 1.0) for block in dense]
    vectors = scale_rows(sp.hstack(parts, format="csr"), DENSE, 1.0).toarray()
    return vectors.astype(np.float32)


class Neighbours:
    """Training examples' meaning vectors, grouped by label: per label, the nearest one's similarity."""

    def __init__(self, vectors: np.ndarray, label_index: np.ndarray, n_labels: int) -> None:
        order = np.argsort(label_index, kind="stable")
        self.vectors = np.ascontiguousarray(vectors[order], dtype=np.float32)
        self.label_index = np.asarray(label_index)[order]
        self.n_labels = n_labels
        self._position = np.argsort(order, kind="stable")  # training example -> its row here

    def similarities(self, vectors: np.ndarray, leave_out: Optional[np.ndarray] = None) -> np.ndarray:
        """(n, n_labels): per label, the largest cosine similarity (at least 0) to one of its examples;
        `leave_out[i]`: the training example that message i is (not compared with itself)."""
        out = np.zeros((len(vectors), self.n_labels), dtype=np.float64)
        if len(self.vectors) == 0 or vectors.shape[1] == 0:
            return out
        labels, starts = np.unique(self.label_index, return_index=True)
        for begin in range(0, len(vectors), CHUNK):
            scores = vectors[begin:begin + CHUNK].astype(np.float32) @ self.vectors.T
            if leave_out is not None:
                rows = np.arange(len(scores))
                scores[rows, self._position[leave_out[begin:begin + CHUNK]]] = -1.0
            out[begin:begin + CHUNK, labels] = np.maximum.reduceat(scores, starts, axis=1)
        return np.maximum(out, 0.0)


class IntentModel:
    """A trained classifier: labels (full intents), weights, the block layout it reads and the
    training examples' meaning vectors (for the nearest-example columns)."""

    def __init__(self, labels: Sequence[str], coef: np.ndarray, intercept: np.ndarray, blocks: Sequence[Block],
                 neighbours: Neighbours, similarity_weight: float) -> None:
        self.labels = list(labels)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.blocks = list(blocks)
        self.neighbours = neighbours
        self.similarity_weight = float(similarity_weight)

    @classmethod
    def fit(cls, messages: Sequence[Blocks], labels: Sequence[str], *, counts_weight: float,
            dense_weight: float, similarity_weight: float, c: float, max_iter: int = 3000) -> "IntentModel":
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        names = sorted(set(labels))
        if len(names) < 2:
            raise ValueError("an intent classifier needs examples of at least two intents")
        blocks = layout(messages, {COUNTS: counts_weight, DENSE: dense_weight})
        regression = LogisticRegression(C=c, max_iter=max_iter, solver="lbfgs")
        # one BLAS thread: the same sums in the same order on any machine
        with threadpool_limits(limits=1):
            vectors = meaning_vectors(messages, blocks)
            neighbours = Neighbours(vectors, np.array([names.index(label) for label in labels]), len(names))
            similar = neighbours.similarities(vectors, leave_out=np.arange(len(messages)))
            regression.fit(cls.inputs(design_matrix(messages, blocks), similar, similarity_weight), list(labels))
        assert list(regression.classes_) == names
        return cls(names, regression.coef_, regression.intercept_, blocks, neighbours, similarity_weight)

    @staticmethod
    def inputs(matrix: sp.csr_matrix, similar: np.ndarray, weight: float) -> sp.csr_matrix:
        return sp.hstack([matrix, sp.csr_matrix(similar * weight)], format="csr")

    def probabilities(self, messages: Sequence[Blocks]) -> np.ndarray:
        """One row per message, one column per label; rows sum to 1."""
        similar = self.neighbours.similarities(meaning_vectors(messages, self.blocks))
        features = self.inputs(design_matrix(messages, self.blocks), similar, self.similarity_weight)
        scores = np.asarray(features @ self.coef.T.astype(np.float64)) + self.intercept
        scores -= np.max(scores, axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, directory: Path) -> None:
        np.savez_compressed(directory / WEIGHTS_FILE, coef=self.coef, intercept=self.intercept,
                            neighbour_vectors=self.neighbours.vectors, neighbour_labels=self.neighbours.label_index)
        meta = {"labels": self.labels, "blocks": [block.__dict__ for block in self.blocks],
                "similarity_weight": self.similarity_weight}
        (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "IntentModel":
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
            neighbours = Neighbours(arrays["neighbour_vectors"], arrays["neighbour_labels"], len(meta["labels"]))
        return cls(meta["labels"], coef, intercept, [Block(**block) for block in meta["blocks"]], neighbours,
                   meta["similarity_weight"])


def split_label(label: str) -> Tuple[str, Optional[str]]:
    """'faq/shipping' -> ('faq', 'shipping'); 'greet' -> ('greet', None)."""
    intent, _, sub = label.partition("/")
    return intent, sub or None


def rank(labels: Sequence[str], probabilities: Sequence[float]
         ) -> Tuple[List[Tuple[str, float]], Dict[str, List[Tuple[str, float]]]]:
    """Intents by probability (a retrieval intent's is the sum of its sub-intents'), and per
    retrieval intent its full sub-intent labels by probability within it."""
    totals: Dict[str, float] = {}
    subs: Dict[str, List[Tuple[str, float]]] = {}
    for label, p in zip(labels, probabilities):
        intent, sub = split_label(label)
        totals[intent] = totals.get(intent, 0.0) + float(p)
        if sub is not None:
            subs.setdefault(intent, []).append((label, float(p)))
    intents = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    within = {intent: sorted(((label, p / totals[intent] if totals[intent] > 0 else 0.0) for label, p in items),
                             key=lambda item: (-item[1], item[0]))
              for intent, items in subs.items()}
    return intents, within
