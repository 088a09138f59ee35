"""The API's one pagination class, and how an APIView returns a page of a list with it.

drf-spectacular documents a list response as a page (`count`, `next`, `previous`, `results`)
when the view has a `pagination_class`: a view that pages by hand must name the class it pages
with, or its schema says "array" while it answers with an object. `PaginatedListMixin` gives
the view both from the same attribute, so they cannot drift apart.
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class PaginatedListMixin:
    """For an APIView whose GET answers with a page of a queryset."""

    pagination_class = Pagination

    def paginated_response(self, queryset, serializer_class) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)
