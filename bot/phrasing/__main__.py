"""`python -m bot.phrasing [domain.yml]` checks every response; `--text "..."` checks one reply for taboos."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from bot.phrasing import find_taboos, lint_domain


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.phrasing", description=__doc__)
    parser.add_argument("domain", nargs="?", default="domain.yml", help="domain file to check (default: domain.yml)")
    parser.add_argument("--text", help="check this text for taboo phrases instead")
    args = parser.parse_args(argv)
    if args.text is not None:
        taboos = find_taboos(args.text)
        print(json.dumps(taboos, ensure_ascii=False))
        return 1 if taboos else 0
    domain = yaml.safe_load(Path(args.domain).read_text(encoding="utf-8"))
    violations = lint_domain(domain)
    for violation in violations:
        print(violation)
    count = len(domain.get("responses") or {})
    if violations:
        print(f"phrasing: {len(violations)} problem(s) in {count} responses", file=sys.stderr)
        return 1
    print(f"phrasing: {count} responses follow the style guide")
    return 0


if __name__ == "__main__":
    sys.exit(main())
