"""A small validator for the JSON-Schema subset used in the OpenAPI document,
so the documented schemas are the ones enforced on input."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from .errors import ValidationFailed

MAX_DEPTH = 32


class _Invalid(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.text = message


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise _Invalid(where, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Invalid(where, "must be valid Unicode text") from None


def _walk(value: Any, where: str, depth: int = 0) -> None:
    """Reject absurd nesting anywhere in a value (free-form objects included)."""
    if depth > MAX_DEPTH:
        raise _Invalid(where, "is nested too deeply")
    if isinstance(value, dict):
        for v in value.values():
            _walk(v, where, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _walk(v, where, depth + 1)


_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
}


def _type_ok(value: Any, typ: str) -> bool:
    if typ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ == "null":
        return value is None
    return isinstance(value, _TYPES[typ])


def _validate(value: Any, schema: dict[str, Any], where: str) -> None:
    if value is None and schema.get("nullable"):
        return
    typ = schema.get("type")
    if typ and not _type_ok(value, typ):
        raise _Invalid(where, f"must be {'an' if typ[0] in 'aeiou' else 'a'} {typ}")
    if "enum" in schema and value not in schema["enum"]:
        raise _Invalid(where, f"must be one of {', '.join(map(str, schema['enum']))}")
    if "oneOf" in schema:
        matches = sum(1 for sub in schema["oneOf"] if _matches(value, sub, where))
        if matches != 1:
            raise _Invalid(where, schema.get("x-oneOf-message", "must match exactly one alternative"))
    if isinstance(value, str):
        # text columns cannot hold NUL (PostgreSQL) or lone surrogates (UTF-8)
        _check_text(value, where)
        if len(value) < schema.get("minLength", 0):
            raise _Invalid(where, "must not be empty" if schema.get("minLength") == 1 else "is too short")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise _Invalid(where, f"must be at most {schema['maxLength']} characters")
        if schema.get("x-nonblank") and not value.strip():
            raise _Invalid(where, "must not be blank")
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            raise _Invalid(where, f"must match {schema['pattern']}")
    if _type_ok(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            raise _Invalid(where, f"must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise _Invalid(where, f"must be <= {schema['maximum']}")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise _Invalid(where, f"must have at most {schema['maxItems']} items")
        items = schema.get("items")
        if items:
            for i, v in enumerate(value):
                _validate(v, items, f"{where}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                raise _Invalid(f"{where}.{name}", "is required")
        if schema.get("additionalProperties") is False:
            extra = sorted(set(value) - set(props))
            if extra:
                raise _Invalid(where, f"unknown field {extra[0]!r}")
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            raise _Invalid(where, f"must have at least {schema['minProperties']} field(s)")
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            raise _Invalid(where, f"must have at most {schema['maxProperties']} fields")
        for name, sub in props.items():
            if name in value:
                _validate(value[name], sub, f"{where}.{name}")


def _matches(value: Any, schema: dict[str, Any], where: str) -> bool:
    try:
        _validate(value, schema, where)
    except _Invalid:
        return False
    return True


def validate(value: Any, schema: dict[str, Any], where: str = "body") -> Any:
    try:
        _walk(value, where)
        _validate(value, schema, where)
    except _Invalid as e:
        code = schema.get("x-error-code", "invalid_field") if e.where == where else "invalid_field"
        raise ValidationFailed(f"{e.where}: {e.text}", code=code, field=e.where) from None
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, bounded nesting."""
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValidationFailed("the request body is not valid JSON", code="malformed_json") from None


# Text fields: no NUL (PostgreSQL text cannot hold it); lone surrogates are refused too.
PLAIN = "^[^\\u0000]*$"
# The characters str.strip() removes, spelled out so that every client of the
# schema (ECMA or Python regex) agrees with the server on what "blank" means.
_SPACE = "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
NONBLANK = f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"


def text(min_len: int = 0, max_len: int = 4000, *, nonblank: bool = False, **extra: Any) -> dict[str, Any]:
    """Schema of a text field; `nonblank` text has a character that is not white space."""
    pattern = NONBLANK if nonblank else PLAIN
    s: dict[str, Any] = {"type": "string", "maxLength": max_len, "pattern": pattern, **extra}
    if nonblank:
        s["x-nonblank"] = True
    if min_len:
        s["minLength"] = min_len
    return s
