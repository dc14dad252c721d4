"""The floor plan of ARCHITECTURE.md that import-linter cannot say: a repository belongs to
its use case, and the code lives only in the layers the plan names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "db", "rewards", "offers")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, as dotted names (``from a import b`` gives a.b too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_no_module_imports_another_use_cases_repository() -> None:
    wrong = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            here = _module(path).rsplit(".", 1)[0]
            for name in _imports(path):
                if name.endswith(".repository") and name.rsplit(".", 1)[0] != here:
                    wrong.append(f"{_module(path)} imports {name}")
    assert wrong == []


def test_each_use_case_keeps_its_service_repository_and_sql_together() -> None:
    for repository in [
        *(ROOT / "rewards").rglob("repository.py"),
        *(ROOT / "offers").rglob("repository.py"),
    ]:
        folder = repository.parent
        assert (folder / "service.py").exists(), folder
        assert (folder / "queries.sql").exists(), folder


def test_db_holds_infrastructure_only() -> None:
    assert sorted(p.name for p in (ROOT / "db").glob("*.py")) == [
        "__init__.py",
        "embedded.py",
        "migrate.py",
        "pool.py",
        "queries.py",
        "replica.py",
        "rows.py",
        "schema.py",
        "types.py",
    ]


def test_offers_keep_to_their_own_side() -> None:
    """The points engine names no offer type of its own (merchant offers reach it through
    rewards.core.card_linked); its cores find no change by comparing before and after."""
    rewards = Path(__file__).resolve().parents[2] / "rewards"
    for path in rewards.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^class Offer\w*", text, re.MULTILINE), path
    for core in (rewards / "core", rewards.parent / "offers" / "core"):
        for path in core.glob("*.py"):
            assert "_loaded" not in path.read_text(), path
            assert len(path.read_text().splitlines()) <= 400, path


def test_no_controller_module_is_over_300_lines() -> None:
    """Controllers by caller and area; presenters and business checks live elsewhere."""
    api = Path(__file__).resolve().parents[2] / "api"
    for path in [*(api / "controllers").glob("*.py"), *(api / "web").glob("*.py")]:
        text = path.read_text()
        if "Controller" in text:
            assert len(text.splitlines()) <= 300, path
