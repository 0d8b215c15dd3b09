"""Pieces every admin page shares: read-only mirrors, safe filters, links and pretty JSON."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from referralhub.admin.lookups import DeclaredLookupsOnly, refuse_nul
from referralhub.admin.paging import EstimatedCountPaginator
from referralhub.errors import nul_params
from referralhub.models import AuditEntry, Provider, Unit
from referralhub.models.base import MirroredModel, column_field

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts, _FieldsetSpec

EMPTY = "—"


class LeanChangeList(ChangeList):
    """A changelist that does not fetch the big columns (raw payloads, bodies) it never shows."""

    model_admin: LargeTableAdmin

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        queryset = super().get_queryset(request, exclude_parameters)
        deferred = self.model_admin.get_list_defer(request)
        return queryset.defer(*deferred) if deferred else queryset


class FilterValuesMixin(DeclaredLookupsOnly):
    """Filter values that no row can match answer as Django answers any impossible filter (the
    whole list, flagged ?e=1), where the database would otherwise fail with a 500:

    - a NUL character (`referralhub.errors.nul_params`);
    - an id over 64 bits on a foreign key (?promoter=99999999999999999999): Django checks the
      range of an integer field's own lookups but not of related ones, and SQLite cannot bind it;
    - a date hierarchy year with no next year (?created__year=9999).

    The page after ?e=1 says the filter was dropped: Django's shows the whole list without a word,
    which reads as if the filter had matched every row. A lookup no filter declares is refused
    before any of this (`referralhub.admin.lookups`).
    """

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        impossible = HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        if nul_params(request.GET) or not self.date_hierarchy_fits(request):
            return impossible
        try:
            response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        except OverflowError:
            return impossible
        if ERROR_FLAG in request.GET and "cl" in (getattr(response, "context_data", None) or {}):
            name = response.context_data["cl"].opts.verbose_name_plural
            messages.warning(request, DROPPED_FILTER.format(name=name))
        return response


DROPPED_FILTER = "A filter in the address could not be applied, so this shows all {name}."


class LargeTableAdmin(FilterValuesMixin, admin.ModelAdmin):
    """Changelists that stay fast at a million rows: no full COUNT(*), no facet counts."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_defer: tuple[str, ...] = ()
    # The site's value, set here too: without it every cell looks it up through an
    # AttributeError (ModelAdmin.get_empty_value_display).
    empty_value_display = EMPTY

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LeanChangeList

    def get_list_defer(self, request: HttpRequest) -> tuple[str, ...]:
        return self.list_defer


SearchVia = tuple[str, Callable[[list[str]], QuerySet]]


class ExactSearchMixin:
    """Search a large table by exact values only, so that every term is an index lookup.

    Django's default search ORs `icontains` over every field and joined table: a sequential scan
    of the whole table per search (seconds at a million rows). Here a term must equal an indexed
    column (as typed, or lower-cased for emails), or identify related rows (a promotion's ref id,
    a promoter's email) whose ids are fetched first, so the final OR is over indexed columns of
    this table alone and PostgreSQL answers it with a bitmap OR of index scans.
    """

    exact_search_fields: tuple[str, ...] = ()
    exact_search_via: tuple[SearchVia, ...] = ()
    via_limit = 1000

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        refuse_nul(search_term)
        term = search_term.strip()
        if not term:
            return queryset, False
        values = sorted({term, term.lower()})
        # (provider, external_id) is the unique index: naming every provider lets it be used.
        match = Q(provider__in=Provider.values, external_id__in=values)
        for field in self.exact_search_fields:
            match |= Q(**{f"{field}__in": values})
        for fk, related in self.exact_search_via:
            ids = list(related(values).values_list("pk", flat=True)[: self.via_limit])
            if ids:
                match |= Q(**{f"{fk}__in": ids})
        return queryset.filter(match), False


