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

Training is a convex problem solved by L-BFGS from zeros, at most `max_iter` steps, on one
BLAS thread: the same examples give the same weights on any machine (no random initialisation,
no shuffling), in seconds instead of the minutes of a neural classifier. The weights are stored as plain arrays (``.npz``) and
JSON, never as a pickle, so loading a model runs no code from it.

Pure NumPy/SciPy/scikit-learn; the Rasa adapter is `bot.nlu.intent_classifier`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def entries(row: object, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """A feature row as (values, columns), duplicates summed; a missing or misshapen row is empty."""
    if row is None or np.shape(row)[-1] != dims:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    if sp.issparse(row):
        csr = sp.csr_matrix(row, dtype=np.float64)
        csr.sum_duplicates()
        return csr.data, csr.indices.astype(np.int64)
    values = np.asarray(row, dtype=np.float64).ravel()
    return values, np.arange(values.size, dtype=np.int64)


def scaled(values: np.ndarray, kind: str, weight: float) -> np.ndarray:
    """log(1 + count) for counts; then the row to length `weight` (an empty row stays empty)."""
    if kind == COUNTS:
        values = np.log1p(values)
    length = math.sqrt(float(np.dot(values, values)))
    return values * (weight / length) if length > 0 else np.zeros_like(values)


def layout(messages: Sequence[Blocks], weights: Mapping[str, float]) -> list[Block]:
    """The blocks seen in training, weighted by kind: count blocks first, then dense, each in name order."""
    found: dict[str, Block] = {}
    for blocks in messages:
        for name, row in blocks.items():
            if name not in found:
                kind = block_kind(row)
                found[name] = Block(name, kind, int(np.shape(row)[-1]), float(weights[kind]))
    return sorted(found.values(), key=lambda block: (block.kind != COUNTS, block.name))


def design_matrix(messages: Sequence[Blocks], blocks: Sequence[Block]) -> sp.csr_matrix:
    """The weighted blocks side by side, one row per message (built from arrays: a message is
    classified in well under a millisecond of this)."""
    offsets = np.cumsum([0] + [block.dims for block in blocks])
    data: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    indptr = [0]
    for features in messages:
        count = 0
        for block, offset in zip(blocks, offsets[:-1], strict=True):  # the last offset is the total width
            values, where = entries(features.get(block.name), block.dims)
            data.append(scaled(values, block.kind, block.weight))
            columns.append(where + offset)
            count += len(where)
        indptr.append(indptr[-1] + count)
    matrix = sp.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64),
            indptr,
        ),
        shape=(len(messages), int(offsets[-1])),
    )
    matrix.eliminate_zeros()
    return matrix


def meaning_vectors(messages: Sequence[Blocks], blocks: Sequence[Block]) -> np.ndarray:
    """Unit vectors of the dense blocks (side by side, each of unit length, then the whole)."""
    dense = [b for b in blocks if b.kind == DENSE]
    out = np.zeros((len(messages), sum(b.dims for b in dense)), dtype=np.float32)
    for row, features in enumerate(messages):
        parts = [np.zeros(b.dims) for b in dense]
        for i, block in enumerate(dense):
            values, where = entries(features.get(block.name), block.dims)
            parts[i][where] = scaled(values, DENSE, 1.0)
        if parts:
            out[row] = scaled(np.concatenate(parts), DENSE, 1.0)
    return out


