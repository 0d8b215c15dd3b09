"""Which query parameters an admin changelist takes: its declared filters, nothing else.

Django's admin applies any lookup on a model's own fields that a changelist's address names
(`lookup_allowed` refuses only lookups across relations), so a staff user allowed to view API
tokens could bisect a key with `?key__startswith=…`, one request per character: the list shows
rows or none. Here a changelist takes only:

- the parameters of its `list_filter` (those Django's own filter links use, and `?<field>=`);
- `link_filters`: foreign keys other admin pages link to as `?<fk>=<id>` (an id is no secret);
- its `date_hierarchy` (`<field>__year`, `__month`, `__day`);
- search (`q`), ordering, paging and the admin's own flags, which never reach this check.

Anything else is refused with 400: `DisallowedModelAdminLookup` is a `SuspiciousOperation`.
Being a rule over what is declared rather than a list of secret fields, it covers fields added
later. `protect_every_admin` applies it to the admins other apps register (users, groups, axes).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.filters import EmptyFieldListFilter, SimpleListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import BadRequest
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

DATE_HIERARCHY_PARTS = ("year", "month", "day")
# Django's date hierarchy filters on [year, next year): a year must leave room for the next one.
DATE_HIERARCHY_YEARS = range(1, 9999)


def field_filter_parameters(model: type[models.Model], path: str, kind: Any = None) -> set[str]:
    """The parameters Django's filter for field `path` puts in its links, and `?<path>=`."""
    field = get_fields_from_path(model, path)[-1]
    names = {path, f"{path}__exact", f"{path}__isnull"}
    if isinstance(kind, type) and issubclass(kind, EmptyFieldListFilter):
        names.add(f"{path}__isempty")
    if isinstance(field, models.DateField):  # DateTimeField included
        names |= {f"{path}__gte", f"{path}__lt"}
    if field.is_relation:
        # Every relation has a target field; the stubs type `field` as a plain Field.
        names.add(f"{path}__{field.target_field.name}__exact")  # type: ignore[attr-defined]
    return names


class DeclaredLookupsOnly:
    """A ModelAdmin whose changelist takes its declared filters' parameters only (see above)."""

    link_filters: tuple[str, ...] = ()

    def allowed_lookups(self, request: HttpRequest | None) -> set[str]:
        model_admin: admin.ModelAdmin = self  # type: ignore[assignment]
        names: set[str] = set()
        declared = (
            model_admin.get_list_filter(request) if request is not None else model_admin.list_filter
        )
        for item in declared:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                names.add(str(item.parameter_name))
            elif isinstance(item, list | tuple):
                names |= field_filter_parameters(model_admin.model, str(item[0]), item[1])
            else:
                names |= field_filter_parameters(model_admin.model, str(item))
        for path in self.link_filters:
            names |= field_filter_parameters(model_admin.model, path)
        if model_admin.date_hierarchy:
            names |= {f"{model_admin.date_hierarchy}__{part}" for part in DATE_HIERARCHY_PARTS}
        return names

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in self.allowed_lookups(request) or self._limit_choices_lookup(lookup, value)

    def date_hierarchy_fits(self, request: HttpRequest) -> bool:
        """Whether the date hierarchy's year is one it can filter on: Django's own check lets
        9999 through, and the end of its range (10000-01-01) then fails with a 500."""
        date_hierarchy = self.date_hierarchy  # type: ignore[attr-defined]
        year = request.GET.get(f"{date_hierarchy}__year") if date_hierarchy else None
        if year is None:
            return True
        return year.isascii() and year.isdigit() and int(year) in DATE_HIERARCHY_YEARS

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        refuse_nul(search_term)
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]

    def _limit_choices_lookup(self, lookup: str, value: str) -> bool:
        """A raw-id popup's filter from a foreign key's `limit_choices_to`, which Django's own
        `lookup_allowed` lets through: the popup's address carries it."""
        model = self.model  # type: ignore[attr-defined]
        for fk_lookup in model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False


def refuse_nul(search_term: str) -> None:
    """A search term with a NUL, which PostgreSQL text cannot hold (the autocomplete's `term`;
    a changelist's `q` is caught before, with its other filter values), is a 400."""
    if "\x00" in search_term:
        raise BadRequest("A search term cannot hold a NUL character.")


def protect_every_admin(site: admin.AdminSite) -> None:
    """Give every admin registered on `site` the rule, the ones other apps register included
    (Django's users and groups, django-axes' attempts), by registering a subclass in its place."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, DeclaredLookupsOnly):
            continue
        cls = type(model_admin)
        protected = type(cls.__name__, (DeclaredLookupsOnly, cls), {"__module__": cls.__module__})
        site.unregister(model)
        site.register(model, protected)
