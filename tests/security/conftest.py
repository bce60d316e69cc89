"""The attack suite's stack: `make run` in a copy of this checkout, started once for the session.

Tests run in handoff_service's environment (.venv-handoff: aiohttp, Playwright) and talk to the
processes from outside, as an attacker on the network or a page in the customer's browser would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.stack import MakeRun, copy_checkout


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    run = MakeRun(copy_checkout(tmp_path_factory.mktemp("checkout")))
    run.start()
    try:
        yield run
    finally:
        run.stop()
