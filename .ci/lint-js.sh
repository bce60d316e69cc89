#!/usr/bin/env bash
# Lints the browser JavaScript of handoff_service with the pinned ESLint of .ci/eslint/
# (eslint.config.mjs): the console's ES modules (handoff_service/static/console/) and the
# customer chat page's script (handoff_service/static/chat.js); the vendored widget
# (handoff_service/static/vendor/) is not ours and is not linted. Then checks that the
# console's modules import each other without a cycle (.ci/eslint/import-cycles.mjs) and that
# its strings exist in both languages with the same placeholders (.ci/eslint/strings-parity.mjs).
# Installs ESLint into .ci/eslint/node_modules (npm ci) when it is missing or when
# package-lock.json changed (stamp: the lock's sha256). Exit code non-zero on any problem.
# With --install: only installs (make setup).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.ci/eslint
TARGETS=(handoff_service/static/console/ handoff_service/static/chat.js)

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "lint-js: '$tool' not found; install Node.js >= 20.19 with npm (Debian: apt-get install nodejs npm)" >&2
    exit 2
  }
done

stamp_file=$DIR/node_modules/.lock-sha256
want=$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)
if [ ! -x "$DIR/node_modules/.bin/eslint" ] || [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want" ]; then
  echo "lint-js: installing ESLint (npm ci) into $DIR/node_modules"
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp_file"
fi
[ "${1:-}" = "--install" ] && exit 0

echo "lint-js: ESLint $("$DIR/node_modules/.bin/eslint" --version | tr -d v) on ${TARGETS[*]}"
"$DIR/node_modules/.bin/eslint" --config "$DIR/eslint.config.mjs" --max-warnings 0 "${TARGETS[@]}"
node "$DIR/import-cycles.mjs" handoff_service/static/console
node "$DIR/strings-parity.mjs" handoff_service/static/console/strings.js
echo "lint-js: ok"
