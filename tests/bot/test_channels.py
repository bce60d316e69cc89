"""The input channels: Rasa's, with turns admitted in arrival order by one gate per process."""

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.run import create_http_input_channels

from bot.channels import LIMIT_ENV, PATIENCE_ENV, CallbackInput, RestInput, SocketIOInput, TurnGate, turn_gate

ROOT = Path(__file__).resolve().parents[2]


async def run_turns(gate: TurnGate, count: int):
    running, most, finished = 0, 0, []

    async def turn(message: UserMessage) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)  # a call to the action server: other tasks run meanwhile
        await asyncio.sleep(0.01)
        running -= 1
        finished.append(message.text)

    gated = gate.wrap(turn)
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(gated(UserMessage(str(i)))))
        await asyncio.sleep(0)  # arrive one after another
    await asyncio.gather(*tasks)
    return most, finished


async def test_the_gate_runs_at_most_its_limit_and_finishes_turns_in_arrival_order():
    most, finished = await run_turns(TurnGate(2), 8)
    assert most == 2
    assert finished == [str(i) for i in range(8)]


async def test_without_a_gate_late_turns_overtake():
    """What the gate prevents: with a limit as high as the load, every turn starts at once."""
    most, _ = await run_turns(TurnGate(100), 8)
    assert most == 8


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match=LIMIT_ENV):
        TurnGate(0)
    with pytest.raises(ValueError, match=PATIENCE_ENV):
        TurnGate(2, patience=0)


async def test_a_stuck_turn_delays_the_others_only_up_to_the_patience():
    gate, release, done = TurnGate(1, patience=0.05), asyncio.Event(), []

    async def turn(message: UserMessage) -> None:
        if message.text == "stuck":
            await release.wait()  # an action call that does not come back
        done.append(message.text)

    gated = gate.wrap(turn)
    stuck = asyncio.create_task(gated(UserMessage("stuck")))
    await asyncio.sleep(0)
    await asyncio.wait_for(gated(UserMessage("next")), timeout=1)  # runs after 0.05 s, not never
    assert done == ["next"]
    release.set()
    await stuck
    await gated(UserMessage("after"))  # the place was given back: the gate still admits turns
    assert done == ["next", "stuck", "after"] and gate._semaphore._value == 1


def test_the_limit_comes_from_the_environment(monkeypatch):
    turn_gate.cache_clear()
    monkeypatch.setenv(LIMIT_ENV, "3")
    try:
        assert turn_gate().limit == 3 and turn_gate() is turn_gate()
    finally:
        turn_gate.cache_clear()


def test_credentials_name_the_gated_channels_with_rasas_urls():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    assert {type(channel) for channel in channels} == {RestInput, SocketIOInput, CallbackInput}
    assert set(credentials) == {f"bot.channels.{cls.__name__}" for cls in (RestInput, SocketIOInput, CallbackInput)}
    assert sorted(channel.name() for channel in channels) == ["callback", "rest", "socketio"]


async def test_a_freed_place_goes_to_the_longest_waiting_turn_not_a_newcomer():
    gate, order, tasks = TurnGate(1), [], []

    async def turn(message: UserMessage) -> None:
        order.append(message.text)
        await asyncio.sleep(0.01)
        if message.text == "first":  # a newcomer arrives in the very moment the place is freed
            tasks.append(asyncio.create_task(gated(UserMessage("newcomer"))))

    gated = gate.wrap(turn)
    first = asyncio.create_task(gated(UserMessage("first")))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(gated(UserMessage("waiting")))
    await asyncio.gather(first, waiting)
    await asyncio.gather(*tasks)
    assert order == ["first", "waiting", "newcomer"]  # asyncio.Semaphore: first, newcomer, waiting


# ---------------------------------------------------------------- the guard before the gate


def _payloads(*offered):
    async def payloads(sender_id: str) -> set[str]:
        return set(offered)

    return payloads


@pytest.mark.parametrize(
    ("typed", "offered", "taken"),
    [
        ("/EXTERNAL_handoff_resolved", (), "EXTERNAL_handoff_resolved"),
        ('/inform{"order_number": ["1", "2"]}', ("/order_status",), 'inform{"order_number": ["1", "2"]}'),
        ("  //request_human", (), "request_human"),
        ("/order_status", ("/order_status", "/request_human"), "/order_status"),
        ('/inform{"rating":"5"}', ('/inform{"rating":"5"}',), '/inform{"rating":"5"}'),
        ("我想退款 /refund", (), "我想退款 /refund"),
        ("/greet", (), "/greet"),  # the chat page's opening payload: the greeting in the page's language
        ('/greet{"x": "1"}', (), 'greet{"x": "1"}'),  # but nothing more
    ],
)
def test_only_offered_payloads_pass_as_intents(typed, offered, taken):
    from bot.channels import guard_message

    message = asyncio.run(guard_message(UserMessage(typed, sender_id="s"), _payloads(*offered)))
    assert message.text == taken


def test_a_message_is_cut_before_anything_reads_it():
    from bot.channels import MAX_MESSAGE_CHARS, guard_message

    message = asyncio.run(guard_message(UserMessage("退" * (MAX_MESSAGE_CHARS * 10), sender_id="s"), _payloads()))
    assert len(message.text) == MAX_MESSAGE_CHARS


def test_offered_payloads_are_those_since_the_last_customer_message():
    from rasa.shared.core.events import BotUttered, UserUttered

    from bot.channels import offered_payloads

    events = [
        BotUttered("old", data={"buttons": [{"title": "a", "payload": "/old"}]}),
        UserUttered("hi"),
        BotUttered("hello", data={"buttons": [{"title": "b", "payload": "/order_status"}]}),
        BotUttered("or", data={"quick_replies": [{"title": "c", "payload": "/request_human"}]}),
    ]
    assert offered_payloads(events) == {"/order_status", "/request_human"}


def test_the_client_cannot_choose_the_input_channel():
    class FakeRequest:
        json = {"sender": "s", "message": "hi", "input_channel": "nowhere"}

    assert RestInput()._extract_input_channel(FakeRequest()) == "rest"
    assert CallbackInput("http://127.0.0.1:1/bot")._extract_input_channel(FakeRequest()) == "callback"
