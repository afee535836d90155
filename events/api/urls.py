from .views import EventViewSet, SessionViewSet


def register(router) -> None:
    """Register this app's viewsets on the project's API router."""
    router.register("events", EventViewSet, basename="event")
    router.register("sessions", SessionViewSet, basename="session")
