#!/usr/bin/env bash
# Re-vendors Chart.js from the npm registry (run by hand; nothing downloads it at run time).
# Keeps the package's minified UMD build (defines window.Chart), without its source-map
# comment (the map is not vendored, so browsers would ask for a file that is not there).
set -euo pipefail
VERSION=${1:-4.6.2}
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "chart.js@$VERSION" >/dev/null && tar xzf "chart.js-$VERSION.tgz")
echo "upstream dist/chart.umd.min.js sha256: $(sha256sum "$tmp/package/dist/chart.umd.min.js" | cut -d' ' -f1)"
sed '/^\/\/# sourceMappingURL=/d' "$tmp/package/dist/chart.umd.min.js" > chart.umd.min.js
cp "$tmp/package/LICENSE.md" LICENSE.md
echo "$VERSION" > VERSION
echo "chart.umd.min.js sha256: $(sha256sum chart.umd.min.js | cut -d' ' -f1) ($(wc -c <chart.umd.min.js) bytes)"
