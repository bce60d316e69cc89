"""The action server can load the package, and every custom action in the domain is served by it."""

from rasa_sdk.executor import ActionExecutor


def test_every_domain_action_is_registered(domain_dict):
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(domain_dict["actions"]) <= set(executor.actions)
