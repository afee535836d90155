"""Routes of the memories app.

`register(router)` adds the viewsets (memories, knowledge, lessons) to the project's router;
`urlpatterns` holds the explicit paths nested under other apps' resources. Both are mounted
under /api/v1/, the explicit paths before the router so they win.
"""

from django.urls import path

from .views.dreams import DreamViewSet, SpiritDreamsViewSet
from .views.events import EventMemoriesViewSet
from .views.identity import IdentityViewSet
from .views.knowledge import KnowledgeViewSet
from .views.lessons import LessonViewSet
from .views.memories import MemoryViewSet
from .views.packs import SpiritPacksViewSet
from .views.pipeline import PipelineViewSet, SynthesizeViewSet
from .views.purge import SpiritPurgeViewSet
from .views.search import SpiritSearchViewSet
from .views.stats import SpiritStatsViewSet


def register(router) -> None:
    """Register this app's viewsets on the project's API router."""
    router.register("memories", MemoryViewSet, basename="memory")
    router.register("knowledge", KnowledgeViewSet, basename="knowledge")
    router.register("lessons", LessonViewSet, basename="lesson")
    router.register("dreams", DreamViewSet, basename="dream")


urlpatterns = [
    path(
        "spirits/<uuid:spirit_id>/identity/",
        IdentityViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"}),
        name="spirit-identity",
    ),
    path(
        "spirits/<uuid:spirit_id>/identity/history/",
        IdentityViewSet.as_view({"get": "history"}),
        name="spirit-identity-history",
    ),
    path(
        "spirits/<uuid:spirit_id>/dreams/",
        SpiritDreamsViewSet.as_view({"get": "list", "post": "create"}),
        name="spirit-dreams",
    ),
    path(
        "spirits/<uuid:spirit_id>/pipeline/",
        PipelineViewSet.as_view({"get": "retrieve"}),
        name="spirit-pipeline",
    ),
    path(
        "spirits/<uuid:spirit_id>/stats/",
        SpiritStatsViewSet.as_view({"get": "retrieve"}),
        name="spirit-stats",
    ),
    path(
        "spirits/<uuid:spirit_id>/synthesize/",
        SynthesizeViewSet.as_view({"post": "create"}),
        name="spirit-synthesize",
    ),
    path(
        "spirits/<uuid:spirit_id>/purge/",
        SpiritPurgeViewSet.as_view({"post": "purge"}),
        name="spirit-purge",
    ),
    path(
        "spirits/<uuid:spirit_id>/search/",
        SpiritSearchViewSet.as_view({"post": "create"}),
        name="spirit-search",
    ),
    path(
        "spirits/<uuid:spirit_id>/pack/",
        SpiritPacksViewSet.as_view({"post": "create"}),
        name="spirit-pack",
    ),
    path(
        "spirits/<uuid:spirit_id>/packs/",
        SpiritPacksViewSet.as_view({"get": "list"}),
        name="spirit-packs",
    ),
    path(
        "spirits/<uuid:spirit_id>/packs/latest/",
        SpiritPacksViewSet.as_view({"get": "latest"}),
        name="spirit-packs-latest",
    ),
    path(
        "events/<uuid:event_id>/memories/",
        EventMemoriesViewSet.as_view({"get": "list"}),
        name="event-memories",
    ),
]
