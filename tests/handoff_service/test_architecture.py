"""The shape of handoff_service, as the README's architecture picture draws it: the
import contract holds on the tree and fails on a forbidden import, modules stay
small, and use cases leave side effects to listeners."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "handoff_service"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 400


def _contracts_config(dest: Path) -> Path:
    """pyproject.toml's import-linter section, limited to handoff_service."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = text[text.index("[tool.importlinter]") :]
    section = section[: section.index("# ---- actions contracts")]
    section = section.replace('root_packages = ["handoff_service", "actions"]', 'root_packages = ["handoff_service"]')
    assert 'root_packages = ["handoff_service"]' in section
    path = dest / "contracts.toml"
    path.write_text(section, encoding="utf-8")
    return path


def _lint_imports(root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), "lint-imports is installed by make setup (.ci/lint.lock)"
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "handoff_service", ignore=shutil.ignore_patterns("__pycache__", "static"))
    return tmp_path


def test_the_tree_keeps_its_import_contracts(tree_copy: Path) -> None:
    result = _lint_imports(tree_copy, _contracts_config(tree_copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        # a lower feature reaching up: cases may not know about messages (it would close a circle)
        ("cases/service.py", "from handoff_service.messages import service as _messages", "features in layers"),
        # core imports no feature
        ("core/deps.py", "from handoff_service.staff import service as _staff", "features in layers"),
        # another feature may not use the cases feature's private row helpers
        ("messages/service.py", "from handoff_service.cases import _store", "private modules"),
    ],
)
def test_a_forbidden_import_breaks_the_contract(tree_copy: Path, module: str, planted: str, contract: str) -> None:
    path = tree_copy / "handoff_service" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{planted}  # planted by the test\n", encoding="utf-8")
    result = _lint_imports(tree_copy, _contracts_config(tree_copy))
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken and module.replace("/", ".").removesuffix(".py") in broken


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        str(p.relative_to(REPO)): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
        if "migrations" not in p.parts
    }
    assert sizes and not {p: n for p, n in sizes.items() if n > MAX_LINES}


# the use cases of every feature (live/ is where listeners publish, so it is not one of them)
USE_CASE_MODULES = sorted(
    [
        *(p for p in PACKAGE.glob("*/service.py") if p.parent.name != "live"),
        PACKAGE / "cases" / "intake.py",
        PACKAGE / "cases" / "queries.py",
    ]
)


@pytest.mark.parametrize("path", USE_CASE_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_use_cases_leave_side_effects_to_listeners(path: Path) -> None:
    """No use case publishes to websockets or starts a delivery itself: it records
    domain events, and listeners act on them after commit."""
    offending = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("publish", "kick", "delivery", "sla_monitor"):
            offending.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(("core.hub", ".scheduled")):
            offending.append(f"line {node.lineno}: imports {node.module}")
    assert offending == []
