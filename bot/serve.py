"""`python -m bot.serve [rasa run options]`: `rasa run` with the HTTP API enabled and its token read
from the RASA_TOKEN environment variable. A token given as `--auth-token` shows in every user's
process list (`ps` prints the command line); the environment is readable by the same user only."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

TOKEN_VARIABLE = "RASA_TOKEN"
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


def serving_environment(environ: Mapping[str, str]) -> dict:
    """The server's environment: one BLAS thread unless the operator chose otherwise, no token."""
    return {**SERVING_THREADS, **{k: v for k, v in environ.items() if k != TOKEN_VARIABLE}}


def main() -> None:
    sys.argv = rasa_run_argv(sys.argv[1:], os.environ)
    serving = serving_environment(os.environ)
    os.environ.clear()
    os.environ.update(serving)  # nothing Rasa starts inherits the token
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
