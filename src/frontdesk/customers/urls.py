"""URLs of the customers and companies pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from frontdesk.customers import views

app_name = "customers"

urlpatterns: list[URLPattern | URLResolver] = [
    path("customers/", views.customer_list, name="list"),
    path("customers/<int:pk>/", views.customer_detail, name="detail"),
    path("companies/", views.company_list, name="companies"),
    path("companies/<int:pk>/", views.company_detail, name="company"),
]
