"""Accounts: one per email address, with a password that passes the validators."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.errors import DomainError
from tenants.models import User
from tenants.services.auditing import audit


def account_new(*, email: str, password: str, full_name: str, taken_message: str) -> User:
    """Save a new User, or DomainError (`email_taken` with `taken_message`, or the password
    validators' own words). Shared by user_create and sign-up, which word "taken" differently."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(taken_message, code="email_taken")
    user = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="password_invalid") from error
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_create(*, email: str, password: str, full_name: str = "") -> User:
    """Create an account: one per email address, with a password that passes the validators."""
    user = account_new(
        email=email, password=password, full_name=full_name,
        taken_message="An account with this email already exists. Log in instead.",
    )
    audit(actor=user, tenant=None, action="user.created")
    return user
