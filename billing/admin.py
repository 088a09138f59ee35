"""Django admin for billing rows: read what Stripe sent; staff may add a manual subscription."""

from django.contrib import admin

from billing.models import BillingCustomer, Invoice, Subscription, WebhookEvent


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "tenant", "user", "plan_code", "status", "quantity", "source"]
    list_filter = ["status", "plan_code", "source"]
    search_fields = ["stripe_subscription_id", "stripe_customer_id", "tenant__name", "user__email"]
    raw_id_fields = ["tenant", "user"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["stripe_event_id", "type", "received_at", "processed_at", "attempts"]
    list_filter = ["type"]
    search_fields = ["stripe_event_id"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]


admin.site.register(BillingCustomer, raw_id_fields=["tenant", "user"])
admin.site.register(Invoice, list_display=["__str__", "status", "amount_due", "issued_at"])
