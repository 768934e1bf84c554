"""Every import path that README.md and docs/ show still works (so moving a module cannot break a reader's code).

The paths are read from the documents themselves: each ``from recollective... import ...`` / ``import
recollective...`` statement, and each dotted name ``recollective.a.b`` written in backticks.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs").glob("*.py")])

_IMPORT = re.compile(
    r"^[ \t]*(?:>>> )?(from recollective[\w.]* import (?:\([^)]*\)|[^\n]*)|import recollective[\w.]*)", re.MULTILINE
)
_DOTTED = re.compile(r"`(recollective(?:\.\w+)+)`")


def _imports() -> list[tuple[str, str, str | None]]:
    """(document, module, name or None) for every import statement of the documents."""
    found = []
    for path in DOCUMENTS:
        for match in _IMPORT.finditer(path.read_text(encoding="utf-8")):
            statement = match.group(1).split("#")[0].strip()
            for node in ast.parse(statement).body:
                if isinstance(node, ast.ImportFrom):
                    found += [(path.name, node.module, alias.name) for alias in node.names]
                else:
                    found += [(path.name, alias.name, None) for alias in node.names]
    return found


def _dotted() -> list[tuple[str, str]]:
    """(document, dotted name) for every ```recollective.a.b``` the documents name (docs/architecture.md aside:
    it names files, not import paths)."""
    return [
        (path.name, match.group(1))
        for path in DOCUMENTS
        if path.name != "architecture.md"
        for match in _DOTTED.finditer(path.read_text(encoding="utf-8"))
    ]


def _resolve(dotted: str):
    """Import the longest module prefix of ``dotted`` and look the rest up as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(dotted)


IMPORTS = _imports()
DOTTED = _dotted()


def test_the_documents_show_import_paths():
    # The scan itself must find what the documents hold (README's quick start, docs/theory.md's block, ...).
    assert len(IMPORTS) >= 30
    assert len(DOTTED) >= 8
    assert ("theory.md", "recollective.game.theory", "theory_window") in IMPORTS


@pytest.mark.parametrize(("document", "module", "name"), IMPORTS, ids=lambda v: str(v))
def test_documented_import_works(document, module, name):
    imported = importlib.import_module(module)
    if name is not None:
        assert hasattr(imported, name), f"{document}: `from {module} import {name}` fails"


@pytest.mark.parametrize(("document", "dotted"), DOTTED, ids=lambda v: str(v))
def test_documented_dotted_name_resolves(document, dotted):
    assert _resolve(dotted) is not None, f"{document}: {dotted}"


@pytest.mark.parametrize(
    "package", ["recollective.game", "recollective.game.theory", "recollective.game.incentives",
                "recollective.game.online"]
)
def test_every_public_name_of_the_game_is_importable(package):
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert module.__all__ and missing == []
