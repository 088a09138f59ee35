"""LTI's routes on a school's host. `login`, `launch` and `jwks` are open (the LMS and a not
yet signed-in person reach them; tenants.middleware lists them); the rest are members' pages."""

from django.urls import path

from learning.lti import views

app_name = "lti"

urlpatterns = [
    path("lti/login/", views.login, name="login"),
    path("lti/launch/", views.launch, name="launch"),
    path("lti/jwks/", views.jwks, name="jwks"),
    path("lti/deep-link/", views.deep_link, name="deep_link"),
    path("manage/lms/", views.registrations, name="registrations"),
    path("manage/lms/<uuid:public_id>/", views.registration_edit, name="registration_edit"),
    path(
        "manage/lms/<uuid:public_id>/delete/",
        views.registration_delete,
        name="registration_delete",
    ),
    path("teach/lms-courses/", views.courses, name="courses"),
    path("teach/lms-courses/<uuid:public_id>/sync/", views.course_sync, name="course_sync"),
]
