"""Production's collected static files: ES modules import each other by hashed name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

COLLECT = """
import sys, django
django.setup()
from django.core.management import call_command
from django.test.utils import override_settings
with override_settings(STATIC_ROOT=sys.argv[1]):
    call_command("collectstatic", interactive=False, verbosity=0)
"""

# `import … from "x";`, `export … from "x";`, `import "x";` (each starting a line), `import("x")`.
IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^;"']*?\bfrom\s*["']([^"']+)["']"""
    r"""|^\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)""",
    re.MULTILINE,
)


def test_collected_modules_import_their_hashed_neighbours(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "static-modules-test-" + "z" * 40,
        "PRACTIKA_BASE_DOMAIN": "practika.example",
        "DATABASE_URL": "postgresql://nobody@localhost/none",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
    }
    result = subprocess.run(
        [sys.executable, "-c", COLLECT, str(tmp_path)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    # Every module the pages load, as served: the hashed copy the manifest names.
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    modules = {
        name: tmp_path / hashed
        for name, hashed in manifest.items()
        if name.startswith("js/") and name.endswith(".js")
    }
    assert "js/compare.js" in modules and "js/compare/timeline.js" in modules, sorted(modules)
    for name, served in modules.items():
        imports = [match[match.lastindex] for match in IMPORT.finditer(served.read_text())]
        if name == "js/compare.js":
            assert len(imports) >= 7, "compare.js imports its modules"
        for target in imports:
            # "./lib/clock.js" became "./lib/clock.<hash>.js", and that file exists.
            assert re.search(r"\.[0-9a-f]{12}\.js$", target), (name, target)
            assert (served.parent / target).resolve().is_file(), (name, target)
