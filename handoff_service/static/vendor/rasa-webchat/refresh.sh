#!/usr/bin/env bash
# Re-vendors the rasa-webchat widget from the npm registry (run by hand; nothing
# downloads it at run time). Keeps the package's UMD build (defines
# window.WebChat.default.init) with one patch: the CSS @import of a web font from
# an external host is removed, so the chat page makes no request off this server.
set -euo pipefail
VERSION=${1:-1.0.1}
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "rasa-webchat@$VERSION" >/dev/null && tar xzf "rasa-webchat-$VERSION.tgz")
echo "upstream lib/index.js sha256: $(sha256sum "$tmp/package/lib/index.js" | cut -d' ' -f1)"
sed 's#@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700\&display=swap);##g' \
  "$tmp/package/lib/index.js" > webchat.js
cp "$tmp/package/LICENSE" LICENSE
if grep -q 'fonts.googleapis.com' webchat.js; then
  echo "refresh: the font @import is still there; adjust the patch" >&2
  exit 1
fi
echo "webchat.js sha256: $(sha256sum webchat.js | cut -d' ' -f1) ($(wc -c <webchat.js) bytes)"