class Neighbours:
    """Training examples' meaning vectors, grouped by label: per label, the nearest one's similarity."""

    def __init__(self, vectors: np.ndarray, label_index: np.ndarray, n_labels: int) -> None:
        order = np.argsort(label_index, kind="stable")
        self.vectors = np.ascontiguousarray(vectors[order], dtype=np.float32)
        self.label_index = np.asarray(label_index)[order]
        self.n_labels = n_labels
        self._position = np.argsort(order, kind="stable")  # training example -> its row here

    def similarities(self, vectors: np.ndarray, leave_out: np.ndarray | None = None) -> np.ndarray:
        """(n, n_labels): per label, the largest cosine similarity (at least 0) to one of its examples;
        `leave_out[i]`: the training example that message i is (not compared with itself)."""
        out = np.zeros((len(vectors), self.n_labels), dtype=np.float64)
        if len(self.vectors) == 0 or vectors.shape[1] == 0:
            return out
        labels, starts = np.unique(self.label_index, return_index=True)
        for begin in range(0, len(vectors), CHUNK):
            scores = vectors[begin : begin + CHUNK].astype(np.float32) @ self.vectors.T
            if leave_out is not None:
                rows = np.arange(len(scores))
                scores[rows, self._position[leave_out[begin : begin + CHUNK]]] = -1.0
            out[begin : begin + CHUNK, labels] = np.maximum.reduceat(scores, starts, axis=1)
        return np.maximum(out, 0.0)


