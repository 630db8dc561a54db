from django.contrib import admin
from django.urls import path

from frontdesk.api import api
from frontdesk.core.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
