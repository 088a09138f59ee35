"""Routes of analytics on a tenant's host (members only, like every page there; the
unsubscribe page's signed token is its credential)."""

from django.urls import path

from analytics import apis, views

app_name = "analytics"

urlpatterns = [
    path("start/", views.start, name="start"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/school/", views.school_dashboard, name="school_dashboard"),
    path("dashboard/sample-exercise/", views.sample_exercise_add, name="sample_exercise"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.notification_read_all, name="notifications_read_all"),
    path(
        "notifications/<uuid:public_id>/read/", views.notification_read,
        name="notification_read",
    ),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path(
        "api/v1/notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"
    ),
    path("api/v1/practice/", apis.PracticeApi.as_view(), name="api-practice"),
    path("api/v1/compare-views/", apis.CompareViewApi.as_view(), name="api-compare-views"),
    path("api/v1/notifications/", apis.NotificationListApi.as_view(), name="api-notifications"),
    path(
        "api/v1/notifications/read/", apis.NotificationReadApi.as_view(),
        name="api-notifications-read",
    ),
]
