#!/usr/bin/env bash
# The attack suite (tests/security/): `make run` in a copy of this checkout on free ports, then each
# attack of issue 25 from outside (HTTP, socket.io, a page in headless Chromium). Runs in
# handoff_service's environment; the stack itself uses both environments and the current model.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv-handoff/bin/python
[ -x "$PY" ] || { echo "test-security: $PY missing; run make setup" >&2; exit 1; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
.ci/train.sh >/dev/null  # the stack serves the current model; train it here, not inside make run's wait
"$PY" -m pytest -c tests/security/pytest.ini tests/security -q "$@"
