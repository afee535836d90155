from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django: modules that import models load once the app registry is ready.
        from spirits.hooks import spirit_restored, spirit_soft_deleted

        from .services import lifecycle

        spirit_soft_deleted.connect(lifecycle.on_spirit_soft_deleted, dispatch_uid="events")
        spirit_restored.connect(lifecycle.on_spirit_restored, dispatch_uid="events")
