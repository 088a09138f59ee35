"""What a page worker does once, before it takes its first request (config.wsgi).

Django imports the URLconfs, and with them every view module, on the first request that
resolves a path, and compiles each template on its first render. Left to the first requests,
that cost lands on them: 0.85 s of imports (the URLconfs, redis, boto3) and templates on the
first page each gunicorn worker served, so the first second after a start or a deploy answered
in 1 to 3 s under load (docs/scaling.md, "Tenth round"). gunicorn loads the WSGI application
in each worker before the worker accepts connections, so this runs there, off every request's
time.

Only the project's own templates are compiled; a third-party app's are left to their first use
(some belong to features this project does not turn on). Nothing here opens a database or
cache connection (gunicorn imports the application in each worker, after the fork, but a
connection opened here would still outlive a test that imports config.wsgi).
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages
from django.template import TemplateSyntaxError, engines
from django.template.loaders.cached import Loader as CachedLoader
from django.urls import get_resolver

logger = logging.getLogger(__name__)

TEMPLATE_SUFFIXES = (".html", ".txt")


def urlconfs() -> int:
    """Import both URLconfs and build their lookup tables; the number of patterns."""
    count = 0
    for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        resolver = get_resolver(urlconf)
        resolver.reverse_dict  # noqa: B018 - populates the resolver (every include imported)
        count += len(resolver.url_patterns)
    return count


def project_template_names(engine) -> list[str]:
    """The names of the templates in the project's own folders (not an installed package's)."""
    root = Path(settings.BASE_DIR).resolve()
    names = []
    for folder in engine.template_dirs:
        folder = Path(folder).resolve()
        if not folder.is_relative_to(root) or "site-packages" in folder.parts:
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix in TEMPLATE_SUFFIXES and path.is_file():
                names.append(path.relative_to(folder).as_posix())
    return names


def templates() -> int:
    """Compile the project's templates into the cached loader; the number compiled.

    With uncached loaders (development) compiling ahead would be thrown away: nothing is done.
    """
    engine = engines["django"]
    if not any(isinstance(loader, CachedLoader) for loader in engine.engine.template_loaders):
        return 0
    compiled = 0
    for name in project_template_names(engine):
        try:
            engine.get_template(name)
        except TemplateSyntaxError:
            # Its first render reports it, with the request that asked; the worker still starts.
            logger.exception("template does not compile", extra={"template": name})
            continue
        compiled += 1
    return compiled


def backends() -> list[str]:
    """Make the file storages and import the Redis client; the storages' names.

    Both import their libraries on first use: boto3 for S3 (0.3 s), redis for the cache
    (0.09 s, inside Django's cache client). Neither connects until it is used.
    """
    for alias in settings.STORAGES:
        storages[alias]  # builds the backend, importing its library
    if any("redis" in cache["BACKEND"].lower() for cache in settings.CACHES.values()):
        import_module("redis")
    return list(settings.STORAGES)


def warm() -> dict:
    started = time.perf_counter()
    figures = {"url_patterns": urlconfs(), "templates": templates(), "storages": backends()}
    figures["ms"] = round((time.perf_counter() - started) * 1000)
    logger.info("web worker warmed", extra={"warmup": figures})
    return figures
