"""LTI pages: the LMS-facing endpoints (login initiation, launch, our keys), the teacher's
deep-linking picker and course rosters, and the admin's registration page.

The launch and login are CSRF-exempt: the LMS posts them cross-site, and their credential is
the platform-signed id_token bound to the state cookie and nonce the login set (tool.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from learning import roles
from learning.errors import DomainError
from learning.lti import selectors, services, tool
from learning.lti.forms import RegistrationForm
from learning.pages import found, teacher_page
from tenants.decorators import require_admin

DEEP_LINK_SESSION_KEY = "lti_deep_link_launch"


def _refused(request, message: str, *, status: int = 403) -> HttpResponse:
    return render(request, "learning/lti/refused.html", {"message": message}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login(request):
    """OIDC login initiation from the LMS: answered with a redirect to its authorisation URL."""
    try:
        return tool.oidc_login_redirect(
            request, launch_url=request.build_absolute_uri(reverse("learning:lti:launch"))
        )
    except tool.LaunchRefused as error:
        return _refused(
            request, f"The LMS's login request was refused: {error.message}", status=400
        )


@csrf_exempt
@require_POST
def launch(request):
    """The LMS's signed launch: sign the person in and open the exercise (or the picker)."""
    try:
        data = tool.launch_validate(request)
        outcome = services.launch_accept(launch=data)
    except tool.LaunchRefused as error:
        return _refused(request, f"This launch from your LMS was refused: {error.message}")
    except DomainError as error:  # a plan's limit on members, say
        return _refused(request, error.message)
    auth_login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
    if outcome.deep_link:
        request.session[DEEP_LINK_SESSION_KEY] = data.launch_id
        return redirect("learning:lti:deep_link")
    if outcome.exercise is not None:
        if roles.is_teacher(outcome.member):
            return redirect("learning:teacher_exercise", outcome.exercise.public_id)
        return redirect("learning:student_exercise", outcome.exercise.public_id)
    return redirect("tenants:home")


@require_GET
def jwks(request):
    """The tool's public keys, one per registration, for the LMS to verify what we sign."""
    return JsonResponse(tool.jwks(selectors.registrations()))


@teacher_page
@require_http_methods(["GET", "POST"])
def deep_link(request):
    """A teacher picks an exercise; the signed answer goes back to the LMS."""
    launch_id = request.session.get(DEEP_LINK_SESSION_KEY)
    if not launch_id:
        return _refused(request, "Open “Add Practika exercise” from your LMS again.", status=400)
    if request.method == "POST":
        try:
            exercise = services.deep_link_exercise(
                member=request.membership, public_id=request.POST.get("exercise", "")
            )
            token, return_url = tool.deep_link_response(
                request,
                launch_id=launch_id,
                launch_url=request.build_absolute_uri(reverse("learning:lti:launch")),
                title=exercise.title,
                resource_id=str(exercise.public_id),
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("learning:lti:deep_link")
        except tool.LaunchRefused as error:
            return _refused(request, error.message, status=400)
        del request.session[DEEP_LINK_SESSION_KEY]
        response = render(
            request, "learning/lti/deep_link_return.html", {"jwt": token, "return_url": return_url}
        )
        # The production CSP lets forms post to our own host only; this one goes to the LMS.
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(return_url))
        response._csp_update = {"form-action": [origin]}
        return response
    return render(
        request, "learning/lti/deep_link.html", {"exercises": selectors.exercises_to_link()}
    )


@teacher_page
@require_GET
def courses(request):
    return render(request, "learning/lti/courses.html", {"courses": selectors.courses()})


@teacher_page
@require_POST
def course_sync(request, public_id):
    context = found(lambda: selectors.course_get(public_id=public_id))
    try:
        services.roster_sync_request(member=request.membership, context=context)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The roster of {context} is on its way into its class.")
    return redirect("learning:lti:courses")


def _registration_page(request, form, registration=None, status=200):
    return render(
        request,
        "learning/lti/registrations.html",
        {
            "form": form,
            "registration": registration,
            "registrations": selectors.registrations(),
            "endpoints": selectors.tool_endpoints(request),
        },
        status=status,
    )


@require_admin
@require_http_methods(["GET", "POST"])
def registrations(request):
    """The tool's URLs and keys to paste into the LMS, and the LMS's details to enter here."""
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.registration_create(
                member=request.membership, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"{registration.name} is connected.")
            return redirect("learning:lti:registrations")
    return _registration_page(request, form, status=400 if form.errors else 200)


@require_admin
@require_http_methods(["GET", "POST"])
def registration_edit(request, public_id):
    registration = found(lambda: selectors.registration_get(public_id=public_id))
    form = RegistrationForm(request.POST or None, initial=RegistrationForm.initial_of(registration))
    if request.method == "POST" and form.is_valid():
        try:
            services.registration_update(
                member=request.membership, registration=registration, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"{registration.name} is saved.")
            return redirect("learning:lti:registrations")
    return _registration_page(request, form, registration, status=400 if form.errors else 200)


@require_admin
@require_POST
def registration_delete(request, public_id):
    registration = found(lambda: selectors.registration_get(public_id=public_id))
    services.registration_delete(member=request.membership, registration=registration)
    messages.success(request, f"{registration.name} is disconnected.")
    return redirect("learning:lti:registrations")
