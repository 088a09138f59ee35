"""The class sign-in pages.

For students (open to non-members on the school's host, tenants.middleware): enter the class
code, then pick your name (or type your username) and enter your personal code. Each wrong
class code or personal code counts against allauth's limits (ACCOUNT_RATE_LIMITS
`class_code_failed` per address, `class_pin_failed` per address and per account: a class
often shares one address, so it allows more than the email login's `login_failed`); a
student's account also locks after PRACTIKA_MANAGED_PIN_MAX_FAILURES wrong codes in a row
(tenants.services.managed_accounts).

For teachers: a class's code, its students without email, their cards (PDF).
"""

from __future__ import annotations

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tenants.utils import get_public_schema_name, schema_context

from learning.class_signin import cards, selectors, services
from learning.class_signin.forms import ClassCodeForm, PickForm, RenameForm, StudentForm
from learning.errors import DomainError
from learning.pages import found, teacher_page
from tenants import hosts
from tenants.services import managed_accounts

SESSION_CLASS = "class_signin_class"
TOO_MANY = "Too many wrong tries. Wait a few minutes, or ask your teacher."


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _limit(request: HttpRequest, *, action: str, key: str | None, dry_run: bool) -> bool:
    # Counted in the public schema, like the email login's (tenants.adapters), so that every
    # host shares one allowance.
    with schema_context(get_public_schema_name()):
        return ratelimit.consume(request, action=action, key=key, dry_run=dry_run)


