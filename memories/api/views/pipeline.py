"""GET /spirits/{spirit_id}/pipeline/: what is pending, what ran last, what failed; and
POST /spirits/{spirit_id}/synthesize/: a synthesis now, whatever the gate says.

Scoped like every viewset: a foreign, deleted or unknown spirit is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from elephantasm.api.viewsets import TeamScopedViewSet
from pipeline.status import pipeline_status
from pipeline.synthesis import synthesis_request
from spirits.models import Spirit

from .base import NOT_FOUND


class FailureSerializer(serializers.Serializer):
    step = serializers.CharField()
    task = serializers.CharField()
    task_id = serializers.CharField()
    error = serializers.CharField()
    final = serializers.BooleanField(help_text="False: the task will be retried.")
    at = serializers.DateTimeField()


class LanguageModelUsageSerializer(serializers.Serializer):
    calls_24h = serializers.IntegerField()
    failed_24h = serializers.IntegerField()
    tokens_24h = serializers.IntegerField()
    last_error = serializers.DictField(allow_null=True)


class PipelineStatusSerializer(serializers.Serializer):
    spirit_id = serializers.UUIDField()
    generated_at = serializers.DateTimeField()
    steps = serializers.DictField(
        child=serializers.DictField(),
        help_text="One entry per step (enrichment, embedding, synthesis, extraction, identity, "
        "dreamer): `pending`, `last_run_at`, `last_failure_at`, and the step's own details.",
    )
    language_model = LanguageModelUsageSerializer()
    failures = FailureSerializer(many=True, help_text="The newest failures, newest first.")


class PipelineViewSet(TeamScopedViewSet):
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = PipelineStatusSerializer
    filter_backends = []

    @extend_schema(
        summary="A spirit's pipeline: pending work, last runs, failures",
        responses={200: PipelineStatusSerializer, 404: NOT_FOUND},
    )
    def retrieve(self, request, spirit_id=None):
        return Response(PipelineStatusSerializer(pipeline_status(self.get_object())).data)


class SynthesisQueuedSerializer(serializers.Serializer):
    spirit_id = serializers.UUIDField()
    pending_events = serializers.IntegerField(
        min_value=0, help_text="Events waiting for synthesis when the run was queued."
    )


class SynthesizeViewSet(TeamScopedViewSet):
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = SynthesisQueuedSerializer
    filter_backends = []

    @extend_schema(
        summary="Synthesize the spirit's pending events now",
        description="Queues a synthesis run on the `synthesis` queue whatever the gate says "
        "(the gate decides on its own otherwise: see GET /spirits/{id}/pipeline/). Answers 202; "
        "the memories appear once a worker ran it. An empty body.",
        request=None,
        responses={202: SynthesisQueuedSerializer, 404: NOT_FOUND},
    )
    def create(self, request, spirit_id=None):
        spirit = self.get_object()
        pending = synthesis_request(spirit=spirit)
        body = {"spirit_id": spirit.pk, "pending_events": pending}
        return Response(SynthesisQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)
