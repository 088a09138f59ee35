"""Accounts for young students (issue 16): students without email in a school, signed in with
a class code, their name and a personal code; printed cards; teachers who reset them; and a
studio's student under 13 who cannot upload until a guardian consents through the emailed link.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from learning.class_signin import services as class_services
from learning.models import Classroom
from tenants import hosts, services
from tenants.errors import DomainError
from tenants.models import (
    AuditEvent,
    GuardianConsent,
    Invitation,
    ManagedAccount,
    Membership,
    Role,
    User,
)
from tenants.services import guardian_consent
from tests.conftest import PASSWORD, _user, client_for, member
from tests.support.factories import CommentFactory, ExerciseFactory, ReplyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def klass(school_a):
    """School A's class "Year 2 violin", made by its teacher, with two students without email."""
    with tenant_context(school_a.tenant):
        teacher = member(school_a.teacher, school_a.tenant)
        classroom = Classroom.objects.create(name="Year 2 violin", created_by=school_a.teacher)
        code = class_services.classroom_code_rotate(member=teacher, classroom=classroom)
        ada = class_services.classroom_student_create(
            member=teacher, classroom=classroom, full_name="Ada Lovelace"
        )
        bo = class_services.classroom_student_create(
            member=teacher, classroom=classroom, full_name="Bo Diddley", username="bo"
        )
    return {"classroom": classroom, "code": code, "ada": ada, "bo": bo}


def _sign_in(client: Client, *, code: str, pick: str, pin: str, typed: bool = False):
    response = client.post("/sign-in/class/", {"code": code})
    assert response.status_code == 302, response.content
    field = "username" if typed else "student"
    return client.post("/sign-in/class/pick/", {field: pick, "pin": pin})


