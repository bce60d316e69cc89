"""`python -m bot.serve [rasa run options]`: `rasa run` with the HTTP API enabled and its token read
from the RASA_TOKEN environment variable. A token given as `--auth-token` shows in every user's
process list (`ps` prints the command line); the environment is readable by the same user only.

RASA_TOKEN is the operator's: it reaches all of Rasa's HTTP API (models, every conversation), and no
other process holds it. handoff_service gets RASA_HANDOFF_TOKEN instead, which reaches only the
bridge routes of `bot.bridge` (a conversation's events, agent replies, EXTERNAL_ intents); without
it, no bridge routes are added. The action server's secret (ACTION_SERVER_SECRET) stays in the
environment: Rasa reads it into the action endpoint's header from endpoints.yml."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

TOKEN_VARIABLE = "RASA_TOKEN"
BRIDGE_TOKEN_VARIABLE = "RASA_HANDOFF_TOKEN"
MIN_TOKEN_LENGTH = 16
# One BLAS thread per server: the classifier's products are tiny, and a second OpenBLAS thread only
# spins after each of them (measured: 18 CPU ms per parsed message instead of 10, for 1 ms less wall
# time), taking a core from the action server and handoff_service. Set before NumPy loads.
SERVING_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class LaunchError(SystemExit):
    """A clear message instead of starting a server that anyone could query."""


def rasa_run_argv(options: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The `rasa run` command line this launcher runs in-process (never exec'd, never shown)."""
    if any(option == "--auth-token" or option.startswith("--auth-token=") for option in options):
        raise LaunchError(
            f"error: pass the token in {TOKEN_VARIABLE}, not as --auth-token "
            "(a command line is visible to every user of the machine)"
        )
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise LaunchError(f"error: {TOKEN_VARIABLE} is not set; `make run` creates one in var/secrets.env")
    # one argument: a token may start with "-" (urlsafe base64), which argparse would read as an option
    return ["rasa", "run", *options, "--enable-api", f"--auth-token={token}"]


def bridge_token(environ: Mapping[str, str]) -> str | None:
    """handoff_service's token for the bridge routes, or None (no bridge); never Rasa's own token."""
    token = environ.get(BRIDGE_TOKEN_VARIABLE, "").strip()
    if not token:
        return None
    if len(token) < MIN_TOKEN_LENGTH:
        raise LaunchError(f"error: {BRIDGE_TOKEN_VARIABLE} is shorter than {MIN_TOKEN_LENGTH} characters")
    if token == environ.get(TOKEN_VARIABLE, "").strip():
        raise LaunchError(
            f"error: {BRIDGE_TOKEN_VARIABLE} must differ from {TOKEN_VARIABLE} "
            "(handoff_service would hold the token that loads models)"
        )
    return token


def serving_environment(environ: Mapping[str, str]) -> dict:
    """The server's environment: one BLAS thread unless the operator chose otherwise, no token."""
    hidden = {TOKEN_VARIABLE, BRIDGE_TOKEN_VARIABLE}
    return {**SERVING_THREADS, **{k: v for k, v in environ.items() if k not in hidden}}


def with_bridge(run_module: Any, token: str) -> None:
    """Rasa's server, as `rasa run` builds it (rasa.core.run.configure_app), plus the bridge routes."""
    from bot import bridge

    configure_app = run_module.configure_app

    def configure_app_with_bridge(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)
        bridge.add_routes(app, token)
        return app

    run_module.configure_app = configure_app_with_bridge


def main() -> None:
    sys.argv = rasa_run_argv(sys.argv[1:], os.environ)
    token = bridge_token(os.environ)
    serving = serving_environment(os.environ)
    os.environ.clear()
    os.environ.update(serving)  # nothing Rasa starts inherits the tokens
    if token:
        import rasa.core.run

        with_bridge(rasa.core.run, token)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
