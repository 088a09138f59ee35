"""Peer review's pages (included by learning.urls)."""

from django.urls import path

from learning.peer_review import views

urlpatterns = [
    path("peer-reviews/", views.review_list, name="peer_reviews"),
]
