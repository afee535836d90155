"""Routes of the spirits app.

`register(router)` adds the spirit viewset to the project's router; `urlpatterns` holds the
explicit paths (export and import), mounted under /api/v1/ before the router so they win:
`spirits/import/` is never read as a spirit's id (the detail route only matches UUIDs anyway).
"""

from django.urls import path

from .portability import SpiritExportViewSet, SpiritImportViewSet
from .views import SpiritViewSet


def register(router) -> None:
    """Register this app's viewsets on the project's API router."""
    router.register("spirits", SpiritViewSet, basename="spirit")


urlpatterns = [
    path(
        "spirits/import/",
        SpiritImportViewSet.as_view({"post": "create"}),
        name="spirit-import",
    ),
    path(
        "spirits/<uuid:spirit_id>/export/",
        SpiritExportViewSet.as_view({"get": "export"}),
        name="spirit-export",
    ),
]
