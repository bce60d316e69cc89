"""The pretrained sentence features: WordPiece tokenizer, ONNX encoder, Chinese glosses, featurizer.

They use the files `make setup` fetches into var/pretrained/ (.ci/fetch-pretrained.sh).
"""

import gzip
import json
import math

import numpy as np
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.encoder import (
    MissingPretrainedFiles,
    SentenceEncoder,
    VectorCache,
    WordPieceTokenizer,
    pretrained_dir,
    read_safetensors,
)
from bot.gloss import Glossary
from bot.nlu.sentence_features import ENCODER_DIR, GlossedSentenceFeaturizer, load_pretrained
from bot.nlu.tokenizer import MixedTokenizer


@pytest.fixture(scope="module")
def pretrained():
    return load_pretrained(pretrained_dir())


def cosine(a, b):
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_wordpiece_splits_like_bert_uncased():
    vocab = {
        t: i
        for i, t in enumerate(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##want", "##ed", "runn", "##ing", ",", "!", "cafe", "退"]
        )
    }
    tokenizer = WordPieceTokenizer(vocab)
    assert tokenizer.basic_tokens("UNwanted,  Running!") == ["unwanted", ",", "running", "!"]
    assert tokenizer.basic_tokens("Café\u200b退款") == ["cafe", "退", "款"]  # accents, control chars, CJK apart
    assert tokenizer.encode("unwanted running xyz") == [2, 4, 5, 6, 7, 8, 1, 3]
    assert len(tokenizer.encode("un " * 500)) == 128  # cut to the model's length


def test_safetensors_reader_reads_shapes_and_values(tmp_path):
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
    path = tmp_path / "x.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + data.tobytes())
    assert np.array_equal(read_safetensors(path)["w"], data)


def test_encoder_gives_unit_vectors_closer_for_paraphrases(pretrained):
    encoder, _ = pretrained
    vectors = encoder.encode(
        ["where is my parcel", "my package has not arrived yet", "I want my money back", "", "a" * 3000]
    )
    assert vectors.shape == (5, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2


def numpy_bert_mean_pooled(weights, config, ids):
    """The reference: BERT's forward pass for one unpadded message, written plainly in NumPy."""
    from scipy.special import erf

    heads, hidden, eps = config["num_attention_heads"], config["hidden_size"], config.get("layer_norm_eps", 1e-12)
    head = hidden // heads

    def norm(x, prefix):
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + eps) * weights[prefix + ".weight"] + weights[prefix + ".bias"]

    def dense(x, prefix):
        return x @ weights[prefix + ".weight"] + weights[prefix + ".bias"]

    x = (
        weights["embeddings.word_embeddings.weight"][ids]
        + weights["embeddings.position_embeddings.weight"][: len(ids)]
        + weights["embeddings.token_type_embeddings.weight"][0]
    )
    x = norm(x, "embeddings.LayerNorm")
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = (
            dense(x, p + f"attention.self.{n}").reshape(len(ids), heads, head).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
        attention = np.exp(scores - scores.max(-1, keepdims=True))
        context = (attention / attention.sum(-1, keepdims=True)) @ v
        x = norm(
            dense(context.transpose(1, 0, 2).reshape(len(ids), hidden), p + "attention.output.dense") + x,
            p + "attention.output.LayerNorm",
        )
        h = dense(x, p + "intermediate.dense")
        x = norm(dense(0.5 * h * (1 + erf(h / math.sqrt(2))), p + "output.dense") + x, p + "output.LayerNorm")
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_onnx_graph_computes_what_the_numpy_reference_does():
    directory = pretrained_dir() / ENCODER_DIR
    encoder = SentenceEncoder.load(directory)
    weights = {k.removeprefix("bert."): v for k, v in read_safetensors(directory / "model.safetensors").items()}
    weights = {
        k: (v.T if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k else v) for k, v in weights.items()
    }
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    texts = ["hello", "I express delivery how still not arrive", "what's the status of order 00000?"]
    for text, vector in zip(texts, encoder.encode(texts), strict=True):
        reference = numpy_bert_mean_pooled(weights, config, encoder.tokenizer.encode(text))
        assert np.allclose(vector, reference, atol=1e-5), text


def test_a_text_has_the_same_vector_whatever_is_encoded_beside_it(pretrained):
    """Exactly, not nearly: training (with its cache of earlier trainings) and use must agree bit for bit."""
    encoder, _ = pretrained
    alone = encoder.encode(["refund"])[0]
    beside = encoder.encode(["refund", "could you tell me how long a refund takes to reach my card"])[0]
    assert np.array_equal(alone, beside)


def test_vector_cache_encodes_only_new_texts_and_gives_the_same_vectors(pretrained, tmp_path):
    encoder, _ = pretrained

    class Counting:
        dimension = encoder.dimension
        seen = []

        def encode(self, texts):
            self.seen.extend(texts)
            return encoder.encode(texts)

    counting = Counting()
    cache = VectorCache(tmp_path, counting, pretrained_dir() / ENCODER_DIR)
    first = cache.encode(["refund", "where is my parcel", "refund"])
    assert counting.seen == ["refund", "where is my parcel"]  # each text once
    again = VectorCache(tmp_path, counting, pretrained_dir() / ENCODER_DIR).encode(["where is my parcel", "hello"])
    assert counting.seen[2:] == ["hello"]  # a later training encodes only what is new
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], encoder.encode(["hello"])[0])
    (stored,) = tmp_path.glob("sentence-vectors-*.npz")
    with np.load(stored, allow_pickle=False) as arrays:  # the latest training's texts, no pickle
        assert sorted(arrays["texts"].tolist()) == ["hello", "where is my parcel"]
    stored.write_bytes(b"not an npz file")  # a damaged cache is rebuilt, not trusted
    assert np.array_equal(cache.encode(["hello"])[0], again[1])


