"""The identity layer of a pack: the spirit's self-model, one item per non-empty section."""

from __future__ import annotations

from spirits.models import Spirit

from . import reads
from .layers import Item


def identity_items(spirit: Spirit) -> list[Item]:
    """One item per non-empty section of the identity document, in document order."""
    doc = reads.identity_document(spirit.pk)
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
