"""config.message_storage: Django's fallback storage of messages, with its backends made only
when a request shows or adds a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory

from config.message_storage import MessageStorage


def _request(cookies: dict | None = None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    request.session = SessionStore()
    request._messages = MessageStorage(request)
    return request


def test_a_request_without_messages_makes_no_backend():
    request = _request()
    assert len(request._messages) == 0
    assert list(messages.get_messages(request)) == []
    request._messages.update(HttpResponse())
    assert "storages" not in vars(request._messages)
    assert not request.session.accessed


def test_a_message_added_is_shown_on_the_next_request():
    request = _request()
    messages.success(request, "Saved.")
    response = HttpResponse()
    request._messages.update(response)
    cookie = response.cookies[CookieStorage.cookie_name].value

    following = _request({CookieStorage.cookie_name: cookie})
    assert [m.message for m in messages.get_messages(following)] == ["Saved."]
    shown = HttpResponse()
    following._messages.update(shown)
    assert shown.cookies[CookieStorage.cookie_name].value == ""  # shown once: the cookie goes


def test_messages_too_large_for_the_cookie_go_to_the_session():
    request = _request()
    for i in range(40):
        messages.info(request, f"{i} " + "x" * 200)
    response = HttpResponse()
    request._messages.update(response)
    following = _request({CookieStorage.cookie_name: response.cookies["messages"].value})
    following.session = request.session
    assert len(list(messages.get_messages(following))) == 40
