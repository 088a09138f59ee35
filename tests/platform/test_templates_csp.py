"""The production Content Security Policy allows no inline script: pages must not need any."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_inline_script_or_event_handlers():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            offenders += [f"{template.relative_to(TEMPLATES)}: {m.group(0)[:60]}"
                          for m in pattern.finditer(text)]
    assert not offenders, "\n".join(offenders)
    assert len(list(TEMPLATES.rglob("*.html"))) > 20
