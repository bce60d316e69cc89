"""`python -m bot.training <command> [options]`: one module per command, each with `main(argv)`."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "apply": "bot.training.apply",  # labelled items -> data/nlu/{zh,en}/*.yml (+ the held-back test set)
    "export": "bot.training.items",  # labelled items -> JSONL
    "import": "bot.training.items",  # JSONL -> items for apply
    "evaluate": "bot.training.evaluate",  # new model vs previous one on the same sets: report + gate
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print(f"usage: python -m bot.training {{{','.join(COMMANDS)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[args[0]])
    return int(module.main(args))


if __name__ == "__main__":
    sys.exit(main())
