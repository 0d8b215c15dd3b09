"""Per-row work in changelists, done once per page where Django does it once per row.

Profiled at 100 rows a page, most of a tuned changelist's time went to work repeated per row
that depends on the page only: `reverse()` for every link (the row's own and each foreign-key
column), a widget template rendered for every action checkbox, and `items_for_result` working
out each column's kind, classes and empty value again for every cell. Here each is done once.
"""

from __future__ import annotations

import datetime
import html as stdlib_html
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any

from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import ResultList, result_headers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import DateField, Field, ForeignKey, ManyToOneRel, Model, TimeField
from django.db.models.options import Options
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _


def quick_escape(value: Any) -> str:
    """Django's `conditional_escape`, minus the lazy-string checks that `escape` and `mark_safe`
    make on every call: at 20-30 calls a row they were a tenth of a changelist's time. Same
    output: Django's `escape` is the standard library's `html.escape` of `str(value)`."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return stdlib_html.escape(str(value))


def quick_format_html(template: str, *args: Any) -> SafeString:
    """Django's `format_html` (each argument escaped unless it is safe), without those checks."""
    return SafeString(template.format(*map(quick_escape, args)))


# A pk no real row has, reversed once and replaced by each row's own pk.
_SLOT = 987_654_321_987


class ChangeUrls:
    """Change-page URLs for one request: one `reverse()` per model, then the pk formatted in."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, str | None], tuple[str, str] | None] = {}

    def url(self, viewname: str, pk: int | str, current_app: str | None) -> str:
        key = (viewname, current_app)
        if key not in self._parts:
            sample = reverse(viewname, args=[_SLOT], current_app=current_app)
            head, slot, tail = sample.partition(str(_SLOT))
            # A pattern that used the pk twice, or transformed it, is left to reverse().
            self._parts[key] = (head, tail) if slot and str(_SLOT) not in tail else None
        parts = self._parts[key]
        # Only integer pks come out of reverse() exactly as str(pk): strings get quoted.
        if parts is None or type(pk) is not int:
            return reverse(viewname, args=[quote(pk)], current_app=current_app)
        return f"{parts[0]}{pk}{parts[1]}"


_request_urls: ContextVar[ChangeUrls | None] = ContextVar("admin_change_urls", default=None)


@contextmanager
def cached_change_urls() -> Iterator[None]:
    """Within this block (one request), change URLs are reversed once per model."""
    token = _request_urls.set(ChangeUrls())
    try:
        yield
    finally:
        _request_urls.reset(token)


def change_url(opts: Options, pk: int | str, current_app: str | None = None) -> str:
    """The admin change page of the `opts` model's row `pk`, as reverse() would give it."""
    viewname = f"admin:{opts.app_label}_{opts.model_name}_change"
    urls = _request_urls.get()
    if urls is None:
        return reverse(viewname, args=[quote(pk)], current_app=current_app)
    return urls.url(viewname, pk, current_app)


def lean_action_checkbox(model_admin: Any, obj: Model) -> SafeString:
    """`ModelAdmin.action_checkbox` (the same HTML, a test compares both) without rendering a
    widget template per row, which was a third of a changelist's time."""
    return _checkbox(_checkbox_label(), obj)


def _checkbox_label() -> str:
    return _("Select this object for an action - {}")


def _checkbox(label: str, obj: Model) -> SafeString:
    return quick_format_html(
        '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
        helpers.ACTION_CHECKBOX_NAME,
        str(obj.pk),
        SafeString(label.format(quick_escape(str(obj)))),
    )


Getter = Callable[[Model], object]


@dataclass(frozen=True)
class Column:
    """What Django's `items_for_result` works out for a column on every row, worked out once."""

    get: Getter
    field: Field | None
    classes: str
    empty: str
    boolean: bool
    choices: dict[Any, Any] | None
    link: bool


def lean_result_list(cl: ChangeList) -> dict[str, Any] | None:
    """The context of Django's `result_list` tag with each row already rendered, as
    `items_for_result` renders it, into one HTML string; None where that is not worth
    reproducing (editable lists, popups, an empty page), and Django renders the rows itself.

    `items_for_result` redoes per cell what depends only on the column (field lookup, classes,
    empty value, link): 15-20 µs a cell, 900 cells a page, a fifth of a tuned changelist.
    tests/admin/test_rows.py checks the HTML is Django's.
    """
    rows = list(cl.result_list)
    if cl.formset or cl.is_popup or cl.to_field or not cl.list_display_links or not rows:
        return None
    try:
        columns = [_column(cl, name, i, rows[0]) for i, name in enumerate(cl.list_display)]
    except ObjectDoesNotExist:
        return None
    headers = list(result_headers(cl))
    link = _Linker(cl)
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": [ResultList(None, [_row(cl, columns, link, obj)]) for obj in rows],
    }


