"""The SLA screens under /sla/: the page everyone reads, and the admin screens under /sla/admin/."""

from django.urls import URLPattern, URLResolver, path

from relaydesk.sla.views import calendar, calendars, policies, policy, vision, vision_edit

app_name = "sla"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", vision.vision, name="vision"),
    path("admin/vision/", vision_edit.vision_edit, name="vision_edit"),
    path("admin/calendars/", calendars.calendars, name="calendars"),
    path("admin/calendars/new/", calendar.calendar_new, name="calendar_new"),
    path("admin/calendars/preview/", calendar.calendar_preview, name="calendar_preview"),
    path("admin/calendars/<int:calendar_id>/", calendar.calendar_detail, name="calendar"),
    path("admin/calendars/<int:calendar_id>/delete/", calendar.calendar_delete, name="calendar_delete"),
    path("admin/policies/", policies.policies, name="policies"),
    path("admin/policies/new/", policy.policy_new, name="policy_new"),
    path("admin/policies/<int:policy_id>/", policy.policy_detail, name="policy"),
    path("admin/policies/<int:policy_id>/move/", policies.policy_move, name="policy_move"),
    path("admin/policies/<int:policy_id>/delete/", policy.policy_delete, name="policy_delete"),
]
