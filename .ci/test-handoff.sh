#!/usr/bin/env bash
# handoff_service tests: the whole suite on SQLite, then again on a real
# PostgreSQL started here (Debian package, throwaway data dir, stopped after).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv-handoff/bin/python
[ -x "$PY" ] || { echo "test-handoff: $PY missing; run make setup" >&2; exit 1; }
pytest_args=(-c tests/handoff_service/pytest.ini tests/handoff_service -q "$@")

echo "test-handoff: SQLite"
unset HANDOFF_TEST_DATABASE_URL
"$PY" -m pytest "${pytest_args[@]}"

echo "test-handoff: PostgreSQL"
# pgtemp starts the server, exports HANDOFF_TEST_DATABASE_URL, and always stops and removes it
"$PY" -m handoff_service.core.pgtemp -- "$PY" -m pytest "${pytest_args[@]}"
