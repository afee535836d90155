import pytest
from django.conf import settings
from rest_framework.test import APIClient
@pytest.mark.django_db
def test_x():
    r = APIClient().get("/api/docs/")
    print(settings.STATIC_URL, b"cdn" in r.content.lower(), b"http://" in r.content, b"https://" in r.content)
