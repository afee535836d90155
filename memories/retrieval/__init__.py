"""Hybrid retrieval: `search(spirit, SearchQuery(...))` (see `search` for how it works)."""

from .fusion import Reasons, Weights, fuse
from .hits import SearchHit
from .query import KINDS, SearchQuery
from .search import SearchResult, search

__all__ = [
    "KINDS",
    "Reasons",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "Weights",
    "fuse",
    "search",
]
