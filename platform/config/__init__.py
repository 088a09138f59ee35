"""The Django project package (imported as `config`; its folder `platform/` is not a package)."""

from config.celery_app import app as celery_app

__all__ = ["celery_app"]
