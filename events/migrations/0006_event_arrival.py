"""Events get `arrival`: the order they arrived in, from a sequence (ingest numbers each batch in
its input order), to break ties on occurred_at."""

from django.db import migrations, models

NEXT_ARRIVAL = models.Func(
    models.Value("events_event_arrival_seq"),
    function="nextval",
    output_field=models.BigIntegerField(),
)


class Migration(migrations.Migration):
    dependencies = [("events", "0005_event_content_search")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS events_event_arrival_seq",
            "DROP SEQUENCE IF EXISTS events_event_arrival_seq",
        ),
        migrations.AddField(
            model_name="event",
            name="arrival",
            field=models.BigIntegerField(db_default=NEXT_ARRIVAL, editable=False),
        ),
        migrations.RunSQL(
            "ALTER SEQUENCE events_event_arrival_seq OWNED BY events_event.arrival",
            migrations.RunSQL.noop,
        ),
    ]
