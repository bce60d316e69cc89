"""The DIET ensemble: members trained with their own seeds, stored in one resource, ranking averaged."""
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.diet_ensemble import DIETEnsembleClassifier
from bot.nlu.tokenizer import MixedTokenizer

EXAMPLES = {
    "order_status": ["where is my order", "track my parcel", "我的订单到哪了", "快递怎么还没到"],
    "refund": ["I want my money back", "refund please", "我要退款", "钱什么时候退回来"],
    "greet": ["hello", "hi there", "你好", "在吗"],
}


@pytest.fixture()
def trained(tmp_path):
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = MixedTokenizer(MixedTokenizer.get_default_config())
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    featurizer = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3},
        storage, Resource("counts"), context)
    data = TrainingData([Message(data={TEXT: text, INTENT: intent})
                         for intent, texts in EXAMPLES.items() for text in texts])
    tokenizer.process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)
    config = {**DIETEnsembleClassifier.get_default_config(), "members": 2, "epochs": 5, "random_seed": 42}
    resource = Resource("ensemble")
    DIETEnsembleClassifier.create(config, storage, resource, context).train(data)
    return config, storage, resource, context, tokenizer, featurizer


def messages_for(texts, tokenizer, featurizer):
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    featurizer.process(messages)
    return messages


def test_members_get_their_own_seeds_and_report_every_intent():
    config = {**DIETEnsembleClassifier.get_default_config(), "random_seed": 7}
    members = [DIETEnsembleClassifier.member_config(config, i) for i in range(3)]
    assert [m["random_seed"] for m in members] == [7, 8, 9]
    assert all(m["ranking_length"] == 0 and "members" not in m for m in members)


def test_ranking_is_the_mean_of_the_members_rankings(trained):
    config, storage, resource, context, tokenizer, featurizer = trained
    ensemble = DIETEnsembleClassifier.load(config, storage, resource, context)
    assert len(ensemble.members) == 2

    texts = ["where is my parcel", "我要退款", "hello"]
    per_member = []
    for member in ensemble.members:
        messages = messages_for(texts, tokenizer, featurizer)
        member.process(messages)
        per_member.append([{r["name"]: r["confidence"] for r in m.get(INTENT_RANKING_KEY)} for m in messages])
    assert per_member[0] != per_member[1]  # the seeds differ, so do the models

    messages = messages_for(texts, tokenizer, featurizer)
    ensemble.process(messages)
    for i, message in enumerate(messages):
        ranking = message.get(INTENT_RANKING_KEY)
        assert {r["name"] for r in ranking} == set(EXAMPLES)
        for entry in ranking:
            expected = (per_member[0][i][entry["name"]] + per_member[1][i][entry["name"]]) / 2
            assert entry["confidence"] == pytest.approx(expected)
        assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
        assert message.get(INTENT) == ranking[0]


def test_members_travel_with_the_resource_through_the_training_cache(trained, tmp_path):
    config, storage, resource, context, tokenizer, featurizer = trained
    resource.to_cache(tmp_path / "cache", storage)
    (tmp_path / "restored").mkdir()
    fresh = LocalModelStorage(tmp_path / "restored")
    restored = Resource.from_cache("ensemble", tmp_path / "cache", fresh, resource.fingerprint)
    ensemble = DIETEnsembleClassifier.load(config, fresh, restored, context)
    assert len(ensemble.members) == 2 and all(m.model is not None for m in ensemble.members)
    messages = messages_for(["我要退款"], tokenizer, featurizer)
    ensemble.process(messages)
    assert messages[0].get(INTENT)["name"] in EXAMPLES


def test_an_untrained_ensemble_classifies_nothing(tmp_path):
    config = DIETEnsembleClassifier.get_default_config()
    context = ExecutionContext(GraphSchema({}), "test")
    ensemble = DIETEnsembleClassifier.load(config, LocalModelStorage(tmp_path), Resource("missing"), context)
    message = Message(data={TEXT: "hello"})
    ensemble.process([message])
    assert message.get(INTENT) is None


def test_bad_settings_are_refused(tmp_path):
    context = ExecutionContext(GraphSchema({}), "test")
    for bad in ({"members": 0}, {"entity_recognition": True}):
        with pytest.raises(ValueError):
            DIETEnsembleClassifier.create({**DIETEnsembleClassifier.get_default_config(), **bad},
                                          LocalModelStorage(tmp_path), Resource("e"), context)
