"""`python -m actions.serve [rasa_sdk options]`: the action server, answering Rasa only.

rasa_sdk's server takes any POST to /webhook, and the actions hold the bot's service token for
handoff_service: a local user, or a web page the operator opens (a `text/plain` POST needs no CORS
preflight), could make actions write to cases. Here every route but /health needs the secret Rasa
sends in the X-Action-Secret header (endpoints.yml), compared in constant time, and /webhook takes
`application/json` only. The secret comes from ACTION_SERVER_SECRET (never a command line or a URL);
without it the server does not start."""

from __future__ import annotations

import hmac
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

SECRET_VARIABLE = "ACTION_SERVER_SECRET"
SECRET_HEADER = "X-Action-Secret"
MIN_SECRET_LENGTH = 16
OPEN_PATHS = frozenset({"/health"})


class LaunchError(SystemExit):
    """A clear message instead of an action server anyone on the machine could call."""


def take_secret(environ: MutableMapping[str, str]) -> str:
    """The secret, removed from the environment (nothing the server starts inherits it)."""
    secret = environ.pop(SECRET_VARIABLE, "").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise LaunchError(
            f"error: {SECRET_VARIABLE} is not set (or shorter than {MIN_SECRET_LENGTH} characters); "
            "`make run` creates one in var/secrets.env"
        )
    return secret


def refusal(method: str, path: str, headers: Mapping[str, str], secret: str) -> tuple[int, dict[str, str]] | None:
    """(status, JSON body) to refuse a request with, or None to let it through."""
    if path in OPEN_PATHS:
        return None
    given = headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return 401, {"error": "not_authenticated", "message": f"the action server answers Rasa only ({SECRET_HEADER})"}
    content_type = headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if method == "POST" and content_type != "application/json":
        return 415, {"error": "unsupported_media_type", "message": "request bodies must be application/json"}
    return None


def protect(app: Any, secret: str) -> None:
    """Adds the check to a rasa_sdk Sanic app, before every handler."""
    from sanic import response

    async def check(request: Any) -> Any:
        refused = refusal(request.method, request.path, request.headers, secret)
        if refused is not None:
            status, body = refused
            return response.json(body, status=status)
        return None

    app.register_middleware(check, "request")


def main(argv: list[str] | None = None) -> None:
    secret = take_secret(os.environ)
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    args = create_argument_parser().parse_args(sys.argv[1:] if argv is None else argv)
    # logging as rasa_sdk's own entry point sets it up
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    app = create_app(args.actions or "actions", cors_origins=args.cors, auto_reload=args.auto_reload)
    protect(app, secret)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    app.run(
        os.environ.get("SANIC_HOST", "127.0.0.1"),
        args.port,
        ssl=ssl_context,
        workers=utils.number_of_sanic_workers(),
    )


if __name__ == "__main__":
    main()
