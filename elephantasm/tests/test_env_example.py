"""`.env.example` lists every setting the settings read from the environment, with its default."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "elephantasm" / "settings"
BASE, PRODUCTION = SETTINGS / "base.py", SETTINGS / "production.py"


def env_reads(*paths: Path) -> dict[str, object]:
    """{variable: default} of every env(...) / env.<cast>(...) call in `paths` (the default is
    None when it is not a literal)."""
    reads: dict[str, object] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
            )
            name = node.args[0]
            if not is_env or not isinstance(name, ast.Constant) or not isinstance(name.value, str):
                continue
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            reads[name.value] = default.value if isinstance(default, ast.Constant) else None
    return reads


def listed() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^# ([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))


def same(default: object, shown: str) -> bool:
    if isinstance(default, bool):
        return shown == str(default).lower()
    if isinstance(default, int | float):
        return float(shown) == float(default)
    return shown == default


def test_every_setting_read_from_the_environment_is_in_env_example():
    missing = sorted(set(env_reads(BASE, PRODUCTION)) - set(listed()))
    assert not missing, f"Add to .env.example: {', '.join(missing)}"


def test_env_example_shows_each_literal_default_of_the_base_settings():
    shown = listed()
    wrong = {
        name: (default, shown[name])
        for name, default in env_reads(BASE).items()
        if default is not None and name in shown and not same(default, shown[name])
    }
    assert not wrong, wrong
