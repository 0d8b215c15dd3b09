"""Django's user admin, with setting a password lifting the login lock on its username."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from referralhub.accounts import AdminPasswordChangeForm
from referralhub.admin.lookups import DeclaredLookupsOnly

admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(DeclaredLookupsOnly, UserAdmin):
    change_password_form = AdminPasswordChangeForm
