"""Input validation and output shapes of the events API. No business logic: services decide."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.envelope import ApiErrorSerializer
from elephantasm.api.fields import (
    AwareDateTimeField,
    MetadataField,
    RejectUnknownFieldsMixin,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictUUIDField,
)
from elephantasm.validators import TEXT_MAX_CHARS
from events.models import (
    EVENT_BOOKKEEPING_FIELDS,
    EVENT_RECORDED_FIELDS,
    Event,
    Session,
)
from events.services import ItemStatus

from .fields import EventTypeField

INT32_MAX = 2**31 - 1

# --- Input -----------------------------------------------------------------------------------


class EventItemSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """One event to record (an item of a bulk call; the single create adds spirit_id)."""

    event_type = EventTypeField()
    content = StrictCharField(help_text="What happened. Required, at most EVENT_CONTENT_MAX_CHARS.")
    role = StrictCharField(max_length=64, required=False, allow_blank=True)
    author = StrictCharField(max_length=255, required=False, allow_blank=True)
    meta_summary = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_CHARS)
    occurred_at = AwareDateTimeField(
        required=False, help_text="ISO 8601 with a time zone; defaults to now."
    )
    session_id = StrictCharField(
        max_length=255, required=False, allow_blank=True, help_text="Empty: no session."
    )
    metadata = MetadataField(required=False, help_text="A JSON object.")
    source_uri = StrictCharField(max_length=2048, required=False, allow_blank=True)
    dedupe_key = StrictCharField(
        max_length=255,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Unique per spirit. Without one, a key is derived (see Dedupe and retries).",
    )
    importance_score = StrictFloatField(
        min_value=0.0, max_value=1.0, required=False, allow_null=True
    )
    token_count = StrictIntegerField(
        min_value=0,
        max_value=INT32_MAX,
        required=False,
        help_text="Estimated from the content when not given.",
    )

    def validate_content(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        limit = settings.EVENT_CONTENT_MAX_CHARS
        if len(value) > limit:
            raise serializers.ValidationError(
                f"Ensure this field has no more than {limit} characters."
            )
        return value


class EventCreateSerializer(EventItemSerializer):
    """One event to record for the spirit named by spirit_id."""

    spirit_id = StrictUUIDField()


class EventBulkItemSerializer(EventItemSerializer):
    """A bulk item may repeat the call's spirit_id, but may not name another spirit."""

    spirit_id = StrictUUIDField(required=False, help_text="Optional; must equal the top level's.")

    def validate(self, attrs):
        spirit_id = attrs.pop("spirit_id", None)
        if spirit_id is not None and spirit_id != self.context.get("spirit_id"):
            raise serializers.ValidationError(
                {
                    "spirit_id": [
                        "Must equal the top-level spirit_id: a bulk call writes one spirit."
                    ]
                }
            )
        return attrs


@extend_schema_field(EventBulkItemSerializer(many=True))
class _BulkItemsField(serializers.ListField):
    """The raw items: each is validated on its own, so one bad item fails alone."""


class EventBulkSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A bulk call: the spirit, then the events (each validated on its own)."""

    spirit_id = StrictUUIDField(help_text="The spirit every event of the call belongs to.")
    events = _BulkItemsField(help_text="1 to EVENTS_BULK_MAX (1,000) events.")

    def schema_overrides(self) -> dict:
        # Each item is checked on its own: one that is not an event gets an error result (the
        # call is still a 200), so the schema lets any value through as an item.
        item = {
            "description": "An event (EventBulkItemRequest). An item that is not a valid event "
            "is answered with an `error` result; the other items are still recorded.",
            "anyOf": [{"$ref": "#/components/schemas/EventBulkItemRequest"}, {}],
        }
        return {"events": {"minItems": 1, "maxItems": settings.EVENTS_BULK_MAX, "items": item}}

    def validate_events(self, value: list) -> list:
        if not value:
            raise serializers.ValidationError("Send at least one event.")
        limit = settings.EVENTS_BULK_MAX
        if len(value) > limit:
            raise serializers.ValidationError(
                f"Send at most {limit} events per call (got {len(value)})."
            )
        return value


class EventUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """PATCH: only the curation fields change; any other field is refused by name."""

    unknown_field_message = "This field cannot be updated."

    meta_summary = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_CHARS)
    importance_score = StrictFloatField(
        min_value=0.0, max_value=1.0, required=False, allow_null=True
    )
    metadata = MetadataField(required=False)
    is_deleted = StrictBooleanField(
        required=False,
        help_text="true soft-deletes the event (as DELETE does), false restores it (as POST "
        ".../restore/ does); with other fields, all apply in one transaction.",
    )


# --- Output ----------------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    spirit_id = serializers.UUIDField(read_only=True)
    metadata = serializers.DictField(read_only=True)
    is_deleted = serializers.BooleanField(read_only=True, help_text="Whether deleted_at is set.")

    class Meta:
        model = Event
        fields = [
            "id",
            "spirit_id",
            *EVENT_RECORDED_FIELDS,
            *EVENT_BOOKKEEPING_FIELDS,
            "is_deleted",
        ]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    spirit_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "spirit_id",
            "session_id",
            "title",
            "status",
            "event_count",
            "token_count",
            "input_token_count",
            "output_token_count",
            "first_event_at",
            "last_event_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EventCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


# --- Error and bulk result shapes (for the schema; views build these bodies directly) ---------


class DuplicateEventDetailsSerializer(serializers.Serializer):
    existing_id = serializers.UUIDField(help_text="The event that already has this dedupe key.")


class DuplicateEventErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["duplicate_event"])
    message = serializers.CharField()
    details = DuplicateEventDetailsSerializer()


class DuplicateEventResponseSerializer(serializers.Serializer):
    error = DuplicateEventErrorSerializer()


class EventBulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in the request.")
    status = serializers.ChoiceField(choices=[s.value for s in ItemStatus])
    id = serializers.UUIDField(
        required=False, help_text="created: the new event; duplicate: the existing one."
    )
    error = ApiErrorSerializer(required=False, help_text="Only when status is error.")


class EventBulkResponseSerializer(serializers.Serializer):
    results = EventBulkResultSerializer(many=True)
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.IntegerField()
