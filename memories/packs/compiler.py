"""The pack compiler: what a spirit should remember now, within a token budget.

`compile_pack(spirit, PackRequest(...))` gathers the layers (`layers`), allots the budget
(`presets` has the rules), renders the prompt-ready text, and (unless `persist=False`) keeps the
pack and records, off the request path, that its memories were used (`access_count`,
`last_accessed_at`: what the Dreamer's decay reads). Tokens are counted with the local
tokenizer (elephantasm.ai.tokens); the text never has more than `max_tokens`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.utils import timezone

from elephantasm.ai.tokens import count_tokens, count_tokens_many
from elephantasm.api.errors import ValidationFailed
from elephantasm.metrics import PACK_LATENCY
from pipeline.flow import enqueue_pack_use
from spirits.models import Spirit
from teams.actors import Actor

from ..models import ContextPack
from . import identity, layers, past
from .presets import DEFAULT_PRESET, LAYERS, LIMIT_MAX, PRESETS, TIME_ORDERED, WEIGHT_NAMES

MAX_TOKENS_MIN = 64
MAX_TOKENS_MAX = 200_000
QUERY_MAX_CHARS = 1000


@dataclass(frozen=True)
class PackRequest:
    query: str | None = None
    session_id: str | None = None
    preset: str = DEFAULT_PRESET
    max_tokens: int | None = None  # None: the spirit's retrieval.pack_max_tokens
    limits: dict[str, int] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Pack:
    spirit_id: str
    preset: str
    query: str | None
    session_id: str | None
    max_tokens: int
    token_count: int
    settings: dict[str, Any]
    budget: dict[str, dict[str, int]]
    items: list[layers.Item]
    text: str
    created_at: datetime
    id: str | None = None


def _problems(request: PackRequest) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if request.preset not in PRESETS:
        problems["preset"] = [f"One of {', '.join(PRESETS)}."]
    if request.query is not None and len(request.query) > QUERY_MAX_CHARS:
        problems["query"] = [f"At most {QUERY_MAX_CHARS} characters."]
    if (
        request.max_tokens is not None
        and not MAX_TOKENS_MIN <= request.max_tokens <= MAX_TOKENS_MAX
    ):
        problems["max_tokens"] = [f"An integer from {MAX_TOKENS_MIN} to {MAX_TOKENS_MAX}."]
    bad = [k for k, v in request.limits.items() if k not in LAYERS or not 0 <= v <= LIMIT_MAX]
    if bad:
        problems["limits"] = [
            f"Layers among {', '.join(LAYERS)}, each 0 to {LIMIT_MAX}; got {bad}."
        ]
    bad = [k for k, v in request.weights.items() if k not in WEIGHT_NAMES or not 0 <= v <= 1]
    if bad:
        problems["weights"] = [f"Among {', '.join(WEIGHT_NAMES)}, each 0 to 1; got {bad}."]
    return problems


@cache
def _heading_tokens() -> dict[str, int]:
    return dict(zip(LAYERS, count_tokens_many([layers.HEADINGS[n] for n in LAYERS]), strict=True))


def _allot(items_by_layer, limits, shares, max_tokens) -> tuple[list[layers.Item], dict]:
    """Choose each layer's items within its allotment (see presets' budget rules): the layers in
    order, unused tokens flowing down; then what is left at the end goes back to the past layer
    (the events most relevant to the query), which takes more of its items while they fit."""
    allotment = _Allotment(items_by_layer, limits)
    carry = 0
    for layer in LAYERS:
        allotment.fill(layer, int(shares[layer] * max_tokens) + carry)
        carry = allotment.left(layer)
    if carry > 0:  # the past layer's own unused tokens are in it: they flowed down
        allotment.fill("past", allotment.budget["past"]["used"] + carry)
    chosen = []
    for layer in LAYERS:
        taken = allotment.taken[layer]
        if layer in TIME_ORDERED:  # gathered newest or best first, read oldest first
            taken.sort(key=lambda i: (i.at, i.id))
        chosen.extend(taken)
    return chosen, allotment.budget


# What a knowledge, lesson or memory line says, without its bullet and date: the same words in
# two layers (a fact and the memory it was drawn from, "Ada prefers short answers.") show once.
_LINE_DATE = re.compile(r"^-\s*(?:\[[^\]]*\]\s*)?(?:On \d{1,2} [A-Z][a-z]+ \d{4}[:,]\s*)?")
_SAID_ONCE = frozenset({"knowledge", "lessons", "memories"})


def said(line: str) -> str:
    return " ".join(re.findall(r"\w+", _LINE_DATE.sub("", line).lower()))


class _Allotment:
    """The items taken per layer and the tokens allotted and used. Items are counted
    (`item.tokens`) as the walk reaches them, a batch at a time: as many as the layer can still
    take, so a scored layer's unused tail (it holds 2 x its limit) is not counted. An item
    whose line does not fit is taken in its short form (`item.short`) if that fits; an event
    already shown by a layer is not shown again."""

    def __init__(self, items_by_layer, limits):
        self.items = items_by_layer
        self.limits = limits
        self.headings = _heading_tokens()
        self.taken: dict[str, list[layers.Item]] = {layer: [] for layer in LAYERS}
        self.budget: dict[str, dict[str, int]] = {}
        self.shown_events: set[str] = set()
        self.counted: set[int] = set()  # ids of the items counted
        self.said: set[str] = set()  # what the knowledge, lessons and memories taken say

    def left(self, layer: str) -> int:
        return self.budget[layer]["allotted"] - self.budget[layer]["used"]

    def fill(self, layer: str, allotted: int) -> None:
        """Allot `layer` `allotted` tokens in all and take its next items while they fit."""
        budget = self.budget.setdefault(layer, {"allotted": 0, "used": 0})
        budget["allotted"] = allotted
        taken, limit = self.taken[layer], self.limits[layer]
        chosen = {id(i) for i in taken}
        items = [
            i
            for i in self.items.get(layer, [])
            if id(i) not in chosen
            and not (i.kind == "event" and i.id in self.shown_events)
            and not (layer in _SAID_ONCE and said(i.line) in self.said)
        ]
        for position, item in enumerate(items):
            if len(taken) >= limit:
                break
            if id(item) not in self.counted:
                batch = [i for i in items[position : position + limit - len(taken)]]
                batch = [i for i in batch if id(i) not in self.counted]
                for each, count in zip(
                    batch, count_tokens_many([i.line for i in batch]), strict=True
                ):
                    each.tokens = count
                    self.counted.add(id(each))
            says = said(item.line) if layer in _SAID_ONCE else ""
            if says and says in self.said:  # said by an item taken before, in this layer too
                continue
            heading = 0 if taken else self.headings[layer]
            if budget["used"] + item.tokens + heading > budget["allotted"] and item.short:
                short_tokens = count_tokens(item.short)
                if budget["used"] + short_tokens + heading <= budget["allotted"]:
                    item.line, item.short, item.tokens = item.short, "", short_tokens
            if budget["used"] + item.tokens + heading <= budget["allotted"]:
                taken.append(item)
                budget["used"] += item.tokens + heading
                if item.kind == "event":
                    self.shown_events.add(item.id)
                    self.shown_events.update(item.reasons.get("context", ()))
                if says:  # the full line's words, and the short form's when it was taken
                    self.said.update({says, said(item.line)})


def render(items: list[layers.Item]) -> str:
    sections = []
    for layer in LAYERS:
        lines = [item.line for item in items if item.layer == layer]
        if lines:
            sections.append(layers.HEADINGS[layer] + "\n" + "\n".join(lines))
    return "\n\n".join(sections)


@PACK_LATENCY.time()
def compile_pack(
    spirit: Spirit,
    request: PackRequest,
    *,
    actor: Actor | None = None,
    persist: bool = True,
    now: datetime | None = None,
) -> Pack:
    problems = _problems(request)
    if problems:
        raise ValidationFailed(
            "Invalid input: " + ", ".join(sorted(problems)) + ".", details=problems
        )
    now = now or timezone.now()
    preset = PRESETS[request.preset]
    max_tokens = request.max_tokens or spirit.effective_config["retrieval"]["pack_max_tokens"]
    limits = {**preset.limits, **request.limits}
    weights = {**preset.weights, **request.weights}
    if not any(weights[k] > 0 for k in WEIGHT_NAMES if request.query or k != "similarity"):
        raise ValidationFailed(
            "Invalid input: weights.", details={"weights": ["At least one weight must be > 0."]}
        )
    query = (request.query or "").strip() or None
    session_id = request.session_id or None

    retrieval = layers.Retrieval(spirit, query, limits) if query else None  # embeds meanwhile
    items_by_layer = {
        "identity": identity.identity_items(spirit)[: limits["identity"]],
        "session": layers.session_items(spirit, session_id, limits["session"]),
        "pending": layers.pending_items(spirit, session_id, limits["pending"]),
    }
    candidates = retrieval.candidates() if retrieval is not None else None
    items_by_layer.update(
        layers.scored_items(spirit, candidates=candidates, limits=limits, weights=weights, now=now)
    )
    items_by_layer["past"] = (
        past.past_items(spirit, candidates["past"], limits["past"]) if candidates else []
    )
    chosen, budget = _allot(items_by_layer, limits, preset.shares, max_tokens)
    text = render(chosen)
    # The tokenizer splits at whitespace first, so the text's tokens are exactly its headings'
    # and lines' tokens (the tests check it against count_tokens(text)).
    token_count = sum(b["used"] for b in budget.values())
    pack = Pack(
        spirit_id=str(spirit.pk),
        preset=preset.name,
        query=query,
        session_id=session_id,
        max_tokens=max_tokens,
        token_count=token_count,
        settings={"limits": limits, "weights": weights},
        budget=budget,
        items=chosen,
        text=text,
        created_at=now,
    )
    if persist:
        _persist(spirit, pack, actor)
    return pack


def item_dict(item: layers.Item) -> dict[str, Any]:
    return {
        "layer": item.layer,
        "kind": item.kind,
        "id": item.id,
        "score": item.score,
        "reasons": item.reasons,
        "tokens": item.tokens,
        "text": item.line,
    }


def _persist(spirit: Spirit, pack: Pack, actor: Actor | None) -> None:
    row = ContextPack.objects.create(
        spirit=spirit,
        created_at=pack.created_at,
        preset=pack.preset,
        query=pack.query or "",
        session_id=pack.session_id or "",
        max_tokens=pack.max_tokens,
        token_count=pack.token_count,
        settings=pack.settings,
        budget=pack.budget,
        items=[item_dict(i) for i in pack.items],
        text=pack.text,
        actor_type=actor.type if actor else "",
        actor_id=actor.id if actor else "",
    )
    pack.id = str(row.pk)
    memory_ids = [i.id for i in pack.items if i.kind == "memory"]
    enqueue_pack_use(spirit.pk, memory_ids, pack.created_at)
