"""Static files in production: whitenoise's compressed, hashed-name storage, with the imports
inside ES modules (`import … from "./lib/clock.js"`) rewritten to the hashed names too, so a new
release never runs a fresh module against a stale cached one.
https://docs.djangoproject.com/en/5.2/ref/contrib/staticfiles/#manifeststaticfilesstorage
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