def softmax_regression(
    sparse: sp.csr_matrix,
    dense: np.ndarray,
    targets: np.ndarray,
    n_labels: int,
    sample_weight: np.ndarray,
    alpha: float,
    max_iter: int,
    tol: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, L2-penalised (not the intercept), by L-BFGS from zeros: the
    objective of scikit-learn's LogisticRegression(solver="lbfgs"), with the count columns kept
    sparse and the dense ones (sentence vector, similarities) in plain arrays, which makes each
    step about four times cheaper than one sparse matrix holding both. Returns (coef, intercept)."""
    from scipy.optimize import minimize

    n, width_sparse = sparse.shape
    width = width_sparse + dense.shape[1]
    sparse_t = sparse.T.tocsr()
    rows = np.arange(n)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        coef = theta[: width * n_labels].reshape(width, n_labels)
        intercept = theta[width * n_labels :]
        scores = np.asarray(sparse @ coef[:width_sparse]) + dense @ coef[width_sparse:] + intercept
        scores -= scores.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scores).sum(axis=1))
        log_p = scores - log_norm[:, None]
        loss = -float(np.dot(sample_weight, log_p[rows, targets])) + 0.5 * alpha * float(np.sum(coef * coef))
        residual = np.exp(log_p) * sample_weight[:, None]
        residual[rows, targets] -= sample_weight
        grad = np.vstack([np.asarray(sparse_t @ residual), dense.T @ residual]) + alpha * coef
        return loss, np.concatenate([grad.ravel(), residual.sum(axis=0)])

    start = np.zeros(width * n_labels + n_labels)
    result = minimize(
        objective,
        start,
        method="L-BFGS-B",
        jac=True,
        options={"maxiter": max_iter, "maxfun": max_iter * 2, "gtol": tol},
    )
    coef = result.x[: width * n_labels].reshape(width, n_labels)
    return coef.T.copy(), result.x[width * n_labels :].copy()


class IntentModel:
    """A trained classifier: labels (full intents), weights, the block layout it reads and the
    training examples' meaning vectors (for the nearest-example columns)."""

    def __init__(
        self,
        labels: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        blocks: Sequence[Block],
        neighbours: Neighbours,
        similarity_weight: float,
    ) -> None:
        self.labels = list(labels)
        self.weights = np.ascontiguousarray(np.asarray(coef, dtype=np.float32).T)  # (features, labels)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        # the intents whose labels have sub-intents (faq for faq/shipping ...)
        self.retrieval_intents = sorted({split_label(label)[0] for label in self.labels if split_label(label)[1]})
        self.blocks = list(blocks)
        self.neighbours = neighbours
        self.similarity_weight = float(similarity_weight)

    @classmethod
    def fit(
        cls,
        messages: Sequence[Blocks],
        labels: Sequence[str],
        *,
        counts_weight: float,
        dense_weight: float,
        similarity_weight: float,
        c: float,
        balanced: bool = True,
        max_iter: int = 100,
    ) -> IntentModel:
        from threadpoolctl import threadpool_limits

        names = sorted(set(labels))
        if len(names) < 2:
            raise ValueError("an intent classifier needs examples of at least two intents")
        blocks = layout(messages, {COUNTS: counts_weight, DENSE: dense_weight})
        targets = np.array([names.index(label) for label in labels])
        counts = np.bincount(targets, minlength=len(names))
        # balanced: each intent weighs the same in the loss, however many examples it has
        weights = len(targets) / (len(names) * counts[targets]) if balanced else np.ones(len(targets))
        # one BLAS thread: the same sums in the same order on any machine
        with threadpool_limits(limits=1):
            vectors = meaning_vectors(messages, blocks)
            neighbours = Neighbours(vectors, targets, len(names))
            similar = neighbours.similarities(vectors, leave_out=np.arange(len(messages)))
            sparse = design_matrix(messages, [b for b in blocks if b.kind == COUNTS])
            dense = np.hstack(
                [design_matrix(messages, [b for b in blocks if b.kind == DENSE]).toarray(), similar * similarity_weight]
            )
            coef, intercept = softmax_regression(sparse, dense, targets, len(names), weights, 1.0 / c, max_iter)
        return cls(names, coef, intercept, blocks, neighbours, similarity_weight)

    @staticmethod
    def inputs(matrix: sp.csr_matrix, similar: np.ndarray, weight: float) -> sp.csr_matrix:
        return sp.hstack([matrix, sp.csr_matrix(similar * weight)], format="csr")

    def probabilities(self, messages: Sequence[Blocks]) -> np.ndarray:
        """One row per message, one column per label; rows sum to 1."""
        similar = self.neighbours.similarities(meaning_vectors(messages, self.blocks))
        features = self.inputs(design_matrix(messages, self.blocks), similar, self.similarity_weight)
        scores = np.asarray(features.astype(np.float32) @ self.weights, dtype=np.float64) + self.intercept
        scores -= np.max(scores, axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, directory: Path) -> None:
        np.savez_compressed(
            directory / WEIGHTS_FILE,
            coef=self.weights.T,
            intercept=self.intercept,
            neighbour_vectors=self.neighbours.vectors,
            neighbour_labels=self.neighbours.label_index,
        )
        meta = {
            "labels": self.labels,
            "blocks": [block.__dict__ for block in self.blocks],
            "similarity_weight": self.similarity_weight,
        }
        (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> IntentModel:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
            neighbours = Neighbours(arrays["neighbour_vectors"], arrays["neighbour_labels"], len(meta["labels"]))
        return cls(
            meta["labels"],
            coef,
            intercept,
            [Block(**block) for block in meta["blocks"]],
            neighbours,
            meta["similarity_weight"],
        )


def split_label(label: str) -> tuple[str, str | None]:
    """'faq/shipping' -> ('faq', 'shipping'); 'greet' -> ('greet', None)."""
    intent, _, sub = label.partition("/")
    return intent, sub or None


def rank(
    labels: Sequence[str], probabilities: Sequence[float]
) -> tuple[list[tuple[str, float]], dict[str, list[tuple[str, float]]]]:
    """Intents by probability (a retrieval intent's is the sum of its sub-intents'), and per
    retrieval intent its full sub-intent labels by probability within it."""
    totals: dict[str, float] = {}
    subs: dict[str, list[tuple[str, float]]] = {}
    for label, p in zip(labels, probabilities, strict=True):
        intent, sub = split_label(label)
        totals[intent] = totals.get(intent, 0.0) + float(p)
        if sub is not None:
            subs.setdefault(intent, []).append((label, float(p)))
    intents = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    within = {
        intent: sorted(
            ((label, p / totals[intent] if totals[intent] > 0 else 0.0) for label, p in items),
            key=lambda item: (-item[1], item[0]),
        )
        for intent, items in subs.items()
    }
    return intents, within
