"""Export and import of a whole spirit (admin role; the format: docs/portability.md).

- GET  /spirits/{spirit_id}/export/   the spirit as one JSON document, streamed as a download
  (`?embeddings=true` adds the vectors); a foreign, deleted or unknown spirit is a 404.
- POST /spirits/import/               a new spirit of the caller's team from such a document:
  the JSON body, or a multipart upload of it as `file`; `?team=<slug>` when the caller has
  several teams, `?name=` to name the copy. 201 with the new spirit and the counts; a document
  that cannot be imported is a 400 naming every problem, and nothing is written.

Both are thin: spirits.portability does the work.
"""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from elephantasm.api.errors import ValidationFailed
from elephantasm.api.fields import StrictCharField
from elephantasm.api.filters import query_flag
from elephantasm.api.parsers import JSONParser
from elephantasm.api.viewsets import TeamScopedViewSet
from spirits.models import Spirit
from spirits.portability.export import export_chunks, export_filename
from spirits.portability.importer import spirit_import
from spirits.selectors import is_team_slug, team_for_new_spirit
from teams.actors import Actor
from teams.models import Role, Team

from .document_schema import IMPORT_RULES, document_schema
from .serializers import SpiritSerializer

EMBEDDINGS = OpenApiParameter(
    "embeddings",
    OpenApiTypes.BOOL,
    description="Include the vectors of events, memories, knowledge and lessons (default false: "
    "the importer has them embedded again).",
)


class ImportParamsSerializer(serializers.Serializer):
    """The query of an import; an empty value is refused like a wrong one."""

    team = StrictCharField(
        required=False,
        max_length=64,
        help_text="The slug of the team the copy goes to (needed only when you have several "
        "teams).",
    )
    name = StrictCharField(
        required=False, max_length=255, help_text="The copy's name (default: the document's)."
    )


DENIED = OpenApiResponse(description="Needs the admin role: `permission_denied`.")


class ImportResultSerializer(serializers.Serializer):
    spirit = SpiritSerializer()
    imported_from = serializers.DictField(help_text="format, version, spirit_id, name, exported_at")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Rows written.")
    reembedding = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows left to the pipeline to embed, per kind."
    )


@extend_schema(tags=["spirits"])
class SpiritExportViewSet(TeamScopedViewSet):
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = SpiritSerializer  # (OPTIONS describes the spirit; the answer is a file)
    filter_backends = []
    required_roles = {"export": Role.ADMIN}
    archived_spirit_actions = frozenset({"export"})  # an export only reads

    @extend_schema(
        summary="Export a spirit as one JSON document (admin)",
        description="Streams the spirit, its sessions, events, memories (tags, provenance, "
        "links), knowledge, lessons, identity with its revisions and dreams with their actions, "
        "soft-deleted rows included. See docs/portability.md for the format.",
        parameters=[EMBEDDINGS],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="A bad `embeddings`: `validation_error`."),
            403: DENIED,
            404: OpenApiResponse(description="No such spirit among your teams: `not_found`."),
        },
    )
    def export(self, request, spirit_id=None):
        spirit = self.get_object()
        embeddings = query_flag(request, "embeddings")
        response = StreamingHttpResponse(
            export_chunks(spirit=spirit, embeddings=embeddings),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{export_filename(spirit)}"'
        return response


@extend_schema(tags=["spirits"])
class SpiritImportViewSet(TeamScopedViewSet):
    queryset = Spirit.objects.all()
    team_field = "team"
    serializer_class = ImportResultSerializer
    filter_backends = []
    parser_classes = [JSONParser, MultiPartParser]
    required_roles = {"create": Role.ADMIN}

    def team_target_id(self):
        """The copy's team: `?team=<slug>`, when it is one of the caller's teams."""
        slug = self.request.query_params.get("team")
        if not is_team_slug(slug):
            return None
        return (
            Team.objects.filter(slug=slug, id__in=self.readable_team_ids)
            .values_list("id", flat=True)
            .first()
        )

    @extend_schema(
        summary="Import a spirit from an export (admin)",
        description="Creates a new spirit from the document, every id new, in one transaction. "
        "Send the document as the JSON body, or as the multipart field `file`.",
        parameters=[ImportParamsSerializer],
        request={
            "application/json": document_schema(),
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
        },
        extensions=IMPORT_RULES,
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(
                description="Not an importable document (`validation_error`, details by JSON "
                "path) or not JSON (`parse_error`); nothing is written."
            ),
            403: DENIED,
        },
    )
    def create(self, request):
        params = ImportParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        team = team_for_new_spirit(team_ids=self.team_ids, slug=params.validated_data.get("team"))
        result = spirit_import(
            document=self._document(request),
            team=team,
            actor=Actor.from_request(request),
            name=params.validated_data.get("name"),
        )
        body = {
            "spirit": SpiritSerializer(result.spirit).data,
            "imported_from": result.source,
            "counts": result.counts,
            "reembedding": result.reembedding,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def _document(self, request):
        if not request.content_type.startswith("multipart/"):
            return request.data
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed(
                "Invalid input: file.", details={"file": ["Upload the export as `file`."]}
            )
        try:
            return json.load(upload, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise ValidationFailed(
                "Invalid input: file.", details={"file": [f"Not a JSON document: {exc}"]}
            ) from exc


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
