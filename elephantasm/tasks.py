"""What every Celery task of the project shares (docs/decisions.md, Background work)."""

from django.db import InterfaceError, OperationalError

# Transient: the database went away or is restarting. Anything else is a bug and is not retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

# Acknowledged after the work (a worker that dies mid-task gets it redelivered), retried only on
# transient errors, with capped exponential backoff and jitter.
SAFE_DELIVERY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}
