#!/usr/bin/env python
"""Django's command-line utility for Practika."""

import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ is a folder of packages, never a package itself: it goes on the path so that
    # `config` imports while `import platform` still finds the standard library.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
