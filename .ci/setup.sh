#!/usr/bin/env bash
# Creates or updates the two Python environments when their pinned requirements change.
#   .venv          Rasa + actions (Python 3.10)     from requirements.lock
#   .venv-handoff  handoff_service (Python >= 3.11) from handoff_service/requirements.lock,
#                  plus the lint tools of .ci/lint.lock (mypy needs handoff_service's packages)
#   .venv-audit    pip-audit (Python >= 3.11)       from .ci/audit.lock, with SETUP_AUDIT=1 (make audit)
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_venv() {  # <dir> <python> <lockfile>...
  local dir=$1 py=$2 stamp lock
  shift 2
  stamp=$(cat "$@" | sha256sum | cut -c1-16)
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then return 0; fi
  echo "setup: installing $* into $dir (with $py)"
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v 'is ignored' || true
  for lock in "$@"; do
    "$dir/bin/python" -m pip install --quiet -r "$lock" 2>&1 | grep -v 'is ignored' || true
  done
  "$dir/bin/python" -m pip check >/dev/null || { echo "setup: pip check failed in $dir" >&2; "$dir/bin/python" -m pip check; exit 1; }
  echo "$stamp" > "$dir/.stamp"
}

py310=$(.ci/find-python310)
ensure_venv .venv "$py310" requirements.lock
if [ -f handoff_service/requirements.lock ]; then
  ensure_venv .venv-handoff "$(.ci/find-python-handoff)" handoff_service/requirements.lock .ci/lint.lock
fi
# only for make audit: no vulnerability service answers from this project's CI machine (see README)
if [ "${SETUP_AUDIT:-}" = 1 ]; then ensure_venv .venv-audit "$(.ci/find-python-handoff)" .ci/audit.lock; fi
mkdir -p var models
.ci/fetch-pretrained.sh
# ESLint for make lint (npm registry); without Node.js, make test's system-deps installs it first
if command -v npm >/dev/null 2>&1; then .ci/lint-js.sh --install; fi
