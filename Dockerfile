# The Elephantasm image: the web process (gunicorn), the Celery workers and beat all run from it.
# docker-compose.yml builds it, runs the migrations once (service "migrate"), then starts the rest.
FROM python:3.11-slim

# PYTHONPATH: every process (gunicorn, celery, manage.py) imports the code from /app, so the
# settings' BASE_DIR is /app whatever the command; `pip install .` brings the dependencies.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=elephantasm.settings.production \
    STATIC_ROOT=/app/staticfiles \
    WEB_CONCURRENCY=3

WORKDIR /app
RUN useradd --system --create-home --uid 10001 elephantasm

COPY . /app
# collectstatic runs with the base settings: the production ones refuse to load without the
# runtime SECRET_KEY and ALLOWED_HOSTS (both serve static files alike). The settings need a
# DATABASE_URL to load (else they start the embedded server); collectstatic never connects to it.
RUN pip install . \
    && DJANGO_SETTINGS_MODULE=elephantasm.settings.base DATABASE_URL=postgres://build@localhost/build \
       python manage.py collectstatic --noinput \
    && chown -R elephantasm /app

USER elephantasm
EXPOSE 8000

# The web process; gunicorn reads its worker count from WEB_CONCURRENCY. The health check lives
# in docker-compose.yml (the workers and beat run this image too, with their own command; each
# worker serves its task metrics on WORKER_METRICS_PORT when set, 9808 in docker-compose.yml).
CMD ["gunicorn", "elephantasm.wsgi:application", "--bind", "0.0.0.0:8000", "--timeout", "60", "--access-logfile", "-"]
