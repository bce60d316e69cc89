#!/usr/bin/env bash
# Browser tests: the agent console (/console) and the customer chat page (/chat)
# in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for
# Python; no browser download). Each run starts its own handoff_service on a
# temporary SQLite database and a free port, with a stand-in for Rasa's HTTP API.
# The full-loop tests (test_full_loop.py, test_callback.py) also start the real Rasa (current model, trained by .ci/train.sh if needed), the action server and another handoff_service (tests/browser/loop_servers.py).
# Screenshots go to var/artifacts/screenshots/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv-handoff/bin/python
[ -x "$PY" ] || { echo "test-browser: $PY missing; run make setup" >&2; exit 1; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "test-browser: $CHROMIUM missing; run make system-deps" >&2; exit 1; }
export CHROMIUM
mkdir -p var/artifacts/screenshots
echo "test-browser: Chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}')"
"$PY" -m pytest -c tests/browser/pytest.ini tests/browser -q "$@"
echo "test-browser: screenshots in var/artifacts/screenshots/"
