from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("memories", "0004_llm_call"),
    ]

    operations = [
        migrations.AddField(
            model_name="memory",
            name="extracted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
