from django.apps import AppConfig


class SpiritsConfig(AppConfig):
    name = "spirits"
    default_auto_field = "django.db.models.BigAutoField"
