"""The offline embedder's vectors changed (its products run in int8 arithmetic: "-dq", see
elephantasm/ai/quantization.py): the rows embedded by the previous one are marked stale, and the
pipeline's sweep embeds them again in the background, as `manage.py reembed` would. Until then
the vector list leaves them out (a query is compared only with vectors of its own model); the
text list finds them."""

from django.db import migrations

PREVIOUS_MODEL = "all-MiniLM-L6-v2-onnx-int8"


def mark_stale(apps, schema_editor):
    for name in ("Memory", "Knowledge", "Lesson"):
        model = apps.get_model("memories", name)
        model._base_manager.filter(embedding_model=PREVIOUS_MODEL, embedding_stale=False).update(
            embedding_stale=True
        )


class Migration(migrations.Migration):
    dependencies = [("memories", "0010_newest_first_indexes")]

    operations = [migrations.RunPython(mark_stale, migrations.RunPython.noop, elidable=True)]
