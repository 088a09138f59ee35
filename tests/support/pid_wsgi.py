"""A WSGI application that answers with its process id: which worker served a request
(tests/platform/test_webserver.py)."""

import os


def application(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