def _column(cl: ChangeList, name: Any, index: int, sample: Model) -> Column:
    model_admin = cl.model_admin
    field, attr, _value = lookup_field(name, sample, model_admin)
    get: Getter
    if field is not None:
        get = attrgetter(name)
    elif name == "__str__":
        get = str
    elif name == "action_checkbox" and _method(model_admin, name) is lean_action_checkbox:
        get = partial(_checkbox, _checkbox_label())  # translated once per page, not per row
    elif isinstance(name, str) and hasattr(model_admin, name):
        get = getattr(model_admin, name)
    else:
        get = partial(_lookup_value, name, model_admin)
    plain = field is None or field.auto_created
    classes = [f"field-{_column_name(name, index)}"]
    if plain and name == "action_checkbox":
        classes = ["action-checkbox"]
    if not plain and isinstance(field, DateField | TimeField | ForeignKey):
        classes.append("nowrap")
    boolean = getattr(attr, "boolean", False)
    if isinstance(attr, property) and hasattr(attr, "fget"):
        boolean = getattr(attr.fget, "boolean", False)
    return Column(
        get=get,
        field=None if plain else field,
        classes=" ".join(classes),
        empty=getattr(attr, "empty_value_display", model_admin.get_empty_value_display()),
        boolean=boolean,
        choices=None if field is None or plain else _choices(field),
        link=name in cl.list_display_links,
    )


def _method(model_admin: Any, name: str) -> Any:
    return getattr(getattr(model_admin, name, None), "__func__", None)


def _column_name(name: Any, index: int) -> str:
    if callable(name):
        return f"lambda{index}" if name.__name__ == "<lambda>" else name.__name__
    return name


def _choices(field: Field) -> dict[Any, Any] | None:
    """A field's choices as the dict `display_for_field` builds for every cell."""
    if not getattr(field, "flatchoices", None):
        return None
    try:
        return dict(field.flatchoices)
    except TypeError:  # list-like choices: left to display_for_field
        return None


def _lookup_value(name: Any, model_admin: Any, obj: Model) -> object:
    return lookup_field(name, obj, model_admin)[2]


class _Linker:
    """The row's link to its change page, the list's filters preserved, as Django makes it."""

    def __init__(self, cl: ChangeList) -> None:
        self.cl = cl
        self.context: dict[str, Any] = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
        self.suffix: str | None = None

    def __call__(self, obj: Model, html: Any) -> Any:
        try:
            url = self.cl.url_for_result(obj)
        except NoReverseMatch:
            return html
        if self.suffix is None:
            # The same query string for every row (the list's filters): resolved once.
            linked = add_preserved_filters(self.context, url)
            if not linked.startswith(url):
                return format_html('<a href="{}">{}</a>', linked, html)
            self.suffix = linked[len(url) :]
        return quick_format_html('<a href="{}">{}</a>', url + self.suffix, html)


def _row(cl: ChangeList, columns: list[Column], link: _Linker, obj: Model) -> SafeString:
    cells = []
    first = True
    for column in columns:
        classes = column.classes
        try:
            value = column.get(obj)
        except ObjectDoesNotExist:
            html = cl.model_admin.get_empty_value_display()
        else:
            if isinstance(value, str) and value.strip() == "":
                value = ""
            html = _display(column, value)
            if column.field is None and isinstance(value, datetime.date | datetime.time):
                classes += " nowrap"
        tag = "td"
        if column.link:
            tag, first = ("th" if first else "td"), False
            html = link(obj, html)
        cells.append(f'<{tag} class="{classes}">{quick_escape(html)}</{tag}>')
    return SafeString("".join(cells))


def _display(column: Column, value: Any) -> Any:
    field = column.field
    if field is None:
        if isinstance(value, str) and value and not column.boolean:
            return value  # what display_for_value makes of a string, at a tenth of the cost
        return display_for_value(value, column.empty, column.boolean)
    if isinstance(field.remote_field, ManyToOneRel):
        return column.empty if value is None else value
    if column.choices is not None:
        with suppress(TypeError):  # an unhashable value: display_for_field copes
            return column.choices.get(value, column.empty)
    return display_for_field(value, field, column.empty, avoid_link=column.link)
