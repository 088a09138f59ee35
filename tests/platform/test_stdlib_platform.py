"""`platform/` holds the project package but must never shadow the standard library."""

import importlib
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_is_the_standard_library_inside_the_project():
    import platform

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.system)
    assert importlib.import_module("config").__file__.endswith("platform/config/__init__.py")


def test_platform_folder_is_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert not list((ROOT / "platform").glob("*.py")), "nothing named like a library in platform/"


def test_manage_py_process_sees_the_standard_library_platform():
    output = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c",
         "import platform, uuid; print(platform.__file__); print(platform.system())"],
        capture_output=True, text=True, check=True, cwd=ROOT,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    ).stdout
    assert "platform/config" not in output
    assert output.strip().splitlines()[-1] in {"Linux", "Darwin", "Windows"}
