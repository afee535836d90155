"""Pruning reads only old settled deliveries, through their own index (not the whole table)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from teams.webhooks.models import WebhookDelivery, WebhookStatus

pytestmark = pytest.mark.django_db


def test_the_prune_query_can_use_the_settled_deliveries_index():
    old = WebhookDelivery.objects.filter(created_at__lt=timezone.now() - timedelta(days=30))
    query = old.exclude(status=WebhookStatus.PENDING).values("pk")
    sql, params = query.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "webhook_settled_created_idx" in plan, plan
