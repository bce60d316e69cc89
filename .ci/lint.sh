#!/usr/bin/env bash
# make lint: the checks that keep the code's shape. Every step runs; any failure fails.
#   phrasing   the bot's responses follow the style guide (bot/phrasing)
#   ruff       lint + format check of all Python (pyproject.toml [tool.ruff])
#   mypy       strict types of handoff_service (pyproject.toml [tool.mypy])
#   contracts  import-linter: feature layers, no circles, private modules stay private
#   eslint     the console's and chat page's JavaScript (.ci/eslint/)
set -uo pipefail
cd "$(dirname "$0")/.."
H=.venv-handoff/bin
failed=()
step() {
  local name=$1
  shift
  echo "lint: $name"
  "$@" || failed+=("$name")
}
step phrasing .venv/bin/python -m bot.phrasing
step "ruff check" "$H/ruff" check --quiet .
step "ruff format" "$H/ruff" format --check --quiet .
step mypy "$H/mypy"
step contracts "$H/lint-imports" --no-cache
if [ -x .ci/lint-js.sh ]; then step eslint .ci/lint-js.sh; fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'lint: FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
echo "lint: all passed"
