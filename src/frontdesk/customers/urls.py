"""URLs of the customers pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from frontdesk.core.placeholders import placeholder

app_name = "customers"

urlpatterns: list[URLPattern | URLResolver] = [
    path("customers/", placeholder("Customers", "customers"), name="list"),
    path("companies/", placeholder("Companies", "companies"), name="companies"),
]
