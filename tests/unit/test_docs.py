"""The documentation stays true: every link in README.md, ARCHITECTURE.md and docs/ leads to
a file of this repository, and docs/api.md lists exactly the operations the service's
OpenAPI document has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.app import create_app
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_to_a_file_of_the_repository(page: Path) -> None:
    text = page.read_text()
    assert "../shared" not in text
    assert "API.md" not in text  # the contract is docs/api.md, which a clone has
    for target in LINK.findall(text):
        assert not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE), (page, target)
        assert not target.startswith("//"), (page, target)
        path = target.split("#", 1)[0]
        if not path:
            continue  # a heading of the same page
        found = (page.parent / path).resolve()
        assert found.is_relative_to(ROOT), (page, target)
        assert found.exists(), (page, target)


def test_the_readme_is_a_landing_page() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_the_api_reference_lists_exactly_the_served_operations() -> None:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    document = app.openapi_schema.to_schema()
    served = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    listed = set(
        re.findall(
            r"^\| (GET|PUT|POST|PATCH|DELETE) \| `([^`]+)` \|",
            (ROOT / "docs" / "api.md").read_text(),
            re.MULTILINE,
        )
    )
    assert listed - served == set(), "listed in docs/api.md but not served"
    assert served - listed == set(), "served but missing from docs/api.md"


def test_the_tests_use_only_what_loadtest_documents_for_them() -> None:
    """loadtest/README.md names what the suite may use: the shared modules, and the drills
    and the battery it runs in their short forms."""
    allowed = {
        "loadtest.wire",
        "loadtest.machine",
        "loadtest.drills.crash",
        "loadtest.drills.cluster",
        "loadtest.batteries.battery",
    }
    readme = (ROOT / "loadtest" / "README.md").read_text()
    used: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        used |= set(re.findall(r"\bloadtest(?:\.[a-z_]+)+", path.read_text()))
    assert used <= allowed, used - allowed
    for module in ("loadtest.wire", "loadtest.machine"):
        assert f"`{module}`" in readme
    for module in ("drills.crash", "drills.cluster", "batteries.battery"):
        assert f"loadtest.{module}" in readme


def test_the_architecture_page_names_every_module_and_only_modules_that_exist() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    layers = text[text.index("## Layers") : text.index("## Glossary")]
    for side in ("rewards", "offers"):
        for package in sorted((ROOT / side).iterdir()):
            if (package / "__init__.py").exists():
                assert f"{side}/{package.name}" in layers, package
    for folder in ("rewards/core", "offers/core", "api", "db"):
        for module in sorted((ROOT / folder).glob("*.py")):
            if module.name != "__init__.py":
                assert module.name in layers, module
    for module in sorted((ROOT / "api" / "controllers").glob("*.py")):
        if module.name != "__init__.py":
            assert re.search(rf"\b{module.stem}\b", layers), module
    tree = {p.name for p in ROOT.rglob("*.py") if ".venv" not in p.parts}
    for named in re.findall(r"\b([a-z_]+\.py)\b", layers):
        assert named in tree, named
