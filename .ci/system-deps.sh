#!/usr/bin/env bash
# Installs the Debian packages the tests start for real: PostgreSQL, Redis, Chromium
# (with a CJK font, so screenshots show Chinese), Node.js for make lint's ESLint, and nginx
# (the reverse proxy of the documented deployment, checked by tests/security).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -d /usr/share/fonts/truetype/wqy ] || need+=(fonts-wqy-microhei)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)  # ESLint of make lint (Node.js >= 20.19)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)  # the reverse proxy of the deployment the attack suite checks
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "error: missing Debian packages: ${need[*]}. Install them: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "system-deps: apt-get install ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
