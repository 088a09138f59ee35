from django.http import HttpRequest, HttpResponse
from django.urls import path

PAGE = b"<!doctype html><html><head><title>bare</title></head><body><p>ok</p></body></html>"


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")


urlpatterns = [path("", page, name="page")]
