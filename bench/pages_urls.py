"""Bench-only urlconf: the product's URLs plus two untuned baselines that `bench/pages.py`
compares the tuned admin with, each the same models on its own `AdminSite`:

- `/stock-admin/`: a bare `ModelAdmin` per model, Django's defaults (one `__str__` column);
- `/stock-same-admin/`: the same changelists as the tuned admin (its columns, filters, search,
  ordering and `list_select_related`, so no query per row), through a stock `ModelAdmin`: none of
  the tuning (`LargeTableAdmin`: no full `COUNT(*)`, deferred columns) is there.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.contrib import admin
from django.contrib.admin import AdminSite, ModelAdmin
from django.urls import include, path

# What a changelist shows, as opposed to how it is made fast.
SHOWN = (
    "list_display",
    "list_display_links",
    "list_filter",
    "list_select_related",
    "search_fields",
    "ordering",
    "date_hierarchy",
    "list_per_page",
)


def same_changelist(tuned: ModelAdmin) -> type[ModelAdmin]:
    """A stock `ModelAdmin` showing what `tuned` shows, its display columns copied."""
    attrs: dict[str, Any] = {name: getattr(tuned, name) for name in SHOWN}
    for name in tuned.list_display:
        # A column the tuned admin defines (Django looks there before the model's attributes).
        if isinstance(name, str) and hasattr(tuned, name) and not hasattr(ModelAdmin, name):
            attrs[name] = inspect.getattr_static(type(tuned), name)
    return type(f"Stock{type(tuned).__name__}", (ModelAdmin,), attrs)


stock_site = AdminSite(name="stockadmin")
same_site = AdminSite(name="stocksameadmin")
for model, tuned in admin.site._registry.items():
    stock_site.register(model, ModelAdmin)
    same_site.register(model, same_changelist(tuned))

urlpatterns = [
    path("stock-admin/", stock_site.urls),
    path("stock-same-admin/", same_site.urls),
    path("", include("referralhub.urls")),
]
