"""Billing lives in the public schema: plans, subscriptions and entitlements (see the billing issue)."""
