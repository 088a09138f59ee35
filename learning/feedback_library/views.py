"""The feedback library's page (`/teach/feedback-library/`): a teacher's saved comments and the
school's shared ones, searched, added, edited, shared and deleted. Teachers only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from learning.errors import DomainError
from learning.feedback_library import selectors, services
from learning.pages import found, teacher_page

PAGE_SIZE = 50


class SavedCommentForm(forms.Form):
    body = forms.CharField(max_length=services.MAX_BODY, widget=forms.Textarea(attrs={"rows": 3}))
    shared = forms.BooleanField(required=False, label="Share with the school's teachers")


def _annotated(member, saved_list):
    for saved in saved_list:
        saved.can_manage = selectors.may_manage(member=member, saved=saved)
    return saved_list


@teacher_page
def library(request: HttpRequest) -> HttpResponse:
    """The list, its search and the form that adds one."""
    member = request.membership
    form = SavedCommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.saved_comment_create(member=member, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The comment is saved in your library.")
            return redirect("learning:feedback_library")
    q = request.GET.get("q", "").replace("\x00", "")[: selectors.MAX_QUERY]
    scope = request.GET.get("scope", "all")
    if scope not in selectors.SCOPES:
        scope = "all"
    saved = selectors.saved_comments_for(member=member, q=q, scope=scope)
    page = Paginator(saved, PAGE_SIZE).get_page(request.GET.get("page"))
    _annotated(member, page.object_list)
    return render(
        request,
        "learning/teacher/feedback_library.html",
        {"form": form, "page": page, "q": q, "scope": scope, "scopes": selectors.SCOPES},
    )


@teacher_page
def library_edit(request: HttpRequest, public_id) -> HttpResponse:
    member = request.membership
    saved = found(lambda: selectors.saved_comment_get(member=member, public_id=public_id))
    if not selectors.may_manage(member=member, saved=saved):
        messages.error(request, "Only its author, or an owner or admin, can change this one.")
        return redirect("learning:feedback_library")
    initial = {"body": saved.body, "shared": saved.shared}
    form = SavedCommentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.saved_comment_update(member=member, saved=saved, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The saved comment is updated.")
            return redirect("learning:feedback_library")
    return render(
        request, "learning/teacher/feedback_library_edit.html", {"form": form, "saved": saved}
    )


@teacher_page
@require_POST
def library_delete(request: HttpRequest, public_id) -> HttpResponse:
    member = request.membership
    saved = found(lambda: selectors.saved_comment_get(member=member, public_id=public_id))
    try:
        services.saved_comment_delete(member=member, saved=saved)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The saved comment is deleted.")
    return redirect("learning:feedback_library")
