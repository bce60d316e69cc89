"""Who hears what: the audience of every live message about a case, decided once."""

from __future__ import annotations

from typing import Any

from handoff_service.core.hub import EventHub
from handoff_service.core.principal import AGENTS, SUPERVISORS


def tell_case_staff(hub: EventHub, message: dict[str, Any], owner_id: int | None, handler_id: int | None) -> int:
    """A message about one case: to its owner and current handler, and to every supervisor."""
    return hub.publish(message, users={owner_id, handler_id}, roles=SUPERVISORS)


def tell_agents(hub: EventHub, message: dict[str, Any]) -> int:
    """A change of the waiting queue: to everyone who works cases."""
    return hub.publish(message, roles=AGENTS)


def tell_supervisors(hub: EventHub, message: dict[str, Any]) -> int:
    """What only supervisors watch (the live board: who has a console open)."""
    return hub.publish(message, roles=SUPERVISORS)


def presence(hub: EventHub, user_id: int, username: str | None) -> None:
    """After a socket opened or closed: tell supervisors when a staff member came online (their first
    console) or went offline (their last one closed); more consoles of someone online change nothing."""
    consoles = hub.online_users().get(user_id, 0)
    if consoles <= 1:
        tell_supervisors(hub, {"type": "presence.changed", "user": username, "online": consoles == 1})


def tell_user(hub: EventHub, message: dict[str, Any], user_id: int) -> int:
    return hub.publish(message, users={user_id})
