"""Pages of the core loop on a tenant's host. Members only (tenants.middleware); the views
add the role: `teach/…` is for teachers, `exercises/` and `replies/` for students, and the
compare page for the reply's student and the tenant's teachers."""

from django.urls import path

from learning import views

app_name = "learning"

urlpatterns = [
    # Teachers
    path("teach/exercises/", views.exercise_list, name="teacher_exercises"),
    path("teach/exercises/new/", views.exercise_create, name="exercise_create"),
    path("teach/exercises/<uuid:public_id>/", views.teacher_exercise, name="teacher_exercise"),
    path("teach/exercises/<uuid:public_id>/edit/", views.exercise_edit, name="exercise_edit"),
    path(
        "teach/exercises/<uuid:public_id>/publish/",
        views.exercise_publish,
        name="exercise_publish",
    ),
    path(
        "teach/exercises/<uuid:public_id>/delete/", views.exercise_delete, name="exercise_delete"
    ),
    path("teach/classes/", views.classroom_list, name="classes"),
    path("teach/classes/new/", views.classroom_create, name="classroom_create"),
    path("teach/classes/<uuid:public_id>/", views.classroom_edit, name="classroom_edit"),
    path("teach/inbox/", views.inbox, name="inbox"),
    # Students
    path("exercises/", views.my_exercises, name="my_exercises"),
    path("exercises/<uuid:public_id>/", views.student_exercise, name="student_exercise"),
    path("replies/", views.my_replies, name="my_replies"),
    # Both
    path("replies/<uuid:public_id>/", views.compare, name="compare"),
    path("replies/<uuid:public_id>/review/", views.reply_review, name="reply_review"),
]
