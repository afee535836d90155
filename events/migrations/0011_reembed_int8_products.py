"""The offline embedder's vectors changed (its products run in int8 arithmetic: "-dq", see
elephantasm/ai/quantization.py): events embedded by the previous one are set to be enriched
again, and the pipeline's sweep embeds them in the background, as `manage.py reembed` would.
Until then the vector list leaves them out; the text list finds them."""

from django.db import migrations

PREVIOUS_MODEL = "all-MiniLM-L6-v2-onnx-int8"


def mark_for_enrichment(apps, schema_editor):
    event = apps.get_model("events", "Event")
    event._base_manager.filter(vector__model=PREVIOUS_MODEL).update(enriched_at=None)


class Migration(migrations.Migration):
    dependencies = [("events", "0010_event_search_vector")]

    operations = [
        migrations.RunPython(mark_for_enrichment, migrations.RunPython.noop, elidable=True)
    ]