def test_a_student_without_email_signs_in_with_the_class_code_name_and_pin(school_a, klass):
    ada = klass["ada"]
    user = ada.account.user
    assert user.email == "school-a.ada.lovelace@students.practika.invalid"
    assert not user.has_usable_password()
    client = Client(HTTP_HOST=school_a.host)

    page = client.get("/sign-in/class/pick/")
    assert page.status_code == 302  # no class code entered yet
    client.post("/sign-in/class/", {"code": klass["code"].lower()})
    listing = client.get("/sign-in/class/pick/").content.decode()
    assert "Ada Lovelace" in listing and "Bo Diddley" in listing

    response = client.post(
        "/sign-in/class/pick/", {"student": str(ada.account.public_id), "pin": ada.pin}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/exercises/").status_code == 200
    assert AuditEvent.objects.filter(
        tenant=school_a.tenant, actor=user, action="managed_student.signed_in"
    ).exists()

    # By typed username as well, from a fresh browser.
    other = Client(HTTP_HOST=school_a.host)
    response = _sign_in(other, code=klass["code"], pick="BO", pin=klass["bo"].pin, typed=True)
    assert response.status_code == 302


def test_a_wrong_class_code_and_another_schools_host_are_refused(school_a, school_b, klass):
    client = Client(HTTP_HOST=school_a.host)
    response = client.post("/sign-in/class/", {"code": "NOPE42"})
    assert "That class code is not right" in response.content.decode()
    # Guessing is limited per address (a class shares one, so it allows 60 in 5 minutes).
    for _ in range(59):
        client.post("/sign-in/class/", {"code": "NOPE42"})
    response = client.post("/sign-in/class/", {"code": klass["code"]})
    assert response.status_code == 429 and "Too many wrong tries" in response.content.decode()
    cache.clear()
    # School A's class code means nothing on school B's host.
    response = Client(HTTP_HOST=school_b.host).post("/sign-in/class/", {"code": klass["code"]})
    assert response.status_code == 200 and "not right" in response.content.decode()


def test_a_wrong_pin_locks_the_account_after_five_tries_until_a_teacher_resets_it(
    school_a, klass, settings
):
    assert settings.PRACTIKA_MANAGED_PIN_MAX_FAILURES == 5
    ada = klass["ada"]
    wrong = "000000" if ada.pin != "000000" else "111111"
    client = Client(HTTP_HOST=school_a.host)
    client.post("/sign-in/class/", {"code": klass["code"]})
    for attempt in range(1, 6):
        response = client.post(
            "/sign-in/class/pick/", {"student": str(ada.account.public_id), "pin": wrong}
        )
        assert response.status_code == 200
        said = response.content.decode()
        assert "That code is not right" in said
        assert ("now locked" in said) == (attempt == 5), attempt
    account = ManagedAccount.objects.get(pk=ada.account.pk)
    assert account.is_locked and account.failed_attempts == 5
    assert AuditEvent.objects.filter(action="managed_student.locked").exists()

    # The right code is refused too: by the address's limit first, by the lock after it.
    response = client.post(
        "/sign-in/class/pick/", {"student": str(ada.account.public_id), "pin": ada.pin}
    )
    assert response.status_code == 429
    cache.clear()
    response = client.post(
        "/sign-in/class/pick/", {"student": str(ada.account.public_id), "pin": ada.pin}
    )
    assert "locked after too many wrong codes" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # The class's teacher gives a new code, which unlocks it.
    teacher = client_for(school_a.teacher, school_a.host)
    response = teacher.post(
        f"/teach/students/{ada.account.public_id}/code/",
        {"classroom": str(klass["classroom"].public_id)},
    )
    assert response.status_code == 302
    new_pin = re.search(r"new code is (\d{6})", _messages(teacher)).group(1)
    response = _sign_in(client, code=klass["code"], pick=str(ada.account.public_id), pin=new_pin)
    assert response.status_code == 302 and response["Location"] == "/"


def _messages(client: Client) -> str:
    return client.get("/teach/classes/").content.decode()


def test_a_teacher_of_another_class_cannot_manage_the_students_admins_can(school_a, klass):
    ada = klass["ada"]
    other = _user("other-teacher@school-a.example.com")
    Membership.objects.create(user=other, tenant=school_a.tenant, role=Role.TEACHER)
    client = client_for(other, school_a.host)
    before = ManagedAccount.objects.get(pk=ada.account.pk).pin_hash
    for url in [
        f"/teach/students/{ada.account.public_id}/code/",
        f"/teach/students/{ada.account.public_id}/rename/",
        f"/teach/students/{ada.account.public_id}/remove/",
        f"/teach/classes/{klass['classroom'].public_id}/sign-in/cards.pdf",
    ]:
        assert client.post(url, {"full_name": "X"}).status_code == 404, url
    assert client.get(f"/teach/classes/{klass['classroom'].public_id}/sign-in/").status_code == 404
    assert ManagedAccount.objects.get(pk=ada.account.pk).pin_hash == before
    # A student (even one of the class) gets the teachers' 403.
    student = client_for(school_a.student, school_a.host)
    assert student.post(f"/teach/students/{ada.account.public_id}/code/").status_code == 403

    owner = client_for(school_a.owner, school_a.host)
    response = owner.post(
        f"/teach/students/{ada.account.public_id}/rename/", {"full_name": "Ada King"}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=ada.account.user_id).full_name == "Ada King"
    # Removed as a member in the admin portal: the code stops working too.
    bo = klass["bo"]
    Membership.objects.get(user=bo.account.user, tenant=school_a.tenant).delete()
    response = _sign_in(
        Client(HTTP_HOST=school_a.host), code=klass["code"], pick="bo", pin=bo.pin, typed=True
    )
    assert response.status_code == 200
    owner.post(f"/teach/students/{ada.account.public_id}/remove/")
    assert not ManagedAccount.objects.filter(pk=ada.account.pk).exists()
    assert not User.objects.get(pk=ada.account.user_id).is_active
    assert not Membership.objects.filter(user_id=ada.account.user_id).exists()


def test_the_printed_cards_pdf_holds_each_students_name_username_code_and_the_class_code(
    school_a, klass
):
    teacher = client_for(school_a.teacher, school_a.host)
    classroom = klass["classroom"]
    response = teacher.post(f"/teach/classes/{classroom.public_id}/sign-in/cards.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    shown = re.findall(rb"\((.*?)\) Tj", pdf)
    text = [s.decode("latin-1") for s in shown]
    assert "Ada Lovelace" in text and "Bo Diddley" in text
    assert "ada.lovelace" in text and "bo" in text
    assert klass["code"] in text
    assert hosts.tenant_url("school-a", "/sign-in/class/") in text
    pins = [t for t in text if re.fullmatch(r"\d{6}", t)]
    assert len(pins) == 2
    # Printing issued new codes: the old one no longer works, the printed ones do.
    if klass["bo"].pin not in pins:  # a new code is random: it may repeat the old one
        client = Client(HTTP_HOST=school_a.host)
        old = _sign_in(client, code=klass["code"], pick="bo", pin=klass["bo"].pin, typed=True)
        assert old.status_code == 200 and "not right" in old.content.decode()
    works = [
        _sign_in(Client(HTTP_HOST=school_a.host), code=klass["code"], pick="bo", pin=p, typed=True)
        for p in pins
    ]
    assert sum(r.status_code == 302 for r in works) == 1


def test_accounts_without_email_get_no_mail_and_cannot_set_a_password(school_a, klass, settings):
    settings.EMAIL_BACKEND = "tenants.email.backend.SuppressingEmailBackend"
    user = klass["ada"].account.user
    mail.outbox.clear()
    sent = mail.send_mail("Hello", "Body", None, [user.email, "someone@example.com"])
    assert sent == 1 and mail.outbox[0].to == ["someone@example.com"]

    client = Client(HTTP_HOST=school_a.host)
    _sign_in(
        client, code=klass["code"], pick=str(klass["ada"].account.public_id), pin=klass["ada"].pin
    )
    response = client.post(
        "/accounts/password/set/",
        {"password1": "a-long-new-passphrase-1", "password2": "a-long-new-passphrase-1"},
    )
    assert response.status_code == 403
    assert not User.objects.get(pk=user.pk).has_usable_password()
    # Nor add an email address (which would open the emailed flows to it).
    response = client.post("/accounts/email/", {"action_add": "", "email": "mine@example.com"})
    assert "cannot have an email address" in response.content.decode()
    # (allauth lists the account's own internal address there; nothing else is added.)
    assert not EmailAddress.objects.filter(user=user).exclude(email=user.email).exists()
    assert User.objects.get(pk=user.pk).email == user.email


def test_a_teacher_adds_a_student_without_email_on_the_class_page(school_a, klass):
    teacher = client_for(school_a.teacher, school_a.host)
    classroom = klass["classroom"]
    page = teacher.get(f"/teach/classes/{classroom.public_id}/sign-in/").content.decode()
    assert klass["code"] in page and "Ada Lovelace" in page and "Bo Diddley" in page
    assert (
        f"/teach/classes/{classroom.public_id}/sign-in/"
        in teacher.get("/teach/classes/").content.decode()
    )
    response = teacher.post(
        f"/teach/classes/{classroom.public_id}/sign-in/students/",
        {"full_name": "Cy Twombly"},
        follow=True,
    )
    said = response.content.decode()
    pin = re.search(r"sign in as cy\.twombly with the code (\d{6})", said).group(1)
    assert "Cy Twombly" in said
    response = _sign_in(
        Client(HTTP_HOST=school_a.host), code=klass["code"], pick="cy.twombly", pin=pin, typed=True
    )
    assert response.status_code == 302
    # A taken username is refused in plain words.
    response = teacher.post(
        f"/teach/classes/{classroom.public_id}/sign-in/students/",
        {"full_name": "Bo Again", "username": "bo"},
        follow=True,
    )
    assert "The username bo is taken here." in response.content.decode()
    # A name's accents are kept as their letters, and a second child of the same name gets
    # the next free username rather than a refusal.
    for expected in ("zoe.angstrom", "zoe.angstrom2"):
        said = teacher.post(
            f"/teach/classes/{classroom.public_id}/sign-in/students/",
            {"full_name": "Zoë Ångström"},
            follow=True,
        ).content.decode()
        assert f"sign in as {expected} with the code" in said
    # A new class code: the old one stops working.
    old = klass["code"]
    teacher.post(f"/teach/classes/{classroom.public_id}/sign-in/code/")
    response = Client(HTTP_HOST=school_a.host).post("/sign-in/class/", {"code": old})
    assert "not right" in response.content.decode()


# --- A studio's student under 13 ------------------------------------------------------------


@pytest.fixture
def studio(schools):
    """A teacher's studio (made in the test's transaction: its schema goes with it)."""
    from tenants.models import Tenant

    owner = _user("owner@young-studio.example.com")
    tenant = Tenant.objects.filter(slug="young-studio").first()
    if tenant is None:
        tenant = services.tenant_create(
            name="Young Studio", slug="young-studio", kind="studio", owner=owner
        )
    return {"tenant": tenant, "owner": owner, "host": hosts.tenant_hostname("young-studio")}


def _upload_start(client: Client):
    return client.post(
        "/api/v1/uploads/",
        {"purpose": "reply", "filename": "take.mp4", "size": 1000, "content_type": "video/mp4"},
        content_type="application/json",
    )


def test_a_studios_student_under_13_uploads_only_after_the_guardian_consents(
    studio, django_capture_on_commit_callbacks
):
    tenant, host = studio["tenant"], studio["host"]
    owner = client_for(studio["owner"], host)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            "/manage/invitations/",
            {
                "email": "Kid@Example.com",
                "role": "student",
                "under_13": "on",
                "guardian_email": "parent@example.com",
            },
        )
    assert response.status_code == 302
    consent = GuardianConsent.objects.get(tenant=tenant, student_email="kid@example.com")
    assert not consent.is_given
    to_guardian = [m for m in mail.outbox if m.to == ["parent@example.com"]]
    assert len(to_guardian) == 1
    link = re.search(r"http://\S+/guardian/\S+/", to_guardian[0].body).group(0)
    assert link.startswith(hosts.tenant_url("young-studio", "/guardian/"))
    path = "/guardian/" + link.split("/guardian/", 1)[1]

    kid = User.objects.create_user(email="kid@example.com", password=PASSWORD)
    Membership.objects.create(user=kid, tenant=tenant, role=Role.STUDENT)
    with tenant_context(tenant):
        exercise = ExerciseFactory(created_by=studio["owner"], assign_to_all=True)
    student = client_for(kid, host)

    # Before consent: the API and the page refuse, saying why.
    response = _upload_start(student)
    assert response.status_code == 403
    assert response.json()["code"] == "guardian_consent_required"
    page = student.get(f"/exercises/{exercise.public_id}/").content.decode()
    assert 'data-upload-refused="guardian_consent_required"' in page
    assert "data-uploader" not in page and "parent or guardian has agreed" in page
    # Another student of the studio (not under 13) is not held back.
    older = User.objects.create_user(email="older@example.com", password=PASSWORD)
    Membership.objects.create(user=older, tenant=tenant, role=Role.STUDENT)
    assert _upload_start(client_for(older, host)).status_code == 201

    # The guardian opens the emailed link (signed out), reads what is collected, consents.
    guardian = Client(HTTP_HOST=host, REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="GuardianUA")
    page = guardian.get(path).content.decode()
    assert "What we collect" in page and "kid@example.com" in page
    assert guardian.get(path.rstrip("/") + "x/").status_code == 410  # a forged token
    assert guardian.post(path, {"guardian_name": "Pat Parent"}).status_code == 200  # no box
    response = guardian.post(path, {"guardian_name": "Pat Parent", "confirm": "on"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.is_given and consent.given_by_name == "Pat Parent"
    assert consent.given_from_ip == "198.51.100.7" and consent.given_user_agent == "GuardianUA"
    assert AuditEvent.objects.filter(tenant=tenant, action="guardian_consent.given").exists()

    assert _upload_start(student).status_code == 201
    page = student.get(f"/exercises/{exercise.public_id}/").content.decode()
    assert "data-upload-refused" not in page

    # The guardian reads the child's feedback through the same link.
    with tenant_context(tenant):
        reply = ReplyFactory(exercise=exercise, student=kid)
        CommentFactory(reply=reply, author=studio["owner"], body="Lovely bowing, Kid!")
    feedback = guardian.get(path + "feedback/")
    assert feedback.status_code == 200
    assert "Lovely bowing, Kid!" in feedback.content.decode()

    members = owner.get("/manage/members/").content.decode()
    assert "Given by Pat Parent" in members

    # Withdrawn: uploads stop again and the link is dead.
    assert guardian.post(path + "withdraw/").status_code == 200
    assert _upload_start(student).json()["code"] == "guardian_consent_required"
    assert guardian.get(path + "feedback/").status_code == 410
    assert guardian.get(path).status_code == 410
    assert "no uploads" in owner.get("/manage/members/").content.decode()

    # The owner asks again: a new link, which works.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(f"/manage/guardian-consents/{consent.public_id}/resend/")
    assert response.status_code == 302
    again = re.search(r"http://\S+/guardian/\S+/", mail.outbox[0].body).group(0)
    again_path = "/guardian/" + again.split("/guardian/", 1)[1]
    assert again_path != path
    assert guardian.post(again_path, {"guardian_name": "Pat", "confirm": "on"}).status_code == 302
    assert _upload_start(student).status_code == 201
    # Only the studio's owners and admins ask.
    assert student.post(f"/manage/guardian-consents/{consent.public_id}/resend/").status_code == 403


def test_guardian_consent_is_for_studios_and_needs_a_guardian_address(school_a, studio):
    owner = client_for(school_a.owner, school_a.host)
    response = owner.post(
        "/manage/invitations/",
        {
            "email": "kid2@example.com",
            "role": "student",
            "under_13": "on",
            "guardian_email": "parent2@example.com",
        },
    )
    assert response.status_code == 302
    assert not GuardianConsent.objects.filter(student_email="kid2@example.com").exists()
    with pytest.raises(DomainError) as refused:
        guardian_consent.guardian_consent_request(
            tenant=studio["tenant"],
            student_email="kid3@example.com",
            guardian_email="kid3@example.com",
            actor=studio["owner"],
        )
    assert refused.value.code == "guardian_email_invalid"
    with pytest.raises(DomainError) as refused:
        guardian_consent.guardian_consent_request(
            tenant=school_a.tenant,
            student_email="kid3@example.com",
            guardian_email="parent3@example.com",
            actor=school_a.owner,
        )
    assert refused.value.code == "not_a_studio"
    # The form asks for the guardian's address when the box is ticked.
    studio_owner = client_for(studio["owner"], studio["host"])
    studio_owner.post(
        "/manage/invitations/", {"email": "kid4@example.com", "role": "student", "under_13": "on"}
    )
    assert not Invitation.objects.filter(email="kid4@example.com").exists()


def test_the_class_pages_query_count_does_not_grow_with_the_students(school_a, klass):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    classroom = klass["classroom"]
    teacher = client_for(school_a.teacher, school_a.host)
    pupil = Client(HTTP_HOST=school_a.host)
    pupil.post("/sign-in/class/", {"code": klass["code"]})

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert teacher.get(f"/teach/classes/{classroom.public_id}/sign-in/").status_code == 200
        with CaptureQueriesContext(connection) as listing:
            assert pupil.get("/sign-in/class/pick/").status_code == 200
        return len(page), len(listing)

    counts()  # the page chrome's cache is filled on the first request
    before = counts()
    with tenant_context(school_a.tenant):
        for name in ("Cy One", "Di Two", "Ed Three"):
            class_services.classroom_student_create(
                member=member(school_a.teacher, school_a.tenant),
                classroom=classroom,
                full_name=name,
            )
    assert counts() == before


def test_a_student_under_13_who_changes_their_address_still_waits_for_the_guardian(
    studio, django_capture_on_commit_callbacks
):
    tenant, host = studio["tenant"], studio["host"]
    owner = studio["owner"]
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            tenant=tenant, email="mover@example.com", role=Role.STUDENT, actor=owner
        )
        consent = guardian_consent.guardian_consent_request(
            tenant=tenant,
            student_email="mover@example.com",
            guardian_email="mover-parent@example.com",
            actor=owner,
        )
    kid = User.objects.create_user(email="mover@example.com", password=PASSWORD)
    services.invitation_accept(token=invitation.token, tenant=tenant, user=kid)
    consent.refresh_from_db()
    assert consent.student == kid  # tied to the account on joining
    student = client_for(kid, host)
    assert _upload_start(student).status_code == 403

    # allauth's email page: a new address, made primary, the invited one removed.
    student.post("/accounts/email/", {"action_add": "", "email": "moved@example.com"})
    student.post("/accounts/email/", {"action_primary": "", "email": "moved@example.com"})
    student.post("/accounts/email/", {"action_remove": "", "email": "mover@example.com"})
    kid.refresh_from_db()
    assert kid.email == "moved@example.com"
    assert not EmailAddress.objects.filter(user=kid, email="mover@example.com").exists()
    response = _upload_start(student)
    assert response.status_code == 403
    assert response.json()["code"] == "guardian_consent_required"

    # The guardian's link still names this child: consent opens uploads, feedback shows.
    path = f"/guardian/{guardian_consent.guardian_link_token(consent=consent)}/"
    guardian = Client(HTTP_HOST=host)
    assert guardian.post(path, {"guardian_name": "Pat", "confirm": "on"}).status_code == 302
    assert _upload_start(student).status_code == 201
    with tenant_context(tenant):
        reply = ReplyFactory(exercise=ExerciseFactory(created_by=owner), student=kid)
        CommentFactory(reply=reply, author=owner, body="Still you, after the move.")
    assert "Still you, after the move." in guardian.get(path + "feedback/").content.decode()

    # Someone who takes the old address later is not held back by this child's request.
    newcomer = User.objects.create_user(email="mover@example.com", password=PASSWORD)
    Membership.objects.create(user=newcomer, tenant=tenant, role=Role.STUDENT)
    guardian.post(path + "withdraw/")
    assert _upload_start(student).status_code == 403
    assert _upload_start(client_for(newcomer, host)).status_code == 201


def test_consent_asked_for_an_existing_account_is_tied_to_it(studio):
    tenant, owner = studio["tenant"], studio["owner"]
    kid = User.objects.create_user(email="already@example.com", password=PASSWORD)
    Membership.objects.create(user=kid, tenant=tenant, role=Role.STUDENT)
    consent = guardian_consent.guardian_consent_request(
        tenant=tenant,
        student_email="Already@Example.com",
        guardian_email="already-parent@example.com",
        actor=owner,
    )
    assert consent.student == kid
    User.objects.filter(pk=kid.pk).update(email="elsewhere@example.com")
    kid.refresh_from_db()
    assert guardian_consent.guardian_consent_required(tenant=tenant, user=kid)


def test_every_line_of_a_card_stays_inside_it_however_long_the_names(monkeypatch):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    from learning.class_signin import cards

    drawn = []

    class Recording(canvas.Canvas):
        def drawString(self, x, y, text, *args, **kwargs):
            drawn.append((x, text, stringWidth(text, self._fontname, self._fontsize)))
            return super().drawString(x, y, text, *args, **kwargs)

    monkeypatch.setattr(cards.canvas, "Canvas", Recording)
    url = "https://lincoln-high-school-of-music.practika.app/sign-in/class/"
    cards.cards_pdf(
        school="Lincoln High School of Music and Performing Arts, Springfield",
        signin_url=url,
        class_name="Year 2",
        class_code="7WCWR2",
        cards=[
            cards.Card(
                name="Maximiliana Wolfeschlegelsteinhausen", username="m" * 40, pin="123456"
            ),
            cards.Card(name="Mia Young", username="mia.young", pin="654321"),
        ],
    )
    card_w = (A4[0] - 2 * cards.MARGIN) / cards.COLUMNS
    assert url in [text for _, text, _ in drawn]
    for x, text, width in drawn:
        column = int((x - cards.MARGIN) // card_w)
        right_edge = cards.MARGIN + (column + 1) * card_w - 2 * mm
        assert x + width <= right_edge, text
