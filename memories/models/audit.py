from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    RESTORE = "restore", "Restore"
    PIN = "pin", "Pin"
    UNPIN = "unpin", "Unpin"
    ARCHIVE = "archive", "Archive"
    DISPUTE = "dispute", "Mark disputed"
    SUPERSEDE = "supersede", "Supersede"
    MERGE = "merge", "Merge"
    SPLIT = "split", "Split"
    CLOSE = "close", "Close (no longer valid)"
    REVISE = "revise", "Revise"
    PURGE = "purge", "Purge"
    ROLLBACK = "rollback", "Roll back"


class AuditEntry(models.Model):
    """One change to a memory, knowledge item, lesson or identity. Append-only.

    No foreign keys: an entry outlives what it describes. A trigger (migration 0003) makes the
    database refuse UPDATE and DELETE (and TRUNCATE, unless a connection opts in to it with
    `elephantasm.allow_truncate`, as only the test suite's flush does).
    """

    id = models.BigAutoField(primary_key=True)
    object_type = models.CharField(max_length=32)  # "memory", "knowledge", "lesson", "identity"
    object_id = models.UUIDField()
    spirit_id = models.UUIDField()
    team_id = models.UUIDField()
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    actor_type = models.CharField(max_length=16)  # "user", "api_key", "system"
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)
    related_ids = models.JSONField(default=list, blank=True)
    # For one operation touching several objects (merge, split, supersede): {id: state after}.
    related_after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=False)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["object_type", "object_id", "created_at"], name="audit_object_idx"
            ),
            models.Index(fields=["spirit_id", "-created_at"], name="audit_spirit_idx"),
            GinIndex(fields=["related_after"], name="audit_related_after_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"
