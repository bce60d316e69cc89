"""Bad input gets the right 4xx with the one error shape, and changes nothing."""

from __future__ import annotations

import pytest


def _is_error(body, code=None):
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    if code:
        assert body["error"]["code"] == code, body


async def test_malformed_json(h):
    for raw in (b"{", b"", b"NaN", b'{"a": Infinity}', b"\xff\xfe", b"[" * 50000):
        resp = await h.client.post("/api/bot/cases", data=raw, headers={**h.bot, "Content-Type": "application/json"})
        assert resp.status == 400, raw[:10]
        _is_error(await resp.json(), "malformed_json")


async def test_not_json_content_type(h):
    resp = await h.client.post(
        "/api/bot/cases", data="channel=web", headers={**h.bot, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert resp.status == 415
    _is_error(await resp.json(), "unsupported_media_type")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([], "body"),
        ({"channel": 1, "conversation_id": "c", "language": "en", "category": "x"}, "body.channel"),
        ({"conversation_id": "c", "language": "en", "category": "x"}, "body.channel"),
        ({"channel": "w", "conversation_id": "c", "language": "en", "category": "x", "owner": 1}, "body"),
        ({"channel": "w", "conversation_id": "c", "language": "EN!", "category": "x"}, "body.language"),
        ({"channel": "w", "conversation_id": "c", "language": "en", "category": "x", "tier": "gold"}, "body.tier"),
        ({"channel": "w", "conversation_id": "c\x00", "language": "en", "category": "x"}, "body.conversation_id"),
        ({"channel": "w", "conversation_id": "\ud800", "language": "en", "category": "x"}, "body.conversation_id"),
        (
            {"channel": "w", "conversation_id": "c", "language": "en", "category": "x", "links": [{"rel": "a"}]},
            "body.links[0].href",
        ),
    ],
)
async def test_wrong_types_and_fields(h, body, where):
    status, err = await h.post("/api/bot/cases", h.bot, body)
    assert status == 400
    _is_error(err, "invalid_field")
    assert err["error"]["details"]["field"] == where
    _, listed = await h.get("/api/bot/cases/C20261124-0001", h.bot)
    assert listed["error"]["code"] == "case_not_found"  # nothing was created


async def test_oversized_body(h):
    big = {"channel": "w", "conversation_id": "c", "language": "en", "category": "x", "description": "x" * 70_000}
    status, err = await h.post("/api/bot/cases", h.bot, big)
    assert status == 413
    _is_error(err, "payload_too_large")


async def test_unknown_ids(h):
    alice = await h.user("alice")
    for path in (
        "/api/cases/999",
        "/api/cases/0",
        "/api/cases/99999999999999999999",
        "/api/cases/abc",
        "/api/cases/-1/timeline",
        "/api/cases/12/messages",
    ):
        status, err = await h.get(path, alice)
        assert status == 404, path
        _is_error(err)
    status, err = await h.post("/api/cases/999/accept", alice)
    assert status == 404
    _is_error(err, "case_not_found")


async def test_unknown_route_and_method(h):
    status, err = await h.get("/api/nothing")
    assert status == 404
    _is_error(err, "not_found")
    status, err = await h.call("DELETE", "/api/bot/cases", h.bot)
    assert status == 405
    _is_error(err, "method_not_allowed")


async def test_bad_query_parameters(h):
    alice = await h.user("alice")
    for q in ("limit=0", "limit=abc", "limit=100000", "mine=yes", "offset=-1"):
        status, err = await h.get(f"/api/cases?{q}", alice)
        assert status == 400, q
        _is_error(err, "invalid_field")


def test_blank_text_schema_agrees_with_the_server():
    """The published pattern of non-blank text refuses exactly what the server calls blank
    (a fuzzer once sent "\\n" as schema-valid Markdown and got a 400)."""
    import re
    import sys

    from handoff_service.core.validation import ValidationFailed, text, validate

    schema = text(1, 100, nonblank=True)
    pattern = re.compile(schema["pattern"])
    for code in range(1, sys.maxunicode + 1):
        if 0xD800 <= code < 0xE000:
            continue
        value = f" {chr(code)}\n"
        blank = not value.strip()
        assert bool(pattern.search(value)) is not blank, hex(code)
        if blank:
            with pytest.raises(ValidationFailed, match="must not be blank"):
                validate(value, schema)
        else:
            validate(value, schema)
