"""Forms of the team pages: invitations, roles, joining, the profile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils import timezone

from team.models import Role
from webapp.inputs import CleanInputMixin


class InviteForm(CleanInputMixin, forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"placeholder": "name@example.com"})
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(CleanInputMixin, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class JoinForm(CleanInputMixin, forms.Form):
    """Accepting an invitation with a password (when password sign-in is on)."""

    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    display_name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"]).strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken; choose another.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = User(username=data.get("username", ""))
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class ProfileForm(CleanInputMixin, forms.Form):
    display_name = forms.CharField(
        max_length=150, required=False, help_text="How the team sees you; your username if empty."
    )
    email = forms.EmailField(max_length=254, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = str(self.cleaned_data.get("email") or "").strip()
        if email and User.objects.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError("Another account uses this address.")
        return email


class GenerationDefaultsForm(CleanInputMixin, forms.Form):
    """The model (and whether to keep its remembered options) the Generate page
    opens with: the same preference the page itself remembers after a submit."""

    model = forms.ChoiceField(label="Default model")
    keep_options = forms.BooleanField(
        required=False,
        initial=True,
        label="Keep the options I last used with it",
        help_text="Off: the model starts from its own defaults.",
    )

    def __init__(self, *args: Any, models: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.fields["model"]
        assert isinstance(model, forms.ChoiceField)
        model.choices = models


EXPIRY_CHOICES = [
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
]


class TokenForm(CleanInputMixin, forms.Form):
    name = forms.CharField(
        max_length=100,
        strip=True,
        help_text="What it is for, e.g. “laptop script” or “CI”.",
        widget=forms.TextInput(attrs={"placeholder": "laptop script", "autocomplete": "off"}),
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")

    def expires_at(self) -> Any:
        days = self.cleaned_data.get("expires")
        return timezone.now() + timedelta(days=int(days)) if days else None
