"""The Celery application; configuration comes from Django settings (CELERY_* names).

Importing it connects the task metrics' signals (elephantasm.task_metrics): every process that
runs or sends tasks loads this module first.
"""

import os

from celery import Celery

from . import task_metrics  # noqa: F401 - connects the signals that count task runs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elephantasm.settings.base")

app = Celery("elephantasm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
