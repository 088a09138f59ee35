"""Plain-text emails are text, not HTML: no template under templates/ that renders a .txt email
escapes what it prints (`Clara's` must not arrive as `Clara&#x27;s`)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from django.template.loader import render_to_string

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EXTENDS = re.compile(r'{%\s*extends\s+"([^"]+)"\s*%}')


def _unescaped(path: Path) -> bool:
    text = path.read_text()
    if "{% autoescape off %}" in text:
        return True
    parent = EXTENDS.search(text)
    return (
        parent is not None
        and (TEMPLATES / parent.group(1)).exists()
        and _unescaped(TEMPLATES / parent.group(1))
    )


def test_every_text_email_template_turns_autoescape_off():
    # Static files (the front end's generated licence list) are not templates.
    texts = sorted(
        p for p in TEMPLATES.rglob("*.txt") if "static" not in p.relative_to(TEMPLATES).parts
    )
    assert len(texts) >= 10
    escaping = [str(p.relative_to(TEMPLATES)) for p in texts if not _unescaped(p)]
    assert escaping == []


def test_the_invitation_email_says_clara_s_as_written():
    inviter = SimpleNamespace(display_name="Clara O'Neil")
    invitation = SimpleNamespace(
        invited_by=inviter, get_role_display=lambda: "Student", expires_at=None
    )
    context = {
        "invitation": invitation,
        "tenant": SimpleNamespace(name="Clara's Studio"),
        "accept_url": "http://clara.localhost:8000/join/abc/?a=1&b=2",
    }

    text = render_to_string("tenants/email/invitation.txt", context)

    assert "Clara O'Neil invited you" in text
    assert "Clara's Studio" in text
    assert "&#x27;" not in text and "&amp;" not in text
