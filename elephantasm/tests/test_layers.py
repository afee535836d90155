"""The layers of the code hold: the contracts in .importlinter (checked by import-linter), every
module is in one of their layers, and no project import hides inside a function."""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("elephantasm", "teams", "spirits", "events", "memories", "pipeline")
CONFIG = ROOT / ".importlinter"


def modules() -> list[str]:
    """Every module of the project's packages, outside tests and migrations."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "tests" in parts or "migrations" in parts:
                continue
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def layer_modules() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    layers = parser["importlinter:contract:layers"]["layers"].split("\n")
    return [m.strip() for layer in layers for m in layer.replace("|", ":").split(":") if m.strip()]


def test_the_import_contracts_are_kept():
    assert lint_imports(config_filename=str(CONFIG), no_cache=True) == 0


def test_every_module_belongs_to_a_layer():
    placed = layer_modules()
    packages = {m.rsplit(".", 1)[0] for m in modules()} | set(PACKAGES)
    unplaced = [
        m
        for m in modules()
        if m not in packages and not any(m == p or m.startswith(p + ".") for p in placed)
    ]
    assert unplaced == [], f"add these modules to a layer in .importlinter: {unplaced}"


def _function_imports(path: Path) -> list[str]:
    """Imports of project modules inside a function, except in an AppConfig.ready() (Django loads
    models after the registry is ready) or marked `# optional dependency` on their line."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name == "ready":
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom):
                names = [inner.module or ""] if not inner.level else ["." + (inner.module or "")]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            else:
                continue
            ours = [n for n in names if n.startswith(".") or n.split(".")[0] in PACKAGES]
            if ours and "# optional dependency" not in lines[inner.lineno - 1]:
                found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {ours[0]}")
    return found


def test_no_project_import_hides_inside_a_function():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "tests" not in path.parts and "migrations" not in path.parts:
                found += _function_imports(path)
    assert found == [], "import these at the top of the module (see .importlinter):\n" + "\n".join(
        found
    )
