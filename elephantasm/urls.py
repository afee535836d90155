from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from events.api.urls import register as register_events
from memories.api.urls import register as register_memories
from spirits.api.urls import register as register_spirits

from . import monitoring, views

# No `.json` suffix routes: the API speaks JSON only, and the viewsets' handlers take no
# `format` argument (a suffixed URL was a 500, found by elephantasm/tests/test_tenancy.py).
router = DefaultRouter()
router.include_format_suffixes = False
register_spirits(router)
register_events(router)
register_memories(router)

urlpatterns = [
    path("", views.root, name="root"),
    path("health", views.health, name="health"),
    path("health/live", views.health_live, name="health-live"),
    path("health/ready", views.health_ready, name="health-ready"),
    path("metrics", monitoring.metrics_view, name="metrics"),
    path("api/v1/", include("memories.api.urls")),
    path("api/v1/", include("spirits.api.urls")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "elephantasm.views.not_found"
handler500 = "elephantasm.views.server_error"
