"""The OpenAPI document matches the registered routes, both ways."""

from __future__ import annotations

import re


def _registered(app) -> set[tuple[str, str]]:
    """The API's routes (the pages /console, /chat and /static/ are not API)."""
    out = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if not path.startswith("/api/"):
            continue
        out.add((route.method.lower(), path))
    return out


async def test_every_route_is_documented_and_vice_versa(h):
    status, doc = await h.get("/api/openapi.json")
    assert status == 200
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == _registered(h.client.server.app)
    assert len(documented) >= 25


async def test_operations_are_complete(h):
    _, doc = await h.get("/api/openapi.json")
    schemas = doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        params = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            assert op["summary"] and op["operationId"]
            assert {p["name"] for p in op.get("parameters", []) if p["in"] == "path"} == params, path
            assert "security" in op
            for ref in re.findall(r'"#/components/schemas/(\w+)"', str(op).replace("'", '"')):
                assert ref in schemas, (path, ref)
            if method == "post" and "requestBody" in op:
                name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert schemas[name]["additionalProperties"] is False


async def test_tiers_in_document_come_from_config(h):
    _, doc = await h.get("/api/openapi.json")
    assert doc["components"]["schemas"]["CreateCase"]["properties"]["tier"]["enum"] == ["critical", "high", "normal"]


async def test_bot_routes_use_bot_security(h):
    _, doc = await h.get("/api/openapi.json")
    for path, ops in doc["paths"].items():
        for op in ops.values():
            if path.startswith("/api/bot/"):
                assert op["security"] == [{"botToken": []}]
            elif path not in ("/api/health", "/api/openapi.json", "/api/auth/login"):
                assert {"staffToken": []} in op["security"], path
