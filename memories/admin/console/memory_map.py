"""The memory map: a spirit's memories and knowledge as points in two dimensions.

The points come from memories.map (PCA of the embeddings, at most MAX_POINTS, the most
important first); the page draws them on a <canvas> with its own script
(memories/static/admin/memories/memory_map.js) from JSON embedded in the page, and says the
same in text (counts per colour, what was left out) for a reader without the script.

Mounted by SpiritAdmin.get_urls (memories.admin.spirits), which scopes the spirit as its change
page does. The map shows memories to a user who may view memories and knowledge to one who may
view knowledge; one who may view neither gets a 403.
"""

from __future__ import annotations

import time

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from spirits.models import Spirit

from ...map.points import COLORINGS, KINDS, memory_map
from ...models import Knowledge, Memory
from .links import console_links

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
COLORING_LABELS = {"type": "type", "tier": "tier", "status": "status"}
MODELS = {"memory": Memory, "knowledge": Knowledge}


def visible_kinds(request) -> list[str]:
    """The kinds of item the user may view in the admin (model permission and team role)."""
    return [
        kind
        for kind in KINDS
        if admin.site.is_registered(MODELS[kind])
        and admin.site.get_model_admin(MODELS[kind]).has_view_permission(request)
    ]


def memory_map_view(request, object_id):
    spirit: Spirit = request.console_spirit
    kinds = visible_kinds(request)
    if not kinds:
        raise PermissionDenied
    started = time.perf_counter()
    found = memory_map(spirit=spirit, kinds=kinds)
    coloring = request.GET.get("color")
    coloring = coloring if coloring in COLORINGS else COLORINGS[0]
    data = {
        "points": found.points,
        "edges": found.edges,
        "kinds": list(KINDS),
        "categories": found.categories,
        "edgeKinds": found.edge_kinds,
        "placeholder": PLACEHOLDER,
        "changeUrls": {
            kind: reverse(f"admin:memories_{kind}_change", args=[PLACEHOLDER]) for kind in kinds
        },
    }
    legends = [
        {
            "coloring": name,
            "label": COLORING_LABELS[name],
            "rows": [row for row in found.categories[name] if row["count"]],
            "shown": name == coloring,
        }
        for name in COLORINGS
    ]
    context = {
        **admin.site.each_context(request),
        "title": f"{spirit.name}: memory map",
        "subtitle": None,
        "opts": Spirit._meta,
        "spirit": spirit,
        "links": console_links(spirit),
        "map": found,
        "data": data,
        "kinds": kinds,
        "coloring": coloring,
        "legends": legends,
        "edge_rows": [row for row in found.edge_kinds if row["count"]],
        "shown": len(found.points),
        "explained": [round(100 * share) for share in found.explained],
        "elapsed_ms": round(1000 * (time.perf_counter() - started)),
    }
    return TemplateResponse(request, "admin/spirits/memory_map.html", context)
