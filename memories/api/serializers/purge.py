"""Shapes of the spirit purge (POST /spirits/{spirit_id}/purge/)."""

from __future__ import annotations

from rest_framework import serializers

from elephantasm.api.fields import RejectUnknownFieldsMixin, StrictCharField


class SpiritPurgeSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The confirmation of a purge: any other key is refused by name, as in every body."""

    confirm = StrictCharField(
        help_text="The spirit's name or id, to confirm a permanent deletion.", max_length=255
    )


class SpiritPurgeResultSerializer(serializers.Serializer):
    spirit_id = serializers.UUIDField()
    deleted = serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        help_text="Rows deleted per model (app_label.Model).",
    )
    audit_scrubbed = serializers.IntegerField(
        min_value=0, help_text="Audit entries reduced to ids, actions and times."
    )
