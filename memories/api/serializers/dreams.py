"""Dream sessions and their actions, as the API shows them (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from elephantasm.api.fields import RejectUnknownFieldsMixin
from memories.models import DreamAction, DreamSession

from .common import ReasonSerializer


class DreamSessionSerializer(serializers.ModelSerializer):
    spirit_id = serializers.UUIDField(read_only=True)
    requested_by = serializers.SerializerMethodField()
    action_count = serializers.SerializerMethodField()

    class Meta:
        model = DreamSession
        fields = [
            "id",
            "spirit_id",
            "trigger",
            "status",
            "requested_by",
            "stats",
            "action_count",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "rolled_back_at",
            "rolled_back_by",
        ]
        read_only_fields = fields

    def get_requested_by(self, session: DreamSession) -> dict[str, str]:
        return {"type": session.actor_type, "id": session.actor_id, "label": session.actor_label}

    def get_action_count(self, session: DreamSession) -> int:
        count = getattr(session, "action_count", None)
        return count if count is not None else session.actions.count()


class DreamActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DreamAction
        fields = ["id", "memory_id", "kind", "before", "after", "reasoning", "related_ids"]
        read_only_fields = fields


class DreamRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Body of POST /spirits/{id}/dreams/: empty (or no body); any key is a 400."""


class DreamRollbackSerializer(ReasonSerializer):
    """Body of POST /dreams/{id}/rollback/: an optional reason, recorded in the audit log."""
