"""Bench-only urlconf: the product's URLs plus `/stock-admin/`, the same models through stock
`ModelAdmin`s with no tuning, the baseline `bench/pages.py` compares the tuned admin with."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import AdminSite, ModelAdmin
from django.urls import include, path

stock_site = AdminSite(name="stockadmin")
for model in admin.site._registry:
    stock_site.register(model, ModelAdmin)

urlpatterns = [
    path("stock-admin/", stock_site.urls),
    path("", include("referralhub.urls")),
]
