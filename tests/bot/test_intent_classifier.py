"""The linear intent classifier: block scaling, retrieval intents, storage, the Rasa adapter, determinism."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.intent_model import COUNTS, DENSE, Block, IntentModel, Neighbours, design_matrix, layout, rank
from bot.nlu.intent_classifier import LinearIntentClassifier

ROOT = Path(__file__).resolve().parents[2]

# a toy vocabulary: word counts (sparse) and a 3-d "sentence vector" (dense) per message
WORDS = ["order", "where", "refund", "money", "ship", "abroad", "hours", "open"]
VECTORS = {"order_status": [1, 0, 0], "refund": [0, 1, 0], "faq/shipping": [0, 0, 1], "faq/business_hours": [0, 1, 1]}
EXAMPLES = [
    ("where order", "order_status"),
    ("order where where", "order_status"),
    ("refund money", "refund"),
    ("money refund refund", "refund"),
    ("ship abroad", "faq/shipping"),
    ("abroad ship", "faq/shipping"),
    ("open hours", "faq/business_hours"),
    ("hours open open", "faq/business_hours"),
]


def blocks(text, label=None, noise=0.0):
    counts = np.zeros((1, len(WORDS)))
    for word in text.split():
        counts[0, WORDS.index(word)] += 1
    vector = np.array([VECTORS[label] if label else [0.3, 0.3, 0.3]], dtype=float) + noise
    return {"counts_word": sp.coo_matrix(counts), "dense_sentence": vector}


def trained(**weights):
    options = {"counts_weight": 1.0, "dense_weight": 1.0, "similarity_weight": 1.0, "c": 10.0, **weights}
    return IntentModel.fit([blocks(t, y) for t, y in EXAMPLES], [y for _, y in EXAMPLES], **options)


def test_blocks_are_scaled_to_their_weight_whatever_their_size():
    blocks = [Block("a_counts", COUNTS, 3, 2.0), Block("b_dense", DENSE, 2, 0.5)]
    messages = [
        {"a_counts": sp.coo_matrix(np.array([[0.0, 3.0, 1.0]])), "b_dense": np.array([[3.0, 4.0]])},
        {"a_counts": sp.coo_matrix(np.zeros((1, 3))), "b_dense": np.array([[0.0, 0.0]])},
    ]
    matrix = design_matrix(messages, blocks).toarray()
    assert np.isclose(np.linalg.norm(matrix[0, :3]), 2.0)
    assert matrix[0, 1] / matrix[0, 2] == pytest.approx(np.log1p(3) / np.log1p(1))  # counts are damped
    assert np.allclose(matrix[0, 3:], [0.3, 0.4])  # dense values are not damped, only scaled
    assert np.allclose(matrix[1], 0)  # an empty row stays empty (no division by zero)


def test_layout_orders_blocks_by_name_and_fills_missing_ones_with_zeros():
    messages = [blocks("where order", "order_status"), {"dense_sentence": np.array([[0.0, 0.0, 1.0]])}]
    found = layout(messages, {COUNTS: 1.0, DENSE: 3.0})
    assert [(b.name, b.kind, b.dims, b.weight) for b in found] == [
        ("counts_word", COUNTS, len(WORDS), 1.0),
        ("dense_sentence", DENSE, 3, 3.0),
    ]
    matrix = design_matrix(messages, found).toarray()
    assert matrix.shape == (2, len(WORDS) + 3)
    assert np.allclose(matrix[1, : len(WORDS)], 0) and np.isclose(matrix[1, -1], 3.0)


def test_rank_sums_sub_intents_and_ranks_them_within_their_intent():
    intents, within = rank(["faq/hours", "faq/shipping", "refund"], [0.3, 0.3, 0.4])
    assert intents == [("faq", pytest.approx(0.6)), ("refund", 0.4)]
    assert within == {"faq": [("faq/hours", 0.5), ("faq/shipping", 0.5)]}


def test_trained_model_reads_words_and_meaning():
    model = trained()
    probabilities = model.probabilities([blocks("where order", "order_status"), blocks("open hours")])
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert [model.labels[i] for i in probabilities.argmax(axis=1)] == ["order_status", "faq/business_hours"]
    # a message with no known word is read by its sentence vector alone
    unknown = {"dense_sentence": np.array([[0.0, 1.0, 0.0]])}
    assert model.labels[int(model.probabilities([unknown]).argmax())] == "refund"


def test_nearest_examples_give_one_similarity_per_label_never_the_example_itself():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]], dtype=np.float32)
    neighbours = Neighbours(vectors, np.array([1, 0, 1, 2]), 3)
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    assert np.allclose(neighbours.similarities(query), [[0.0, 1.0, 0.0]])  # label 2 is opposite: clipped at 0
    left_out = neighbours.similarities(vectors, leave_out=np.arange(4))
    assert np.allclose(left_out[0], [0.0, 0.6, 0.0])  # example 0 is not its own nearest label-1 example
    assert np.allclose(left_out[3], [0.0, 0.0, 0.0])  # the only example of label 2 has no other


def test_one_intent_is_not_a_classifier():
    with pytest.raises(ValueError):
        IntentModel.fit(
            [blocks("where order", "order_status")] * 2,
            ["order_status"] * 2,
            counts_weight=1.0,
            dense_weight=1.0,
            similarity_weight=1.0,
            c=1.0,
        )


def test_saved_model_loads_without_pickle_and_predicts_the_same(tmp_path):
    model = trained()
    model.save(tmp_path)
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"coef", "intercept", "neighbour_vectors", "neighbour_labels"}
    again = IntentModel.load(tmp_path)
    sample = [blocks("ship abroad"), blocks("refund money", "refund")]
    assert again.labels == model.labels
    assert np.array_equal(again.probabilities(sample), model.probabilities(sample))


# ---------------------------------------------------------------- the Rasa component


def featured_message(text, label=None):
    message = Message(data={TEXT: text})
    for name, row in blocks(text, label).items():
        matrix = row if sp.issparse(row) else np.asarray(row)
        message.add_features(Features(matrix, "sentence", TEXT, name))
    if label:
        message.set("intent", label.split("/")[0])
        if "/" in label:
            message.set("intent_response_key", label)
    return message


@pytest.fixture
def component(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="intents")
    config = {**LinearIntentClassifier.get_default_config(), "C": 10.0}
    classifier = LinearIntentClassifier.create(config, storage, Resource("intents"), context)
    data = TrainingData(
        [featured_message(t, y) for t, y in EXAMPLES],
        responses={
            "utter_faq/shipping": [{"text": "We ship to 30 countries."}],
            "utter_faq/business_hours": [{"text": "9:00-21:00"}],
            "utter_greet": [{"text": "hello"}],
        },
    )
    resource = classifier.train(data)
    return LinearIntentClassifier.load(config, storage, resource, context)


def test_component_sets_intent_ranking_and_the_faq_answer(component):
    faq, order = featured_message("ship abroad"), featured_message("where order", "order_status")
    component.process([faq, order])
    assert faq.get("intent")["name"] == "faq"
    assert [entry["name"] for entry in faq.get("intent_ranking")][0] == "faq"
    selection = faq.get("response_selector")["faq"]["response"]
    assert selection["intent_response_key"] == "faq/shipping"
    assert selection["utter_action"] == "utter_faq/shipping"
    assert selection["responses"] == [{"text": "We ship to 30 countries."}]
    assert faq.get("response_selector")["all_retrieval_intents"] == ["faq"]
    assert order.get("intent")["name"] == "order_status"
    assert order.get("response_selector") is None  # no answer is selected for other intents


def test_component_keeps_only_the_retrieval_responses(component, tmp_path):
    stored = json.loads(next(tmp_path.rglob("responses.json")).read_text(encoding="utf-8"))
    assert set(stored) == {"utter_faq/shipping", "utter_faq/business_hours"}


def test_untrained_component_classifies_nothing(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="intents")
    config = LinearIntentClassifier.get_default_config()
    classifier = LinearIntentClassifier.load(config, storage, Resource("never_trained"), context)
    message = featured_message("where order")
    classifier.process([message])
    assert message.get("intent") is None


@pytest.mark.parametrize(
    "key, value", [("C", 0), ("dense_weight", -1.0), ("counts_weight", 0), ("similarity_weight", -0.5)]
)
def test_bad_settings_are_refused(key, value):
    with pytest.raises(ValueError, match=key):
        LinearIntentClassifier.validate_config({**LinearIntentClassifier.get_default_config(), key: value})


# ---------------------------------------------------------------- determinism through `rasa train nlu`


def train_nlu(tmp_path: Path, name: str, threads: str) -> dict:
    """`rasa train nlu` on a slice of the project's data, in a fresh process with `threads` BLAS/TF threads."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_CACHE_DIRECTORY": str(tmp_path / f"cache-{name}"),
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_INTRA_OP_PARALLELISM_THREADS": threads,
        "TF_INTER_OP_PARALLELISM_THREADS": threads,
    }
    rasa = Path(sys.executable).parent / "rasa"
    subprocess.run(
        [
            str(rasa),
            "train",
            "nlu",
            "--config",
            str(ROOT / "config.yml"),
            "--nlu",
            str(tmp_path / "nlu.yml"),
            "--domain",
            str(ROOT / "domain.yml"),
            "--out",
            str(tmp_path),
            "--fixed-model-name",
            name,
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    with tarfile.open(tmp_path / f"{name}.tar.gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("weights.npz"))
        archive.extract(member, tmp_path / name)
    with np.load(tmp_path / name / member.name, allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def test_the_same_examples_give_the_same_weights_whatever_the_thread_count(tmp_path):
    """What CI relies on: a model trained here predicts exactly as one trained on another machine."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    examples = [m for m in data.intent_examples if m.get_full_intent()][::12]  # every intent, a few each
    TrainingData(examples).persist_nlu(str(tmp_path / "nlu.yml"))
    one, two = train_nlu(tmp_path, "one", "1"), train_nlu(tmp_path, "two", "2")
    assert one["coef"].shape[0] > 10
    for key in one:
        assert np.array_equal(one[key], two[key]), key
