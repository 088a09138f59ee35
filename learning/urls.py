"""Pages of the core loop on a tenant's host. Members only (tenants.middleware); the views
add the role: `teach/…` is for teachers, `exercises/` and `replies/` for students, and the
compare page for the reply's student and the tenant's teachers."""

from django.urls import include, path

from learning.class_signin import views as class_signin
from learning.exercises import views as exercises
from learning.exports import views as exports
from learning.feedback_library.urls import pages as feedback_library_pages
from learning.guardians import views as guardians
from learning.replies import views as replies
from learning.roster import views as roster

app_name = "learning"

urlpatterns = [
    # Students without email sign in here (open to non-members, tenants.middleware).
    path("sign-in/class/", class_signin.class_signin, name="class_signin"),
    path("sign-in/class/pick/", class_signin.class_signin_pick, name="class_signin_pick"),
    # A guardian's read-only view, with the signed link as credential.
    path("guardian/<str:token>/feedback/", guardians.guardian_feedback, name="guardian_feedback"),
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
    path(
        "teach/classes/<uuid:public_id>/sign-in/", class_signin.classroom_signin,
        name="classroom_signin",
    ),
    path(
        "teach/classes/<uuid:public_id>/sign-in/code/", class_signin.classroom_code_rotate,
        name="classroom_code_rotate",
    ),
    path(
        "teach/classes/<uuid:public_id>/sign-in/students/", class_signin.classroom_student_create,
        name="classroom_student_create",
    ),
    path(
        "teach/classes/<uuid:public_id>/sign-in/cards.pdf", class_signin.classroom_cards,
        name="classroom_cards",
    ),
    path(
        "teach/students/<uuid:public_id>/code/", class_signin.account_pin_reset,
        name="managed_pin_reset",
    ),
    path(
        "teach/students/<uuid:public_id>/rename/", class_signin.account_rename,
        name="managed_rename",
    ),
    path(
        "teach/students/<uuid:public_id>/remove/", class_signin.account_remove,
        name="managed_remove",
    ),
    path("teach/inbox/", replies.inbox, name="inbox"),
    # Admin portal: roster import (owners and admins)
    path("manage/roster/", roster.roster_upload, name="roster_upload"),
    path("manage/roster/template.csv", roster.roster_template, name="roster_template"),
    path("manage/roster/<uuid:public_id>/", roster.roster_preview, name="roster_preview"),
    path("manage/roster/<uuid:public_id>/import/", roster.roster_confirm, name="roster_confirm"),
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
    *feedback_library_pages,
    # Courses (learning.courses): teachers' courses and library, students' course paths
    path("", include("learning.courses.urls")),
    # Peer review (learning.peer_review): a student's classmates' replies to review
    path("", include("learning.peer_review.urls")),
    # Co-teachers: assigning a reply, the school's open work per teacher
    path("", include("learning.coteachers.urls")),
    # Rubrics and the class gradebook (learning.rubrics)
    path("", include("learning.rubrics.urls")),
]
