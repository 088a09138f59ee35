"""Students without email: a class's sign-in code, the accounts its teachers manage, the
printed sign-in cards, and the sign-in page on the school's host (see docs/architecture.md)."""
