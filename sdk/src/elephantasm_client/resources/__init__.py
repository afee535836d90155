"""The API's resources, each written once for the sync and the async client."""

from .curated import KnowledgeItems, Lessons, Memories
from .events import Events, Sessions
from .spirit_memory import Dreams, IdentityResource, Packs
from .spirits import Spirits

__all__ = [
    "Dreams",
    "Events",
    "IdentityResource",
    "KnowledgeItems",
    "Lessons",
    "Memories",
    "Packs",
    "Sessions",
    "Spirits",
]
