from django.apps import AppConfig


class PipelineConfig(AppConfig):
    """The background wing: it has no models of its own (it writes the memories app's)."""

    name = "pipeline"

    def ready(self) -> None:
        from events.hooks import events_recorded
        from memories.hooks import curated_written

        from . import flow, status

        events_recorded.connect(flow.on_events_recorded, dispatch_uid="pipeline.flow")
        curated_written.connect(flow.on_curated_written, dispatch_uid="pipeline.flow")
        status.connect_failure_signals()
