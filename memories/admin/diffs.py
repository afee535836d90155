"""Before → after, readable: a table of the fields that changed, text diffed word by word.

- text: the words removed struck through, the words added highlighted (difflib over words);
- lists (tags, linked ids): what was added and removed; lists of ids as counts, never bare uuids;
- JSON documents (identity, metadata): compared key by key (`document.essence`, ...);
- everything else: old → new.

Everything is escaped (format_html).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

EMPTY = mark_safe("<span>—</span>")
# Snapshot keys a reader of the history does not need to see change.
NOT_SHOWN = {"id", "created_at", "updated_at"}
# JSON fields whose keys are compared one by one (an identity revision touches one part).
NESTED = {"document", "metadata"}
TEXT_LIMIT = 4000
_WORDS = re.compile(r"\s*\S+\s*")  # a word with the spaces around it: changes read as runs
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def changes(
    before: dict | None, after: dict | None, prefix: str = ""
) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for every field that differs; JSON documents compared key by key."""
    if before is None or after is None:
        return []
    out: list[tuple[str, Any, Any]] = []
    for key in [*after, *(k for k in before if k not in after)]:
        if key in NOT_SHOWN and not prefix:
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in NESTED and isinstance(old, dict) and isinstance(new, dict):
            out.extend(changes(old, new, prefix=f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", old, new))
    return out


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return "set (an id)" if _UUID.match(value) else Truncator(value).chars(TEXT_LIMIT)
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return _entry(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _entry(value: dict) -> str:
    """A JSON object in words: a named one (an identity's value or relationship) by its name,
    kind and notes; any other as "key: value" pairs."""
    if not value:
        return "—"
    if value.get("name"):
        kind = value.get("kind") or value.get("weight")
        note = value.get("notes") or value.get("description")
        return f"{value['name']}{f' ({kind})' if kind not in (None, '') else ''}" + (
            f": {note}" if note else ""
        )
    return "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in value.items())


def _words(old: str, new: str) -> tuple[SafeString, SafeString]:
    a, b = _WORDS.findall(_plain(old)), _WORDS.findall(_plain(new))
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        gone, came = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            left.append(format_html("{}", gone))
            right.append(format_html("{}", came))
            continue
        if gone:
            left.append(format_html("<del>{}</del>", gone))
        if came:
            right.append(format_html("<ins>{}</ins>", came))
    return _joined(left), _joined(right)


def _joined(parts: list) -> SafeString:
    return format_html_join("", "{}", ((p,) for p in parts))


def _ids(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(i, str) and _UUID.match(i) for i in values)


def _items(old: list, new: list) -> tuple[SafeString, SafeString]:
    removed = [i for i in old if i not in new]
    added = [i for i in new if i not in old]
    if _ids([*old, *new]):
        return (
            format_html("{} linked{}", len(old), f", {len(removed)} removed" if removed else ""),
            format_html("{} linked{}", len(new), f", {len(added)} added" if added else ""),
        )
    return (
        format_html_join(", ", "<del>{}</del>", ((_plain(i),) for i in removed)) or EMPTY,
        format_html_join(", ", "<ins>{}</ins>", ((_plain(i),) for i in added)) or EMPTY,
    )


def render_change(old: Any, new: Any) -> tuple[SafeString, SafeString]:
    if isinstance(old, str) and isinstance(new, str) and (len(old) > 40 or len(new) > 40):
        return _words(old, new)
    if isinstance(old, list) and isinstance(new, list):
        return _items(old, new)
    return (
        format_html("<del>{}</del>", _plain(old)) if old not in (None, "") else EMPTY,
        format_html("<ins>{}</ins>", _plain(new)) if new not in (None, "") else EMPTY,
    )


def diff_table(diffs: list[tuple[str, Any, Any]]) -> SafeString:
    """The changed fields as rows: field, before, after."""
    if not diffs:
        return EMPTY
    rows = []
    for name, old, new in diffs:
        left, right = render_change(old, new)
        rows.append((name.replace("_", " "), left, right))
    return format_html(
        '<table class="console-diff"><thead><tr><th>field</th><th>before</th><th>after</th>'
        "</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", rows),
    )


def state_table(state: dict | None) -> SafeString:
    """A snapshot as field | value rows (creation, deletion: there is nothing to compare)."""
    if not state:
        return EMPTY
    rows = [
        (key.replace("_", " "), f"{len(value)} linked" if _ids(value) else _plain(value))
        for key, value in state.items()
        if key not in NOT_SHOWN and key != "spirit_id" and value not in (None, "", [], {})
    ]
    return format_html(
        '<table class="console-diff"><tbody>{}</tbody></table>',
        format_html_join("", "<tr><td><code>{}</code></td><td>{}</td></tr>", rows),
    )


def label_of_state(object_type: str, state: dict | None) -> str:
    """What a snapshot is called: its summary, topic, statement or essence ("" when purged)."""
    state = state or {}
    if object_type == "identity":
        essence = (state.get("document") or {}).get("essence") or ""
        version = f"version {state['version']}" if state.get("version") else ""
        return ": ".join(part for part in (version, Truncator(essence).chars(80)) if part)
    for key in ("summary", "statement", "topic", "content"):
        if state.get(key):
            return Truncator(" ".join(str(state[key]).split())).chars(90)
    return ""
