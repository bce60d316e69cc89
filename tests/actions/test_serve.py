"""The action server's launcher (actions/serve.py): every route but /health needs the shared secret,
/webhook takes JSON only, and the server does not start without a secret."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sanic.compat import Header

from actions.serve import SECRET_HEADER, LaunchError, protect, refusal, take_secret

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-0123456789abcdef"


def headers(**given: str) -> Header:
    return Header({name.replace("_", "-"): value for name, value in given.items()})


def test_health_is_open() -> None:
    assert refusal("GET", "/health", headers(), SECRET) is None


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"X_Action_Secret": ""},
        {"X_Action_Secret": "wrong"},
        {"X_Action_Secret": SECRET[:-1]},
        {"X_Action_Secret": SECRET + "x"},
        {"Authorization": f"Bearer {SECRET}"},  # only the one header counts
    ],
)
def test_without_the_secret_every_other_route_is_refused(given: dict[str, str]) -> None:
    for method, path in (("POST", "/webhook"), ("GET", "/actions"), ("OPTIONS", "/webhook"), ("GET", "/nowhere")):
        status, body = refusal(method, path, headers(Content_Type="application/json", **given), SECRET)
        assert status == 401 and SECRET_HEADER in body["message"]


@pytest.mark.parametrize(
    "content_type",
    ["", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_a_webhook_body_must_be_json(content_type: str) -> None:
    given = headers(X_Action_Secret=SECRET, **({"Content_Type": content_type} if content_type else {}))
    assert refusal("POST", "/webhook", given, SECRET) == (
        415,
        {"error": "unsupported_media_type", "message": "request bodies must be application/json"},
    )


def test_rasas_call_passes() -> None:
    # what Rasa's EndpointConfig sends (header names are case-insensitive)
    given = Header({"content-type": "application/json", "x-action-secret": SECRET})
    assert refusal("POST", "/webhook", given, SECRET) is None
    assert (
        refusal(
            "POST", "/webhook", headers(Content_Type="application/json; charset=utf-8", X_Action_Secret=SECRET), SECRET
        )
        is None
    )
    assert refusal("GET", "/actions", headers(X_Action_Secret=SECRET), SECRET) is None


def test_the_secret_is_taken_out_of_the_environment() -> None:
    environ = {"ACTION_SERVER_SECRET": f" {SECRET}\n", "PATH": "/usr/bin"}
    assert take_secret(environ) == SECRET
    assert environ == {"PATH": "/usr/bin"}
    for missing in ({}, {"ACTION_SERVER_SECRET": ""}, {"ACTION_SERVER_SECRET": "short"}):
        with pytest.raises(LaunchError, match="ACTION_SERVER_SECRET"):
            take_secret(dict(missing))


def test_the_middleware_answers_before_any_handler() -> None:
    from rasa_sdk.endpoint import create_app

    app = create_app("actions", cors_origins=None)
    protect(app, SECRET)
    [middleware] = [m for m in app.request_middleware if m.__name__ == "check"]

    class Request:
        def __init__(self, method: str, path: str, given: Header) -> None:
            self.method, self.path, self.headers = method, path, given

    refused = asyncio.run(middleware(Request("POST", "/webhook", headers(Content_Type="text/plain"))))
    assert refused.status == 401 and json.loads(refused.body)["error"] == "not_authenticated"
    allowed = Request("POST", "/webhook", headers(Content_Type="application/json", X_Action_Secret=SECRET))
    assert asyncio.run(middleware(allowed)) is None


def test_the_server_does_not_start_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_SECRET"}
    out = subprocess.run(
        [sys.executable, "-m", "actions.serve", "--actions", "actions", "-p", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "ACTION_SERVER_SECRET is not set" in out.stderr
