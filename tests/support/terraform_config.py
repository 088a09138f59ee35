"""Reading infra/terraform with python-hcl2 into plain Python values for the infra tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

TERRAFORM = Path(__file__).resolve().parents[2] / "infra" / "terraform"


def _plain(value: Any) -> Any:
    # python-hcl2 keeps the quotes of string literals and block labels, and marks blocks.
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load() -> dict[str, Any]:
    """{"resource": {(type, name): body}, "data": {...}, "variable": {name: body}, ...}."""
    config: dict[str, Any] = {
        "resource": {}, "data": {}, "variable": {}, "output": {}, "locals": {}
    }
    for path in sorted(TERRAFORM.glob("*.tf")):
        with path.open() as handle:
            parsed = _plain(hcl2.load(handle))
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for type_, named in block.items():
                    for name, body in named.items():
                        config[kind][(type_, name)] = body
        for kind in ("variable", "output"):
            for block in parsed.get(kind, []):
                config[kind].update(block)
        for block in parsed.get("locals", []):
            config["locals"].update(block)
    return config


def source() -> str:
    return "\n".join(path.read_text() for path in sorted(TERRAFORM.glob("*.tf")))
