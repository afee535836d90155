from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """pgvector, for the embeddings of events, memories, knowledge and lessons."""

    initial = True
    dependencies = []
    operations = [VectorExtension()]
