"""URLs of the notifications pages, under /notifications/."""

from __future__ import annotations

from frontdesk.notifications.views import urls

app_name = "notifications"

urlpatterns = urls
