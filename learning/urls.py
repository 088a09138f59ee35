"""Pages of the core loop on a tenant's host. Members only (tenants.middleware); the views
add the role: `teach/…` is for teachers, `exercises/` and `replies/` for students, and the
compare page for the reply's student and the tenant's teachers."""

from django.urls import include, path

from learning.exercises import views as exercises
from learning.exports import views as exports
from learning.replies import views as replies

app_name = "learning"

urlpatterns = [
    # Teachers
    path("teach/exercises/", exercises.exercise_list, name="teacher_exercises"),
    path("teach/exercises/new/", exercises.exercise_create, name="exercise_create"),
    path("teach/exercises/<uuid:public_id>/", exercises.teacher_exercise, name="teacher_exercise"),
    path("teach/exercises/<uuid:public_id>/edit/", exercises.exercise_edit, name="exercise_edit"),
    path(
        "teach/exercises/<uuid:public_id>/publish/",
        exercises.exercise_publish,
        name="exercise_publish",
    ),
    path(
        "teach/exercises/<uuid:public_id>/delete/",
        exercises.exercise_delete,
        name="exercise_delete",
    ),
    path("teach/classes/", exercises.classroom_list, name="classes"),
    path("teach/classes/new/", exercises.classroom_create, name="classroom_create"),
    path("teach/classes/<uuid:public_id>/", exercises.classroom_edit, name="classroom_edit"),
    path("teach/inbox/", replies.inbox, name="inbox"),
    # Students
    path("exercises/", exercises.my_exercises, name="my_exercises"),
    path("exercises/<uuid:public_id>/", exercises.student_exercise, name="student_exercise"),
    path("replies/", replies.my_replies, name="my_replies"),
    # Both
    path("replies/<uuid:public_id>/", replies.compare, name="compare"),
    path("replies/<uuid:public_id>/review/", replies.reply_review, name="reply_review"),
    path("replies/<uuid:public_id>/delete/", replies.reply_delete, name="reply_delete"),
    # Exports: the school's (owners and admins, in the admin portal) and one's own
    path("manage/export/", exports.tenant_export, name="tenant_export"),
    path("my-data/", exports.my_data, name="my_data"),
    path("exports/<uuid:public_id>/download/", exports.export_download, name="export_download"),
    # LTI 1.3 (learning.lti): the LMS's endpoints, the admin's registrations, course rosters
    path("", include("learning.lti.urls")),
]
