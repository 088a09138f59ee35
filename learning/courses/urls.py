"""The course pages' routes (included by learning.urls)."""

from django.urls import path

from learning.courses import views

urlpatterns = [
    path("teach/courses/", views.course_list, name="teacher_courses"),
    path("teach/courses/<uuid:public_id>/", views.teacher_course, name="teacher_course"),
    path("courses/", views.my_courses, name="my_courses"),
    path("courses/<uuid:public_id>/", views.course_path, name="course_path"),
]
