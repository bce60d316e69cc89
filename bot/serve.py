"""`python -m bot.serve [rasa run options]`: `rasa run` with the HTTP API enabled and its token read
from the RASA_TOKEN environment variable. A token given as `--auth-token` shows in every user's
process list (`ps` prints the command line); the environment is readable by the same user only."""
from __future__ import annotations

import os
import sys
from typing import List, Mapping, Sequence

TOKEN_VARIABLE = "RASA_TOKEN"


class LaunchError(SystemExit):
    """A clear message instead of starting a server that anyone could query."""


def rasa_run_argv(options: Sequence[str], environ: Mapping[str, str]) -> List[str]:
    """The `rasa run` command line this launcher runs in-process (never exec'd, never shown)."""
    if any(option == "--auth-token" or option.startswith("--auth-token=") for option in options):
        raise LaunchError(f"error: pass the token in {TOKEN_VARIABLE}, not as --auth-token "
                          "(a command line is visible to every user of the machine)")
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise LaunchError(f"error: {TOKEN_VARIABLE} is not set; `make run` creates one in var/secrets.env")
    # one argument: a token may start with "-" (urlsafe base64), which argparse would read as an option
    return ["rasa", "run", *options, "--enable-api", f"--auth-token={token}"]


def main() -> None:
    sys.argv = rasa_run_argv(sys.argv[1:], os.environ)
    os.environ.pop(TOKEN_VARIABLE, None)  # nothing Rasa starts inherits it
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
