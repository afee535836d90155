from .views import SpiritViewSet


def register(router) -> None:
    """Register this app's viewsets on the project's API router."""
    router.register("spirits", SpiritViewSet, basename="spirit")
