"""The compare page as the server renders it for the layout (compare/fit.js reads it): each
side's picture shape, known before its video loads, and no style attributes (the production
CSP allows none)."""

from __future__ import annotations

import re

from django_tenants.utils import tenant_context

from tests.conftest import client_for
from tests.support.factories import ReplyFactory


def _html(school, **media) -> str:
    with tenant_context(school.tenant):
        reply = ReplyFactory(student=school.student, exercise__created_by=school.teacher, **media)
        # A playable rendition beside the source (the page plays only ready renditions).
        reply.media.renditions = {"720p": reply.media.source_key.replace("source", "720p.mp4")}
        reply.media.save(update_fields=["renditions"])
    response = client_for(school.teacher, school.host).get(f"/replies/{reply.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def _pane(html: str, name: str) -> str:
    return re.search(rf'<figure class="pane[^"]*" data-pane="{name}"[^>]*>', html).group(0)


def test_each_side_says_its_pictures_shape(school_a):
    portrait = _html(school_a, media__width=720, media__height=1280)
    assert 'data-orientation="portrait" data-aspect="0.5625"' in _pane(portrait, "right")
    # The factory's demonstration has no size: a landscape default.
    assert 'data-orientation="landscape" data-aspect="1.7778"' in _pane(portrait, "left")

    audio = _html(school_a, media__has_video=False)
    assert 'data-orientation="audio"' in _pane(audio, "right")
    assert "data-audio-only" in audio


def test_the_page_has_no_style_attributes(school_a):
    html = _html(school_a, media__width=1280, media__height=720)
    assert 'data-aspect="1.7778"' in _pane(html, "right")
    assert not re.search(r"<[^>]+\sstyle=", html)
