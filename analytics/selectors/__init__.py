"""Reads for the dashboards and the bell, one module per dashboard: `student`, `teacher`
(with the onboarding checklist), `school` (the admin's overview), `bell`, and what they share
in `common`. Each dashboard is computed from rollups and a fixed set of aggregate queries, so
its query count does not grow with students or replies (tests/analytics assert it with 1,000
students and 10,000 replies). Callers use this package's names."""

from analytics.selectors.bell import Bell, bell_for, notifications_for
from analytics.selectors.common import (
    CHART_WEEKS,
    WeekPoint,
    assigned_student_ids,
    student_memberships,
    teacher_user_ids,
)
from analytics.selectors.school import AdminDashboard, admin_dashboard
from analytics.selectors.student import StudentDashboard, landing_exercise, student_dashboard
from analytics.selectors.teacher import (
    SAMPLE_MILESTONE,
    ChecklistStep,
    TeacherDashboard,
    onboarding_checklist,
    sample_exercise_available,
    sort_students,
    teacher_dashboard,
)

__all__ = [
    "CHART_WEEKS",
    "SAMPLE_MILESTONE",
    "AdminDashboard",
    "Bell",
    "ChecklistStep",
    "StudentDashboard",
    "TeacherDashboard",
    "WeekPoint",
    "admin_dashboard",
    "assigned_student_ids",
    "bell_for",
    "landing_exercise",
    "notifications_for",
    "onboarding_checklist",
    "sample_exercise_available",
    "sort_students",
    "student_dashboard",
    "student_memberships",
    "teacher_dashboard",
    "teacher_user_ids",
]
