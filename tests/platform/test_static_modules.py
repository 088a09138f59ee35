"""Production's collected static files: ES modules import each other by hashed name."""

from __future__ import annotations

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

    hashed = [p for p in (tmp_path / "js").glob("compare.*.js") if p.name.count(".") == 2]
    assert len(hashed) == 1, hashed
    imports = re.findall(r"""from\\s+["']([^"']+)["']""", hashed[0].read_text())
    assert imports, "compare.js imports nothing?"
    for name in imports:
        # "./lib/clock.js" became "./lib/clock.<hash>.js", and that file exists.
        assert re.search(r"\\.[0-9a-f]{12}\\.js$", name), name
        assert (hashed[0].parent / name).resolve().is_file(), name
