"""Liveness and readiness: /healthz never touches a dependency, /readyz checks them all."""

import pytest
from django.test import Client

from config.celery_app import app as celery_app


@pytest.fixture
def broker_down(monkeypatch):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")


def test_healthz_answers_on_a_load_balancer_ip_without_the_database():
    # No django_db mark: any query would raise. Load balancer health checks send the task's
    # private IP as Host, which is no allowed host.
    response = Client(HTTP_HOST="10.0.12.34").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["public", "tenant", "ip"])
def test_readyz_reports_every_dependency_ready(host, schools, settings):
    hostname = {"public": settings.BASE_DOMAIN, "tenant": schools.a.host, "ip": "10.0.0.7"}[host]
    response = Client(HTTP_HOST=hostname).get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_down(broker_down, settings):
    response = Client(HTTP_HOST=settings.BASE_DOMAIN).get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True
    # The probe must answer quickly, not wait out the broker's retry schedule.
    assert body["checks"]["broker"]["ms"] < 5000


@pytest.mark.django_db
def test_readyz_is_503_when_the_cache_loses_writes(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    response = Client(HTTP_HOST=settings.BASE_DOMAIN).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {
        "ok": False, "error": "RuntimeError", "ms": response.json()["checks"]["cache"]["ms"]
    }


def test_health_routes_stay_open_on_tenant_hosts():
    from tenants.middleware import OPEN_URL_NAMES

    assert {"healthz", "readyz"} <= OPEN_URL_NAMES
