"""The course pages on a tenant's host: teachers' courses and template library (`teach/courses/`),
students' course paths (`courses/`). Thin: each POST names one action, which calls one service;
a service's DomainError is shown on the page."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from learning.courses import gates, selectors, services
from learning.errors import DomainError
from learning.exercises import selectors as exercise_selectors
from learning.models import Classroom, CourseCopy, CourseItem, CourseUnit, Exercise
from learning.pages import found, id_path, short_date, student_page, teacher_page
from tenants import selectors as tenant_selectors

DATETIME = {
    "required": False,
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
}


class ItemForm(forms.Form):
    release_at = forms.DateTimeField(label="Opens on", **DATETIME)
    prerequisite = forms.UUIDField(required=False)
    requires = forms.ChoiceField(choices=CourseItem.Requires.choices, required=False)
    unit = forms.UUIDField(required=False)
    exercise = forms.UUIDField(required=False)


class DuplicateForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    shift_days = forms.IntegerField(
        min_value=-services.MAX_SHIFT_DAYS, max_value=services.MAX_SHIFT_DAYS, initial=0
    )


# --- Teachers -------------------------------------------------------------------------------


def _course_rows(courses) -> list[dict]:
    detail = id_path("learning:teacher_course")
    return [
        {
            "url": detail(c.public_id),
            "title": c.title,
            "units": c.unit_count,
            "items": c.item_count,
            "created_by": c.created_by.display_name,
            "created": short_date(c.created_at, time=False),
        }
        for c in courses
    ]


@teacher_page
def course_list(request: HttpRequest) -> HttpResponse:
    member = request.membership
    if request.method == "POST":
        try:
            course = _list_action(request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if course is not None:
                return redirect("learning:teacher_course", public_id=course.public_id)
        return redirect("learning:teacher_courses")
    free = list(
        Exercise.objects.filter(is_template=False, course_item__isnull=True)
        .order_by("title")
        .values("public_id", "title", "created_by_id")
    )
    return render(
        request,
        "learning/courses/teacher_list.html",
        {
            "courses": _course_rows(selectors.courses_for_teacher()),
            "templates": _course_rows(selectors.courses_for_teacher(templates=True)),
            "exercise_templates": list(selectors.exercise_templates()),
            "exercises": free,
            # Only one's own exercises go to another school (services.copy_to_tenant_request).
            "own_exercises": [e for e in free if e["created_by_id"] == request.user.pk],
            "targets": services.copy_targets(member=member),
            "copies": _copies(request),
        },
    )


def _list_action(request):
    member, action = request.membership, request.POST.get("action")
    if action == "create":
        return services.course_save(
            member=member,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    exercise = found(
        lambda: exercise_selectors.exercise_get(
            member=member, public_id=_uuid(request.POST.get("exercise"))
        )
    )
    if action == "exercise_template":
        services.exercise_template_set(member=member, exercise=exercise, is_template=True)
        messages.success(request, f"“{exercise.title}” is in the library.")
    elif action == "exercise_use":
        copy = services.exercise_template_use(member=member, exercise=exercise)
        messages.success(request, f"“{copy.title}” is a new draft.")
    elif action == "exercise_copy":
        services.copy_to_tenant_request(
            member=member, target_tenant_id=_uuid(request.POST.get("target")), exercise=exercise
        )
        messages.success(request, f"“{exercise.title}” is being copied.")
    return None


def _uuid(value):
    field = forms.UUIDField(required=True)
    try:
        return field.clean(value)
    except forms.ValidationError as error:
        raise DomainError("Choose one from the list.", code="invalid") from error


def _copies(request) -> list[CourseCopy]:
    return list(
        CourseCopy.objects.filter(requested_by=request.user)
        .select_related("course", "exercise")
        .order_by("-created_at")[:10]
    )


@teacher_page
def teacher_course(request: HttpRequest, public_id) -> HttpResponse:
    member = request.membership
    course = found(lambda: selectors.course_get(member=member, public_id=public_id))
    if request.method == "POST":
        try:
            result = _course_action(request, course)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if request.POST.get("action") == "delete":
                return redirect("learning:teacher_courses")
            if result is not None and result.pk != course.pk:
                return redirect("learning:teacher_course", public_id=result.public_id)
        return redirect("learning:teacher_course", public_id=course.public_id)
    items = selectors.course_items(course=course)
    units = [{"unit": u, "items": []} for u in course.units.order_by("position", "pk")]
    by_pk = {u["unit"].pk: u for u in units}
    for item in items:
        by_pk[item.unit_id]["items"].append(item)
    students = tenant_selectors.members_for_tenant(tenant=request.tenant, role="student")
    return render(
        request,
        "learning/courses/teacher_course.html",
        {
            "course": course,
            "units": units,
            "items": items,
            "free_exercises": list(
                Exercise.objects.filter(course_item__isnull=True, is_template=False)
                .order_by("title")
                .values("public_id", "title", "status")
            ),
            "classes": list(Classroom.objects.order_by("name")),
            "assigned_classes": set(course.assigned_classes.values_list("pk", flat=True)),
            "students": [m.user for m in students],
            "assigned_students": set(course.assigned_students.values_list("pk", flat=True)),
            "requires": CourseItem.Requires.choices,
            "targets": services.copy_targets(member=member),
            "copies": [c for c in _copies(request) if c.course_id == course.pk],
        },
    )


def _course_action(request, course):
    member, post = request.membership, request.POST
    action = post.get("action")
    if action == "add_unit":
        return services.unit_add(member=member, course=course, title=post.get("title", ""))
    if action in ("add_item", "update_item"):
        return _item_action(request, course, action)
    if action == "remove_item":
        item = _course_item(course, post.get("item"))
        services.item_remove(member=member, item=item)
        return None
    if action == "assign":
        from tenants.models import User

        services.course_assign(
            member=member,
            course=course,
            assign_to_all=post.get("assign") == "all",
            class_ids=Classroom.objects.filter(
                public_id__in=_uuids(post.getlist("classes"))
            ).values_list("pk", flat=True),
            student_ids=User.objects.filter(
                public_id__in=_uuids(post.getlist("students"))
            ).values_list("pk", flat=True),
        )
        messages.success(request, "The course's students are saved.")
        return None
    if action == "duplicate":
        form = DuplicateForm(post)
        if not form.is_valid():
            raise DomainError("Give the shift as a whole number of days.", code="invalid")
        copy = services.course_duplicate(
            member=member,
            course=course,
            title=form.cleaned_data["title"],
            shift=timedelta(days=form.cleaned_data["shift_days"]),
        )
        messages.success(request, f"“{copy.title}” is a copy, assigned to nobody yet.")
        return copy
    if action == "template":
        services.course_template_set(
            member=member, course=course, is_template=post.get("on") == "1"
        )
        return None
    if action == "use":
        copy = services.course_template_use(member=member, course=course)
        messages.success(request, f"“{copy.title}” is a new course from the template.")
        return copy
    if action == "delete":
        services.course_delete(member=member, course=course)
        messages.success(request, f"“{course.title}” was deleted; its exercises stay.")
        return None
    if action == "copy":
        services.copy_to_tenant_request(
            member=member, target_tenant_id=_uuid(post.get("target")), course=course
        )
        messages.success(request, "The copy is on its way; this page shows when it is done.")
        return None
    raise DomainError("Unknown action.", code="invalid")


def _uuids(values) -> list:
    return [_uuid(v) for v in values if v]


def _course_item(course, value) -> CourseItem:
    item = (
        CourseItem.objects.select_related("unit__course")
        .filter(public_id=_uuid(value), unit__course=course)
        .first()
    )
    if item is None:
        raise DomainError("That item is not part of this course.", code="not_found")
    return item


def _item_action(request, course, action):
    member = request.membership
    form = ItemForm(request.POST)
    if not form.is_valid():
        raise DomainError("Give the opening date as a date and time.", code="invalid")
    data = form.cleaned_data
    prerequisite = _course_item(course, data["prerequisite"]) if data["prerequisite"] else None
    requires = data["requires"] or CourseItem.Requires.REPLY
    if action == "update_item":
        item = _course_item(course, request.POST.get("item"))
        return services.item_update(
            member=member,
            item=item,
            release_at=data["release_at"],
            prerequisite=prerequisite,
            requires=requires,
        )
    unit = CourseUnit.objects.filter(public_id=data["unit"], course=course).first()
    if unit is None:
        raise DomainError("Choose a unit of this course.", code="not_found")
    exercise = found(
        lambda: exercise_selectors.exercise_get(member=member, public_id=data["exercise"])
    )
    return services.item_add(
        member=member,
        unit=unit,
        exercise=exercise,
        release_at=data["release_at"],
        prerequisite=prerequisite,
        requires=requires,
    )


# --- Students -------------------------------------------------------------------------------


@student_page
def my_courses(request: HttpRequest) -> HttpResponse:
    courses = list(selectors.courses_for_student(student=request.user))
    # Progress of every course in two queries: their published items, then the replies.
    items = list(
        CourseItem.objects.filter(
            unit__course__in=[c.pk for c in courses], exercise__status=Exercise.Status.PUBLISHED
        ).values_list("unit__course_id", "exercise_id")
    )
    progress = gates.progress_of(student=request.user, exercise_ids={e for _, e in items})
    totals: dict[int, list[int]] = {c.pk: [0, 0] for c in courses}
    for course_id, exercise_id in items:
        totals[course_id][1] += 1
        totals[course_id][0] += progress.done(exercise_id)
    path = id_path("learning:course_path")
    rows = [
        {
            "url": path(c.public_id),
            "title": c.title,
            "done": totals[c.pk][0],
            "total": totals[c.pk][1],
            "percent": round(100 * totals[c.pk][0] / totals[c.pk][1]) if totals[c.pk][1] else 0,
        }
        for c in courses
    ]
    return render(request, "learning/courses/my_courses.html", {"rows": rows})


@student_page
def course_path(request: HttpRequest, public_id) -> HttpResponse:
    course = found(lambda: selectors.course_get(member=request.membership, public_id=public_id))
    path = selectors.course_path(member=request.membership, course=course)
    exercise_url = id_path("learning:student_exercise")
    units = [
        {
            "title": unit.unit.title,
            "items": [
                {
                    "url": exercise_url(p.exercise.public_id),
                    "title": p.exercise.title,
                    "state": p.state,
                    "why": p.lock.short if p.lock else "",
                }
                for p in unit.items
            ],
        }
        for unit in path.units
    ]
    return render(request, "learning/courses/course_path.html", {"path": path, "units": units})
