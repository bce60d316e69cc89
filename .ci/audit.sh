#!/usr/bin/env bash
# Dependency audit (make audit): the pinned packages of both environments against known
# vulnerabilities, with pip-audit from .venv-audit (.ci/audit.lock).
#   handoff_service/requirements.lock + .ci/lint.lock   (.venv-handoff)  must have none;
#   requirements.lock                                   (.venv, Rasa)    may only have the ones
#     listed in .ci/audit-ignore.txt: one advisory id a line, then why it is not reachable here.
# The lock files are audited as they are (-r FILE --no-deps --disable-pip): exactly the pinned
# versions, nothing resolved or installed. --strict: a package the vulnerability service has no
# answer for fails the audit, so an unreachable service fails it too instead of passing.
# Vulnerability data: PyPI's (pip-audit's default, the PyPA advisory database); AUDIT_SERVICE=osv
# (and AUDIT_OSV_URL=http://host/v1/query for a mirror) queries OSV instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PA=.venv-audit/bin/pip-audit
[ -x "$PA" ] || { echo "audit: $PA missing; run make setup" >&2; exit 1; }
service=${AUDIT_SERVICE:-pypi}
common=(--strict --no-deps --disable-pip --progress-spinner off --desc off --aliases on -s "$service")
[ -n "${AUDIT_OSV_URL:-}" ] && common+=(--osv-url "$AUDIT_OSV_URL")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Can the service answer at all? One package that is surely published: pip-audit itself.
grep -i '^pip[_-]audit==' .ci/audit.lock > "$tmp/probe.txt"
if ! "$PA" "${common[@]}" -r "$tmp/probe.txt" > "$tmp/probe.out" 2>&1; then
  echo "audit: FAILED: the vulnerability service '$service' gave no answer for $(cat "$tmp/probe.txt"):" >&2
  grep -E 'ERROR|Error|not found' "$tmp/probe.out" | tail -3 | sed 's/^/  /' >&2
  echo "audit: without vulnerability data nothing can be audited, so this fails instead of passing." >&2
  echo "audit: it needs PyPI's per-release JSON API (/pypi/NAME/VERSION/json) or, with" >&2
  echo "audit: AUDIT_SERVICE=osv, the OSV API (its public one or AUDIT_OSV_URL)." >&2
  exit 1
fi

# 2. The allow-list of Rasa's environment: every entry needs its reason.
ignore=()
while read -r id reason; do
  [ -z "$id" ] || [[ $id == \#* ]] && continue
  [ -n "$reason" ] || { echo "audit: .ci/audit-ignore.txt: '$id' has no reason; no reason, no entry" >&2; exit 1; }
  ignore+=(--ignore-vuln "$id")
done < .ci/audit-ignore.txt

status=0
echo "audit: handoff_service (handoff_service/requirements.lock + .ci/lint.lock): no known vulnerability allowed"
"$PA" "${common[@]}" -r handoff_service/requirements.lock -r .ci/lint.lock || status=1
echo "audit: Rasa (requirements.lock): only the $(( ${#ignore[@]} / 2 )) advisories of .ci/audit-ignore.txt allowed"
"$PA" "${common[@]}" "${ignore[@]}" -r requirements.lock || status=1
if [ $status -ne 0 ]; then
  echo "audit: FAILED: upgrade handoff_service's pins; for requirements.lock, list an advisory in" >&2
  echo "audit: .ci/audit-ignore.txt and README.md only with the reason it is not reachable here" >&2
fi
exit $status
