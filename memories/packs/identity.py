"""The identity layer of a pack: the spirit's self-model, one item per non-empty section."""

from __future__ import annotations

from functools import cache

from django.db import connection

from elephantasm.compiled import Compiled
from spirits.models import Spirit

from ..models import Identity
from .layers import STAND_INS, Item


@cache
def _document_sql() -> Compiled:
    """The spirit's identity document, compiled once (layers.STAND_INS)."""
    rows = Identity.objects.filter(spirit_id=STAND_INS["spirit_id"]).values_list("document")
    return Compiled.of(rows[:1].query.sql_with_params(), STAND_INS, required=("spirit_id",))


def _document(spirit: Spirit) -> dict | None:
    sql, params = _document_sql().filled({"spirit_id": spirit.pk})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return Identity._meta.get_field("document").from_db_value(row[0], None, connection)


def identity_items(spirit: Spirit) -> list[Item]:
    """One item per non-empty section of the identity document, in document order."""
    doc = _document(spirit)
    if doc is None:
        return []
    sections: list[tuple[str, str]] = []
    if doc.get("essence"):
        sections.append(("essence", f"Essence: {doc['essence']}"))
    if doc.get("purpose"):
        sections.append(("purpose", f"Purpose: {doc['purpose']}"))
    if doc.get("principles"):
        sections.append(
            ("principles", "Principles:\n" + "\n".join(f"- {p}" for p in doc["principles"]))
        )
    if doc.get("values"):
        values = "; ".join(
            v["name"] + (f" ({v['description']})" if v.get("description") else "")
            for v in doc["values"]
        )
        sections.append(("values", f"Values: {values}"))
    style = doc.get("communication_style") or {}
    if style:
        parts = [
            f"{k}: {style[k]}" for k in ("tone", "verbosity", "formality", "notes") if style.get(k)
        ]
        sections.append(("communication_style", "Communication style: " + ", ".join(parts)))
    if doc.get("relationships"):
        lines = [
            f"- {r['name']}"
            + (f" ({r['kind']})" if r.get("kind") else "")
            + (f": {r['notes']}" if r.get("notes") else "")
            for r in doc["relationships"]
        ]
        sections.append(("relationships", "Relationships:\n" + "\n".join(lines)))
    arc = doc.get("current_arc") or {}
    if arc.get("title") or arc.get("description"):
        text = " — ".join(t for t in (arc.get("title"), arc.get("description")) if t)
        sections.append(("current_arc", f"Current arc: {text}"))
    return [
        Item(layer="identity", kind="identity", id=name, line=line, reasons={"section": name})
        for name, line in sections
    ]