class ReadOnlyAdmin(LargeTableAdmin):
    """Rows written by webhooks or services, never by a form: browse them, don't edit them.

    Every field is read-only even if someone later grants the change permission, and without the
    change permission a forged POST to the change page is refused with 403.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        own = [f.name for f in self.model._meta.fields]
        extra = (n for n in super().get_readonly_fields(request, obj) if n not in own)
        return [*own, *extra, *_decimal_displays(self.model).values()]  # type: ignore[arg-type]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> _FieldsetSpec:
        """Decimal columns as people read them, where Django pads each to its 4 places."""
        shown = _decimal_displays(self.model)  # type: ignore[arg-type]

        def swap(entry: Any) -> Any:
            return (
                tuple(map(swap, entry))
                if isinstance(entry, list | tuple)
                else shown.get(entry, entry)
            )

        return [
            (name, {**options, "fields": swap(options["fields"])})
            for name, options in super().get_fieldsets(request, obj)
        ]


def plain_decimal(value: Decimal) -> str:
    """A stored amount as people read it: at least 2 places, more only where the value has them
    (297.00, 9.80, 0.1234); the columns keep 4."""
    cents = value.quantize(Decimal("0.01"))
    return f"{cents:,}" if cents == value else f"{value.normalize():,f}"


# Cached per model class. Model classes are hashable, though mypy reads `type[Any]` as not
# Hashable at the call sites (hence their ignores).
@functools.cache
def _decimal_displays(model: type[models.Model]) -> dict[str, Callable[[Any], str]]:
    """{field name: a read-only display of it} for `model`'s decimal fields."""

    def display(name: str) -> Callable[[Any], str]:
        def shown(obj: Any) -> str:
            value = getattr(obj, name)
            return EMPTY if value is None else plain_decimal(value)

        shown.__name__ = name  # the label, help text and CSS class of the field itself
        shown.short_description = column_field(model, name).verbose_name  # type: ignore[attr-defined]
        return shown

    return {
        f.name: display(f.name) for f in model._meta.fields if isinstance(f, models.DecimalField)
    }


def unread_columns(model: type[models.Model], keep: set[str], prefix: str = "") -> tuple[str, ...]:
    """`model`'s columns but its pk and `keep`, as defer() arguments (through `prefix`)."""
    return tuple(
        f"{prefix}{f.name}"
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in keep
    )


PROVIDER_FIELDS = ("provider", "external_id", "provider_updated_at", "created", "updated")


class MirroredAdmin(ReadOnlyAdmin):
    """A model mirrored from a provider: the provider is the source of truth for every field."""

    readonly_fields: ClassVar[tuple[str, ...]] = ("payload_pretty",)
    provider_fieldset: tuple[str, _FieldOpts] = (
        "From the provider",
        {"fields": (*PROVIDER_FIELDS, "payload_pretty"), "classes": ("collapse",)},
    )

    # The columns a changelist row reads beyond the __str__ of the row and of the rows it links
    # to, e.g. ("status", "lead__suspicion"); no other column is loaded. Left empty, the row's
    # own columns are all loaded but the payload.
    list_fields: tuple[str, ...] = ()

    def get_list_defer(self, request: HttpRequest) -> tuple[str, ...]:
        related = self.list_select_related if isinstance(self.list_select_related, tuple) else ()
        own: tuple[str, ...] = ("payload",)
        # Without str_fields declared, __str__ may read any column: keep them all.
        if self.list_fields and self.model.str_fields is not None:
            own = unread_columns(self.model, {*self.model.str_fields, *related, *self.list_fields})
        linked = (field for name in related for field in self._linked_defer(name))
        return (*own, *linked, *self.list_defer)

    def _linked_defer(self, name: str) -> tuple[str, ...]:
        """What not to load of the row in foreign key `name`: all but what the list reads."""
        model = self.model._meta.get_field(name).related_model if "__" not in name else None
        if model is None or getattr(model, "str_fields", None) is None:
            return (f"{name}__payload",)
        prefix = f"{name}__"
        keep = {
            *model.str_fields,
            *(f[len(prefix) :] for f in self.list_fields if f.startswith(prefix)),
        }
        return unread_columns(model, keep, prefix)

    @admin.display(description="last payload")
    def payload_pretty(self, obj: MirroredModel) -> str:
        return pretty_json(obj.payload)


