"""POST /api/v1/spirits/{spirit_id}/search/: hybrid search of one spirit's memory.

The body is checked for shape here; the rules (which filters fit which kinds, weights) are the
service's (memories.retrieval). The spirit is looked up through the caller's teams: a foreign,
deleted or unknown spirit is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from elephantasm.ai.http import PermanentProviderError, TransientProviderError
from elephantasm.api.errors import ApplicationError, ErrorCode
from elephantasm.api.fields import (
    RejectUnknownFieldsMixin,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    UtcDateTimeField,
)
from elephantasm.api.schema import rules
from elephantasm.api.viewsets import TeamScopedViewSet
from events.api.fields import CUSTOM_EVENT_TYPE_SCHEMA
from events.models import EVENT_TYPE_RULE, is_custom_event_type
from memories.retrieval import SearchQuery, search
from memories.retrieval.query import (
    ALL_STATUSES,
    ALL_TYPES,
    K_MAX,
    KINDS,
    QUERY_MAX_CHARS,
    RRF_K,
    RRF_K_MAX,
    TEXT_MATCHES,
    TIERS,
)
from spirits.models import Spirit
from teams.models import Role

from ..serializers.common import named_choice_field
from .base import ERRORS

LIST_MAX = 50
WEIGHT_HELP = "0-1; default: the spirit's config (retrieval.vector_weight / text_weight)."


class EmbedderUnavailable(ApplicationError):
    code = ErrorCode.SERVICE_UNAVAILABLE
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


KindField = named_choice_field("SearchKindEnum", _choices(KINDS))
_KnownTypeField = named_choice_field("SearchTypeEnum", _choices(ALL_TYPES))


@extend_schema_field(
    {
        "description": f"A known type (of events, memories or knowledge) or a custom event type: "
        f"{EVENT_TYPE_RULE}.",
        "example": "message.in",
        "anyOf": [{"type": "string", "enum": list(ALL_TYPES)}, CUSTOM_EVENT_TYPE_SCHEMA],
    }
)
class TypeField(_KnownTypeField):
    """A known event, memory or knowledge type, or a custom event type."""

    def to_internal_value(self, data):
        if is_custom_event_type(data):
            return data
        return super().to_internal_value(data)


TierField = named_choice_field("SearchTierEnum", _choices(TIERS))
StatusField = named_choice_field("SearchStatusEnum", _choices(ALL_STATUSES))
TextMatchField = named_choice_field("SearchTextMatchEnum", _choices(TEXT_MATCHES))
HitKindField = named_choice_field(
    "SearchHitKindEnum", _choices(("event", "memory", "knowledge", "lesson"))
)


def _list(child, help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=child, required=False, max_length=LIST_MAX, help_text=help_text
    )


class SearchSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    query = StrictCharField(max_length=QUERY_MAX_CHARS, help_text="What to look for.")
    k = StrictIntegerField(
        required=False, default=10, min_value=1, max_value=K_MAX, help_text="Hits returned."
    )
    kinds = serializers.ListField(
        child=KindField(),
        required=False,
        allow_empty=False,
        help_text="Kinds searched (default all): events, memories, knowledge, lessons.",
    )
    types = _list(
        TypeField(), "Event types, memory types or knowledge types; keeps the kinds owning them."
    )
    tiers = _list(TierField(), "Memory tiers (memories only).")
    statuses = _list(
        StatusField(),
        "Memory or lesson statuses (exactly these; default: all but archived, superseded "
        "and retired).",
    )
    tags = _list(StrictCharField(max_length=64), "Memories with any of these tags.")
    session_id = StrictCharField(
        required=False, max_length=255, help_text="Events of this session, memories made from them."
    )
    occurred_after = UtcDateTimeField(
        required=False,
        help_text="Events by occurred_at, memories by their span, knowledge and lessons by "
        "created_at. ISO 8601; naive means UTC.",
    )
    occurred_before = UtcDateTimeField(required=False)
    include_archived = StrictBooleanField(
        required=False,
        default=False,
        help_text="Also archived and superseded memories, retired lessons, closed knowledge.",
    )
    vector_weight = StrictFloatField(
        required=False, min_value=0, max_value=1, help_text=WEIGHT_HELP
    )
    text_weight = StrictFloatField(required=False, min_value=0, max_value=1, help_text=WEIGHT_HELP)
    rrf_k = StrictIntegerField(required=False, default=RRF_K, min_value=1, max_value=RRF_K_MAX)
    text_match = TextMatchField(
        required=False,
        default="any",
        help_text="any (default): texts holding any of the query's words, ranked by BM25 (rarer "
        'and more words first; stop words ignored); all: web-search syntax, every word ("phrases", '
        "-not, or), ranked by ts_rank_cd.",
    )


class SearchReasonsSerializer(serializers.Serializer):
    vector_rank = serializers.IntegerField(allow_null=True)
    vector_similarity = serializers.FloatField(allow_null=True, help_text="1 - cosine distance.")
    text_rank = serializers.IntegerField(allow_null=True)
    text_score = serializers.FloatField(allow_null=True, help_text="ts_rank_cd.")


class SearchHitSerializer(serializers.Serializer):
    kind = HitKindField()
    id = serializers.UUIDField()
    score = serializers.FloatField(help_text="Fused: sum of weight / (rrf_k + rank).")
    reasons = SearchReasonsSerializer(source="reasons.as_dict")
    text = serializers.CharField(help_text="Content (lessons: statement).")
    summary = serializers.CharField(help_text="Summary (lessons: rationale).")
    subject = serializers.CharField(help_text="Memory subject, knowledge topic.")
    type = serializers.CharField(allow_null=True)
    tier = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    session_id = serializers.CharField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    importance = serializers.FloatField(allow_null=True)
    occurred_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)


class SearchWeightsSerializer(serializers.Serializer):
    vector = serializers.FloatField()
    text = serializers.FloatField()
    rrf_k = serializers.IntegerField()


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField(source="query.text")
    kinds = serializers.ListField(child=KindField(), help_text="The kinds the filters allowed.")
    weights = SearchWeightsSerializer()
    embedding_model = serializers.CharField(allow_null=True)
    text_query = serializers.CharField(allow_null=True, help_text="The tsquery used.")
    results = SearchHitSerializer(source="hits", many=True)


EXAMPLE = OpenApiExample(
    "Memories and events about an editor",
    request_only=True,
    value={"query": "which code editor does the user like", "k": 5, "kinds": ["memories"]},
)


class SpiritSearchViewSet(TeamScopedViewSet):
    required_roles = {"create": Role.VIEWER}  # searching reads
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = SearchSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        summary="Hybrid search of a spirit's memory",
        description="Embeds the query, takes per kind the nearest items (pgvector HNSW, cosine) "
        "and the best full-text matches (BM25 over the query's words; ts_rank_cd with "
        "text_match 'all'), and fuses both lists by weighted reciprocal rank fusion: score = "
        "vector_weight / (rrf_k + vector_rank) + text_weight / (rrf_k + text_rank). Ranks are "
        "across kinds (one vector list, one text list). A memory, fact or lesson made from an "
        "item listed above it moves down. Each hit says why it matched. A filter keeps only "
        "the kinds having its attribute.",
        request=SearchSerializer,
        responses={200: SearchResponseSerializer, **ERRORS},
        extensions=rules(
            types="Types of the kinds searched.",
            statuses="Statuses of the kinds searched.",
            tiers="Applies to memories: search them.",
            tags="Applies to memories: search them.",
            session_id="Applies to events and memories: search one of them.",
            occurred_after="Not later than occurred_before.",
            non_field_errors="A kind searched has every attribute filtered; vector_weight and "
            "text_weight (given or from the spirit's config) are not both 0.",
        ),
        examples=[EXAMPLE],
    )
    def create(self, request, spirit_id=None):
        spirit = self.get_object()
        body = SearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        query = SearchQuery(
            text=data.pop("query"),
            **{k: tuple(v) for k, v in data.items() if isinstance(v, list)},
            **{k: v for k, v in data.items() if not isinstance(v, list)},
        )
        try:
            result = search(spirit, query)
        except (TransientProviderError, PermanentProviderError) as exc:
            raise EmbedderUnavailable(
                "The embedding provider failed; try again, or search text only (vector_weight 0)."
            ) from exc
        return Response(SearchResponseSerializer(result).data)
