from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from frontdesk.api import api
from frontdesk.core.views import home

urlpatterns = [
    path("", home, name="home"),
    path("", include("frontdesk.accounts.urls")),
    path("", include("frontdesk.conversations.urls")),
    path("", include("frontdesk.customers.urls")),
    path("", include("frontdesk.mail.urls")),
    path("notifications/", include("frontdesk.notifications.urls")),
    path("", include("frontdesk.sla.urls")),
    path("manage/routing/", include("frontdesk.routing.urls")),
    path("", include("frontdesk.automation.urls")),
    path("portal/", include("frontdesk.portal.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