def test_missing_pretrained_files_say_how_to_get_them(tmp_path):
    with pytest.raises(MissingPretrainedFiles, match="make setup"):
        SentenceEncoder.load(tmp_path / ENCODER_DIR)
    with pytest.raises(MissingPretrainedFiles, match="make setup"):
        Glossary.load(tmp_path / "cedict.txt.gz")


def test_glossary_reads_cedict_lines_and_prefers_the_entry_with_most_senses(tmp_path):
    path = tmp_path / "dict.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(
            "# comment\n"
            "后 后 [hou4] /empress/queen/\n"
            "後 后 [hou4] /back/behind/rear/afterwards/\n"
            "退款 退款 [tui4 kuan3] /to refund/refund/\n"
            "份 份 [fen4] /classifier for gifts/share/\n"
        )
    glossary = Glossary.load(path)
    assert glossary.word("后") == "back"
    assert glossary.word("退款") == "refund"  # "to " dropped
    assert glossary.word("份") == "share"  # classifier senses skipped
    assert glossary.render(["退款", "后", "的", "订单", "12345", "ok"]) == "refund back 0 ok"  # unknown: nothing


def test_real_dictionary_glosses_a_customer_message(pretrained):
    _, glossary = pretrained
    english = glossary.render(["我", "的", "快递", "怎么", "还", "没", "到"])
    assert english.split()[-3:] == ["still", "not", "arrive"]
    assert "express" in english


def test_featurizer_adds_one_scaled_sentence_vector_and_chinese_reads_like_english(pretrained):
    encoder, glossary = pretrained
    featurizer = GlossedSentenceFeaturizer(
        {**GlossedSentenceFeaturizer.get_default_config()}, "glossed", encoder, glossary
    )
    tokenizer = MixedTokenizer(MixedTokenizer.get_default_config())
    messages = [Message(data={TEXT: t}) for t in ["我要退款", "I want a refund", "订单12345到哪了"]]
    tokenizer.process(messages)
    featurizer.process(messages)
    _, sentence = messages[0].get_dense_features(TEXT, [])
    assert sentence is not None and sentence.features.shape == (1, 384)
    assert np.isclose(np.linalg.norm(sentence.features), np.sqrt(384), atol=1e-3)
    vectors = [m.get_dense_features(TEXT, [])[1].features[0] for m in messages]
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert featurizer.english(messages[2]).split()[:2] == ["order", "0"]


def test_featurizer_skips_training_examples_without_text(pretrained, tmp_path):
    encoder, glossary = pretrained
    featurizer = GlossedSentenceFeaturizer(
        GlossedSentenceFeaturizer.get_default_config(),
        "glossed",
        encoder,
        glossary,
        VectorCache(tmp_path, encoder, pretrained_dir() / ENCODER_DIR),
    )
    examples = [Message(data={TEXT: "hi"}), Message(data={"intent": "greet"})]
    MixedTokenizer(MixedTokenizer.get_default_config()).process_training_data(TrainingData(examples))
    featurizer.process_training_data(TrainingData(examples))
    assert examples[0].features and not examples[1].features


def test_training_through_the_cache_gives_exactly_the_features_of_use(pretrained, tmp_path):
    encoder, glossary = pretrained
    cache = VectorCache(tmp_path, encoder, pretrained_dir() / ENCODER_DIR)
    featurizer = GlossedSentenceFeaturizer(
        GlossedSentenceFeaturizer.get_default_config(), "glossed", encoder, glossary, cache
    )
    tokenizer = MixedTokenizer(MixedTokenizer.get_default_config())
    texts = ["我的订单到哪了", "where is my parcel", "退款"]
    for round_ in range(2):  # the second training reads every vector from the cache
        training = [Message(data={TEXT: t}) for t in texts]
        tokenizer.process_training_data(TrainingData(training))
        featurizer.process_training_data(TrainingData(training))
        for text, example in zip(texts, training, strict=True):
            used = Message(data={TEXT: text})
            tokenizer.process([used])
            featurizer.process([used])
            assert np.array_equal(
                example.get_dense_features(TEXT, [])[1].features, used.get_dense_features(TEXT, [])[1].features
            ), (round_, text)
    assert list(tmp_path.glob("sentence-vectors-*.npz"))