def datetime_column(field: str, description: str = "", fmt: str = "%Y-%m-%d %H:%M") -> Any:
    """A sortable list column showing a timestamp compactly (2026-11-22 10:10), in local time."""

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(self: admin.ModelAdmin, obj: models.Model) -> str:
        value = getattr(obj, field)
        if not value:
            return EMPTY
        # Each part stays whole, but a narrow table may put the time under the date.
        parts = localtime(value).strftime(fmt).split(" ")
        return SafeString(" ".join(f'<span class="rh-nowrap">{escape(p)}</span>' for p in parts))

    return column


def admin_url(obj: models.Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])


def admin_link(obj: models.Model | None, text: object = None) -> str:
    """A link to `obj`'s admin page; callers select_related it so a list row costs no query."""
    if obj is None:
        return EMPTY
    return format_html('<a href="{}">{}</a>', admin_url(obj), obj if text is None else text)


def link_column(field: str, ordering: str) -> Callable[[Any, models.Model], str]:
    """A changelist column linking to the object in the foreign key `field`."""

    @admin.display(description=field, ordering=ordering)
    def column(model_admin: Any, obj: models.Model) -> str:
        return admin_link(getattr(obj, field))

    return column


def changelist_url(model: type[models.Model], **filters: object) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def related_links(obj: models.Model, links: list[tuple[type[models.Model], str, str]]) -> str:
    """Links to changelists filtered on this object, e.g. a promoter's leads and rewards."""
    return format_html_join(
        " · ",
        '<a href="{}">{}</a>',
        ((changelist_url(model, **{fk: obj.pk}), label) for model, fk, label in links),
    )


def pre_block(text: str) -> str:
    """Preformatted text, HTML-escaped. It may scroll, so it takes the keyboard's focus: a block
    that scrolls must be reachable without a mouse."""
    return format_html('<pre class="rh-pre" tabindex="0">{}</pre>', text)


def pretty_json(value: object) -> str:
    if value in (None, "", {}, []):
        return EMPTY
    return pre_block(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def pretty_text(text: str) -> str:
    """A raw body: indented when it is JSON, as sent otherwise; always HTML-escaped."""
    if not text:
        return EMPTY
    try:
        return pretty_json(json.loads(text))
    except ValueError:
        return pre_block(text)


def audit_history(obj: models.Model) -> SafeString | str:
    """The staff actions recorded on `obj`, newest first, as a small table."""
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("actor")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                localtime(e.created).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                changes_text(e),
                e.note,
            )
            for e in entries[:200]
        ),
    )
    if not rows:
        return "No staff action yet."
    return format_html(
        '<table class="rh-audit"><thead><tr><th>When</th><th>Who</th><th>Action</th>'
        "<th>Changes</th><th>Reason or note</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def changes_text(entry: AuditEntry) -> str:
    return "; ".join(f"{field}: {before} → {after}" for field, before, after in entry.changes_shown)


class ChoicesFilter(admin.SimpleListFilter):
    """A filter over an open string column from a fixed list of known values.

    The default filter for such a column runs SELECT DISTINCT over the whole table on every page.
    """

    field: str = ""
    known: tuple[tuple[str, str], ...] = ()

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return self.known

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


def choices_filter(field: str, title: str, values: Any) -> type[ChoicesFilter]:
    pairs = tuple((v, v) if isinstance(v, str) else v for v in values)
    return type(
        f"{field.title().replace('_', '')}Filter",
        (ChoicesFilter,),
        {"field": field, "parameter_name": field, "title": title, "known": pairs},
    )


UnitFilter = choices_filter(
    "unit",
    "unit",
    [(v, f"{label} (v2)" if v == Unit.MON_DISCOUNT else label) for v, label in Unit.choices],
)
