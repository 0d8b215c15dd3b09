"""The endpoint admin's form: credentials are write-only; rotating one keeps the old one a while.

A credential's input is never filled in; left empty it keeps the stored value, and only its
"remove" box deletes it. Entering a new value with a "keep accepting the current one until" date
rotates it: the current value becomes the previous one, accepted beside the new one until then, so
that changing it at the provider causes no refusals. A new value without a date ends any rotation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from webhooks.models import WebhookEndpoint


class WriteOnlyInput(forms.PasswordInput):
    """A credential's input: never filled in, followed only by whether one is stored."""

    def __init__(self) -> None:
        super().__init__(render_value=False, attrs={"autocomplete": "new-password"})
        self.is_set = False

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        field = super().render(name, None, attrs, renderer)
        state = "currently set" if self.is_set else "currently not set"
        return format_html('{} <span class="rh-write-only">{}</span>', field, state)


def write_only_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label[0].upper() + label[1:],
        required=False,
        max_length=255,
        strip=True,
        widget=WriteOnlyInput(),
        help_text=help_text,
    )


def remove_field(label: str) -> forms.BooleanField:
    return forms.BooleanField(required=False, label=f"Remove the {label}")


def rotate_field() -> forms.SplitDateTimeField:
    return forms.SplitDateTimeField(
        required=False,
        label="Keep accepting the current one until",
        widget=AdminSplitDateTime,
        help_text="With a new value above: the current one still passes until then, while you "
        "change it at the provider. Without a date, a new value replaces it at once.",
    )


# Write-only field: (what the form calls it, whether it can be rotated).
WRITE_ONLY: dict[str, tuple[str, bool]] = {
    "secret": ("signing secret", True),
    "basic_auth_password": ("Basic auth password", True),
    "header_value": ("header value", True),
    "api_key": ("API key", False),
}


class EndpointForm(forms.ModelForm):
    secret = write_only_field(
        "signing secret",
        "Checks the provider's signature header (Referral Rocket X-RR-Signature, FirstPromoter "
        "X-Webhook-Signature, which FirstPromoter no longer documents). Empty: no signature check.",
    )
    clear_secret = remove_field("signing secret")
    rotate_secret_until = rotate_field()
    basic_auth_password = write_only_field(
        "Basic auth password",
        "Requires HTTP Basic auth with this password. Empty: no Basic auth check.",
    )
    clear_basic_auth_password = remove_field("Basic auth password")
    rotate_basic_auth_password_until = rotate_field()
    header_value = write_only_field("header value", "The value the header above must carry.")
    clear_header_value = remove_field("header (name and value)")
    rotate_header_value_until = rotate_field()
    api_key = write_only_field(
        "API key",
        "FirstPromoter API key (Settings, Integrations, Manage API keys at FirstPromoter), "
        "used with the account ID to read from FirstPromoter's API.",
    )
    clear_api_key = remove_field("API key")

    class Meta:
        model = WebhookEndpoint
        fields = (
            "provider",
            "name",
            "is_active",
            "expected_every",
            "secret",
            "basic_auth_user",
            "basic_auth_password",
            "header_name",
            "header_value",
            "api_key",
            "api_account_id",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.fields.keys() & WRITE_ONLY.keys():
            self.fields[name].widget.is_set = bool(getattr(self.instance, name))
            if self.instance.pk is not None:
                self.fields[name].help_text += " Leave blank to keep the current one."

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in sorted(self.fields.keys() & WRITE_ONLY.keys()):
            self._clean_write_only(name, data)
        if data.get("clear_header_value"):
            data["header_name"] = ""  # the header is one check: its name goes with its value
        return data

    def _clean_write_only(self, name: str, data: dict[str, Any]) -> None:
        label, rotatable = WRITE_ONLY[name]
        new: str = data.get(name) or ""
        remove = data.get(f"clear_{name}")
        until: datetime | None = data.get(f"rotate_{name}_until") if rotatable else None
        current = getattr(self.instance, name)
        if new and remove:
            self.add_error(name, f"Either enter a new {label} or remove it, not both.")
        elif until is not None:
            self._rotate(name, label, new, current, until)
            data[name] = new or current
        elif remove:
            data[name] = ""
            self._set_previous(name, "", None)
        elif new:
            data[name] = new
            self._set_previous(name, "", None)  # replaced at once: any rotation ends
        else:
            data[name] = current  # blank means "unchanged"

    def _rotate(self, name: str, label: str, new: str, current: str, until: datetime) -> None:
        field = f"rotate_{name}_until"
        if not current:
            self.add_error(field, f"There is no current {label} to keep: just enter the new one.")
        elif not new:
            self.add_error(name, f"Enter the new {label} to rotate to.")
        elif new == current:
            self.add_error(name, f"The new {label} is the current one.")
        elif until <= timezone.now():
            self.add_error(field, "Choose a moment in the future.")
        else:
            self._set_previous(name, current, until)

    def _set_previous(self, name: str, value: str, until: datetime | None) -> None:
        if WRITE_ONLY[name][1]:
            setattr(self.instance, f"previous_{name}", value)
            setattr(self.instance, f"previous_{name}_until", until)
