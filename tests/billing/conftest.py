"""Billing fixtures: a local Stripe stand-in that records requests, signed webhook delivery,
and subscription objects shaped like Stripe's.

The real stripe SDK talks to `StripeServer` over HTTP (settings.STRIPE_API_BASE), so tests check
the request paths and form parameters Stripe documents, not calls to a fake module.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

from billing import plans
from billing.integrations import stripe as stripe_api
from config import celery_app

WEBHOOK_SECRET = "whsec_test_secret"
_ids = itertools.count(1)


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]


@dataclass
class StripeServer:
    """State and log of the local Stripe stand-in."""

    base: str = ""
    requests: list[Recorded] = field(default_factory=list)
    products: dict[str, dict] = field(default_factory=dict)
    prices: dict[str, dict] = field(default_factory=dict)  # by lookup key
    subscriptions: dict[str, dict] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)

    def calls(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def seed_catalogue(self) -> None:
        for plan, price in plans.all_prices():
            self.prices[price.lookup_key] = _price(
                price.lookup_key, price.unit_amount, price.interval, f"practika_{plan.code}"
            )

    # --- routing -----------------------------------------------------------------------

    def answer(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict]:
        parts = path.strip("/").split("/")[1:]  # without "v1"
        if parts == ["products"] and method == "POST":
            self.products[params["id"]] = {"id": params["id"], "object": "product", **params}
            return 200, self.products[params["id"]]
        if parts[:1] == ["products"] and len(parts) == 2:
            product = self.products.get(parts[1])
            if product is None:
                return 404, _error("No such product: " + parts[1])
            product.update(params)
            return 200, product
        if parts == ["prices"] and method == "GET":
            keys = [v for k, v in params.items() if k.startswith("lookup_keys")]
            data = [self.prices[k] for k in keys if k in self.prices]
            return 200, {"object": "list", "data": data, "has_more": False, "url": "/v1/prices"}
        if parts == ["prices"] and method == "POST":
            price = _price(
                params["lookup_key"], int(params["unit_amount"]),
                params["recurring[interval]"], params["product"],
            )
            self.prices[params["lookup_key"]] = price
            return 200, price
        if parts == ["checkout", "sessions"] and method == "POST":
            session_id = f"cs_test_{next(_ids)}"
            return 200, {
                "id": session_id, "object": "checkout.session",
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            }
        if parts[:2] == ["checkout", "sessions"] and len(parts) == 3:
            return 200, self.sessions[parts[2]]
        if parts == ["billing_portal", "sessions"]:
            return 200, {
                "id": "bps_1", "object": "billing_portal.session",
                "url": "https://billing.stripe.test/p/session/bps_1",
            }
        if parts[:1] == ["subscription_items"]:
            return 200, {"id": parts[1], "object": "subscription_item",
                         "quantity": int(params["quantity"])}
        if parts[:1] == ["subscriptions"] and len(parts) == 2 and method == "DELETE":
            subscription = self.subscriptions.get(parts[1])
            if subscription is None:
                return 404, _error("No such subscription: " + parts[1])
            subscription.update(status="canceled", canceled_at=1_800_000_000)
            return 200, subscription
        if parts[:1] == ["subscriptions"] and len(parts) == 2:
            return 200, self.subscriptions[parts[1]]
        if parts == ["invoices", "create_preview"]:
            return 200, {"object": "invoice", "amount_due": 1500, "total": 1500,
                         "currency": "usd", "next_payment_attempt": 1_900_000_000}
        if parts == ["invoices"]:
            return 200, {"object": "list", "data": [], "has_more": False, "url": "/v1/invoices"}
        return 404, _error(f"Unrecognized request URL ({method}: {path})")


def _error(message: str) -> dict:
    return {"error": {"type": "invalid_request_error", "message": message}}


def _price(lookup_key: str, unit_amount: int, interval: str, product: str) -> dict:
    return {
        "id": f"price_{lookup_key}", "object": "price", "lookup_key": lookup_key,
        "unit_amount": unit_amount, "currency": "usd", "active": True,
        "recurring": {"interval": interval}, "product": product,
    }


def _handler(server: StripeServer):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = dict(parse_qsl(url.query or body, keep_blank_values=True))
            server.requests.append(Recorded(method=method, path=url.path, params=params))
            status, payload = server.answer(method, url.path, params)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", f"req_{next(_ids)}")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_DELETE(self):
            self._serve("DELETE")

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def public_site(settings, db) -> str:
    return settings.BASE_DOMAIN


@pytest.fixture
def stripe_server(settings):
    """Stripe configured against a local recording server for the length of one test."""
    state = StripeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.STRIPE_SECRET_KEY = "sk_test_practika"
    settings.STRIPE_API_BASE = state.base
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def webhook_secret(settings) -> str:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


@pytest.fixture
def eager_tasks():
    """Queued tasks run at once (after commit) in the test's process."""
    conf = celery_app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


# --- Stripe-shaped objects -----------------------------------------------------------------


def subscription_obj(
    sub_id: str,
    *,
    status: str = "active",
    quantity: int = 1,
    lookup_key: str = "practika_teacher_monthly",
    tenant=None,
    user=None,
    customer: str = "cus_test",
    item_id: str = "si_test",
    trial_end: int | None = None,
    canceled_at: int | None = None,
) -> dict:
    match = plans.plan_for_lookup_key(lookup_key)
    assert match is not None
    _plan, price = match
    metadata = {}
    if tenant is not None:
        metadata["practika_tenant"] = str(tenant.public_id)
    if user is not None:
        metadata["practika_user"] = str(user.public_id)
    return {
        "id": sub_id, "object": "subscription", "customer": customer, "status": status,
        "metadata": metadata, "cancel_at_period_end": False, "start_date": 1_700_000_000,
        "created": 1_700_000_000, "trial_end": trial_end, "canceled_at": canceled_at,
        "ended_at": canceled_at,
        "items": {"object": "list", "data": [{
            "id": item_id, "object": "subscription_item", "quantity": quantity,
            "current_period_end": 1_900_000_000,
            "price": _price(lookup_key, price.unit_amount, price.interval, "practika_x"),
        }]},
    }


def event(event_type: str, obj: dict, *, created: int, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{next(_ids)}", "object": "event", "type": event_type,
        "created": created, "livemode": False, "api_version": "2025-01-27.acacia",
        "data": {"object": obj},
    }


def signed(evt: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    payload = json.dumps(evt)
    return payload, stripe_api.sign_payload(payload=payload, secret=secret, timestamp=timestamp)


def deliver(evt: dict, *, host: str = "practika.test", **sign_kwargs):
    """POST a signed event to the webhook endpoint, as Stripe does."""
    payload, header = signed(evt, **sign_kwargs)
    return Client(HTTP_HOST=host).post(
        "/billing/stripe/webhook/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