def _too_many(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    context["error"] = TOO_MANY
    return render(request, template, context, status=429)


@require_http_methods(["GET", "POST"])
def class_signin(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.membership is not None:
        return redirect("/")
    form = ClassCodeForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        if not _limit(request, action="class_code_failed", key=None, dry_run=True):
            return _too_many(request, "learning/class_signin/code.html", context)
        classroom = selectors.classroom_for_code(code=form.cleaned_data["code"])
        if classroom is None:
            _limit(request, action="class_code_failed", key=None, dry_run=False)
            form.add_error("code", "That class code is not right. Check it with your teacher.")
        else:
            # The code, not the class: a rotated code ends a half-finished sign-in too.
            request.session[SESSION_CLASS] = classroom.signin_code
            return redirect("learning:class_signin_pick")
    return render(request, "learning/class_signin/code.html", context)


@require_http_methods(["GET", "POST"])
def class_signin_pick(request: HttpRequest) -> HttpResponse:
    classroom = selectors.classroom_for_code(code=request.session.get(SESSION_CLASS, ""))
    if classroom is None:
        return redirect("learning:class_signin")
    form = PickForm(request.POST or None)
    context = {
        "form": form,
        "classroom": classroom,
        "accounts": selectors.accounts_in_classroom(classroom=classroom),
    }
    if request.method == "POST" and form.is_valid():
        pick = form.cleaned_data["student"] or form.cleaned_data["username"]
        account = selectors.account_in_classroom(classroom=classroom, pick=pick)
        key = f"class-pin:{account.pk}" if account else f"class-pin:{classroom.pk}:{pick.lower()}"
        if not _limit(request, action="class_pin_failed", key=key, dry_run=True):
            return _too_many(request, "learning/class_signin/pick.html", context)
        try:
            if account is None:
                raise managed_accounts.SignInRefused(
                    "That name is not in this class.", code="student_unknown"
                )
            user = managed_accounts.managed_signin(
                account=account, pin=form.cleaned_data["pin"], ip=_client_ip(request)
            )
        except DomainError as error:
            _limit(request, action="class_pin_failed", key=key, dry_run=False)
            context["error"] = error.message
            context["picked"] = pick
        else:
            request.session.pop(SESSION_CLASS, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("/")
    return render(request, "learning/class_signin/pick.html", context)


# --- Teachers -------------------------------------------------------------------------------


def _signin_url(request: HttpRequest) -> str:
    return hosts.tenant_url(request.tenant.slug, "/sign-in/class/")


@teacher_page
@require_GET
def classroom_signin(request: HttpRequest, public_id) -> HttpResponse:
    member = request.membership
    classroom = found(lambda: selectors.classroom_managed(member=member, public_id=public_id))
    return render(
        request,
        "learning/class_signin/teacher.html",
        {
            "classroom": classroom,
            "accounts": selectors.accounts_in_classroom(classroom=classroom),
            "student_form": StudentForm(),
            "signin_url": _signin_url(request),
        },
    )


@teacher_page
@require_POST
def classroom_code_rotate(request: HttpRequest, public_id) -> HttpResponse:
    member = request.membership
    classroom = found(lambda: selectors.classroom_managed(member=member, public_id=public_id))
    code = services.classroom_code_rotate(member=member, classroom=classroom)
    messages.success(request, f"The class code is now {code}.")
    return redirect("learning:classroom_signin", public_id=classroom.public_id)


@teacher_page
@require_POST
def classroom_student_create(request: HttpRequest, public_id) -> HttpResponse:
    member = request.membership
    classroom = found(lambda: selectors.classroom_managed(member=member, public_id=public_id))
    form = StudentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the student's name.")
    else:
        try:
            issued = services.classroom_student_create(
                member=member,
                classroom=classroom,
                full_name=form.cleaned_data["full_name"],
                username=form.cleaned_data["username"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"{issued.account.user.full_name} can sign in as {issued.account.username} "
                f"with the code {issued.pin}.",
            )
    return redirect("learning:classroom_signin", public_id=classroom.public_id)


@teacher_page
@require_POST
def classroom_cards(request: HttpRequest, public_id) -> HttpResponse:
    """The class's sign-in cards as a PDF. Only hashes of personal codes are kept, so printing
    gives the students on the cards new codes (all of the class's, or the one asked for)."""
    member = request.membership
    classroom = found(lambda: selectors.classroom_managed(member=member, public_id=public_id))
    if classroom.signin_code is None:
        services.classroom_code_rotate(member=member, classroom=classroom)
    accounts = selectors.accounts_in_classroom(classroom=classroom)
    if one := request.POST.get("student"):
        accounts = [a for a in accounts if str(a.public_id) == one]
        if not accounts:
            raise Http404("This student is not in this class.")
    issued = services.classroom_codes_reissue(member=member, accounts=accounts)
    pdf = cards.cards_pdf(
        school=request.tenant.name,
        signin_url=_signin_url(request),
        class_name=classroom.name,
        class_code=classroom.signin_code,
        cards=[
            cards.Card(name=i.account.user.full_name, username=i.account.username, pin=i.pin)
            for i in issued
        ],
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="sign-in-cards.pdf"'
    response["Cache-Control"] = "no-store"
    return response


def _account_action(request: HttpRequest, public_id, action) -> HttpResponse:
    account = found(
        lambda: selectors.account_managed(member=request.membership, public_id=public_id)
    )
    try:
        message = action(account)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, message)
    back = request.POST.get("classroom", "")
    classroom = selectors.classroom_for_id(public_id=back) if back else None
    if classroom is not None:
        return redirect("learning:classroom_signin", public_id=classroom.public_id)
    return redirect("learning:classes")


@teacher_page
@require_POST
def account_pin_reset(request: HttpRequest, public_id) -> HttpResponse:
    def reset(account):
        pin = managed_accounts.managed_pin_reset(account=account, actor=request.user)
        return f"{account.user.full_name}'s new code is {pin}."

    return _account_action(request, public_id, reset)


@teacher_page
@require_POST
def account_rename(request: HttpRequest, public_id) -> HttpResponse:
    form = RenameForm(request.POST)

    def rename(account):
        if not form.is_valid():
            raise DomainError("Give the student's name.", code="name_required")
        managed_accounts.managed_student_rename(
            account=account, actor=request.user, full_name=form.cleaned_data["full_name"]
        )
        return f"Renamed to {form.cleaned_data['full_name']}."

    return _account_action(request, public_id, rename)


@teacher_page
@require_POST
def account_remove(request: HttpRequest, public_id) -> HttpResponse:
    def remove(account):
        name = account.user.full_name
        managed_accounts.managed_student_remove(account=account, actor=request.user)
        return f"{name}'s account is removed."

    return _account_action(request, public_id, remove)
