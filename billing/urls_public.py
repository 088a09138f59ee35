"""Billing on the public site: the pricing page, Stripe's webhook endpoint and the staff
billing dashboard."""

from django.urls import path

from billing import views

app_name = "billing_public"

urlpatterns = [
    # Open to anyone: the signature on the raw body is the authentication.
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("staff/billing/", views.staff_dashboard, name="staff_dashboard"),
    path("pricing/", views.pricing_page, name="pricing"),
]
