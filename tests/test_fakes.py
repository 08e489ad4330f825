"""Tests of the test fakes themselves (FakeTelegram, FakeXendit)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox.common import serving
from bot.sandbox.xendit import load_spec, project_schemas, spec_path
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.xendit import CREATE_SCHEMA, PAYMENT_SCHEMA, SESSION_SCHEMA, schema_errors

# --------------------------------------------------------------------------- schemas


@pytest.mark.skipif(
    not spec_path().is_file(),
    reason="Xendit's OpenAPI file is not here (XENDIT_OPENAPI_SPEC, or ../shared/specs)",
)
def test_the_projects_schemas_are_xendits_published_ones() -> None:
    """The fake checks requests against the project's copy of Xendit's schemas; where
    Xendit's published file is available, every schema in the copy is the published one, and
    the copy holds every schema the three it checks against refer to."""
    published = load_spec()["components"]["schemas"]
    ours = project_schemas()["components"]["schemas"]
    assert {CREATE_SCHEMA, SESSION_SCHEMA, PAYMENT_SCHEMA} <= ours.keys()
    for name, schema in ours.items():
        assert schema == published[name], f"{name} differs from Xendit's published schema"
        for ref in re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(schema)):
            assert ref in ours, f"{name} refers to {ref}, which the copy lacks"


# --------------------------------------------------------------------------- fixtures


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest_asyncio.fixture
async def xnd() -> AsyncIterator[FakeXendit]:
    async with FakeXendit() as fake:
        yield fake


@pytest_asyncio.fixture
async def api(xnd: FakeXendit) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client pointed at FakeXendit with the right Basic auth."""
    async with httpx.AsyncClient(
        base_url=xnd.url, auth=httpx.BasicAuth(xnd.secret_key, ""), timeout=5.0
    ) as client:
        yield client


@pytest_asyncio.fixture
async def botapi(tg: FakeTelegram) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose base URL is ``{tg.url}/bot{token}/``."""
    async with httpx.AsyncClient(base_url=f"{tg.url}/bot{tg.token}/", timeout=5.0) as client:
        yield client


@dataclass
class Receiver:
    """A tiny webhook receiver standing in for the bot's web server."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for _, body in self.received]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def handle(request: web.Request) -> web.Response:
        rec.received.append((dict(request.headers), await request.read()))
        return web.json_response({"received": True}, status=rec.status)

    app = web.Application()
    app.router.add_post("/xendit/webhook", handle)
    async with serving(app) as url:
        rec.url = f"{url}/xendit/webhook"
        yield rec


def valid_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference_id": "tg-m123-8f2c1a9e",
        "session_type": "PAY",
        "mode": "PAYMENT_LINK",
        "amount": 150000,
        "currency": "IDR",
        "country": "ID",
        "allow_save_payment_method": "DISABLED",
        "capture_method": "AUTOMATIC",
        "description": "Order #42 from Toko Budi",
        "metadata": {"merchant_id": "m123", "tg_chat_id": "555"},
        "success_return_url": "https://t.me/YourBot?start=paid_8f2c1a9e",
        "cancel_return_url": "https://t.me/YourBot?start=cancel_8f2c1a9e",
    }
    body.update(overrides)
    return body


def in_future(**delta: float) -> str:
    moment = dtm.datetime.now(dtm.UTC) + dtm.timedelta(**delta)
    return moment.isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> dtm.datetime:
    return dtm.datetime.fromisoformat(value.replace("Z", "+00:00"))


# =========================================================================== FakeXendit


async def test_xendit_rejects_missing_and_wrong_auth(xnd: FakeXendit) -> None:
    expected = {
        "error_code": "INVALID_API_KEY",
        "message": "API key is not authorized for this API",
    }
    async with httpx.AsyncClient(base_url=xnd.url) as client:
        no_auth = await client.post("/sessions", json=valid_body())
        wrong_key = await client.post(
            "/sessions", json=valid_body(), auth=httpx.BasicAuth("xnd_development_nope", "")
        )
        with_password = await client.get(
            "/sessions/ps-000000000000000000000000",
            auth=httpx.BasicAuth(xnd.secret_key, "secret"),
        )
        bearer = await client.post(
            "/sessions", json=valid_body(), headers={"Authorization": f"Bearer {xnd.secret_key}"}
        )
    for response in (no_auth, wrong_key, with_password, bearer):
        assert response.status_code == 401
        assert response.json() == expected
    assert xnd.sessions == {}
    assert len(xnd.requests) == 4  # rejected requests are still recorded


async def test_xendit_missing_required_field_gives_validation_error_with_path(
    xnd: FakeXendit, api: httpx.AsyncClient
) -> None:
    body = valid_body()
    del body["session_type"]
    response = await api.post("/sessions", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "API_VALIDATION_ERROR",
        "message": "request/body must have required property 'session_type'",
        "errors": [
            {
                "message": "must have required property 'session_type'",
                "path": "/body/session_type",
            }
        ],
    }


async def test_xendit_schema_errors_for_bad_enum_type_and_length(
    xnd: FakeXendit, api: httpx.AsyncClient
) -> None:
    response = await api.post(
        "/sessions",
        json=valid_body(currency="EUR", amount="150000", reference_id="x" * 65),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "API_VALIDATION_ERROR"
    paths = {e["path"] for e in body["errors"]}
    assert paths == {"/body/currency", "/body/amount", "/body/reference_id"}

    not_json = await api.post(
        "/sessions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["error_code"] == "API_VALIDATION_ERROR"
    assert xnd.sessions == {}


@pytest.mark.parametrize(
    ("overrides", "status", "error_code", "message"),
    [
        pytest.param(
            {"amount": 0}, 400, "INVALID_AMOUNT", "Amount must be greater than zero", id="amount-0"
        ),
        pytest.param(
            {"amount": 150000.5},
            400,
            "INVALID_AMOUNT",
            "Amount must respect the decimal places allowed for the given currency",
            id="idr-decimals",
        ),
        pytest.param(
            {"amount": 10.255, "currency": "SGD", "country": "SG"},
            400,
            "INVALID_AMOUNT",
            "Amount must respect the decimal places allowed for the given currency",
            id="sgd-3-decimals",
        ),
        pytest.param(
            {"success_return_url": "http://example.com/ok"},
            400,
            "INVALID_URL",
            "Please provide a valid HTTPS URL",
            id="http-return-url",
        ),
        pytest.param(
            {"cancel_return_url": "not a url"},
            400,
            "INVALID_URL",
            "Please provide a valid HTTPS URL",
            id="garbage-return-url",
        ),
        pytest.param(
            {"expires_at": "SOON"},
            400,
            "INVALID_EXPIRY_DATE",
            "expires_at must be at least 10 minutes in the future",
            id="expires-too-soon",
        ),
        pytest.param(
            {"expires_at": "FAR"},
            400,
            "INVALID_EXPIRY_DATE",
            "expires_at must not exceed the maximum allowed expiry duration",
            id="expires-too-late",
        ),
        pytest.param(
            {"allow_save_payment_method": "OPTIONAL"},
            400,
            "MISSING_CUSTOMER",
            "Customer object or customer_id is required",
            id="missing-customer",
        ),
        pytest.param(
            {"metadata": {"note": "x" * 81}},
            400,
            "INVALID_METADATA",
            "Metadata value must have at most 80 characters",
            id="metadata-too-long",
        ),
    ],
)
async def test_xendit_business_rules(
    xnd: FakeXendit,
    api: httpx.AsyncClient,
    overrides: dict[str, Any],
    status: int,
    error_code: str,
    message: str,
) -> None:
    if overrides.get("expires_at") == "SOON":
        overrides["expires_at"] = in_future(minutes=5)
    elif overrides.get("expires_at") == "FAR":
        overrides["expires_at"] = in_future(days=61)
    response = await api.post("/sessions", json=valid_body(**overrides))
    assert response.status_code == status
    assert response.json()["error_code"] == error_code
    assert response.json()["message"] == message
    assert xnd.sessions == {}
    assert xnd.created() == []


async def test_xendit_currency_country_mismatch(xnd: FakeXendit, api: httpx.AsyncClient) -> None:
    response = await api.post("/sessions", json=valid_body(country="PH"))
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "API_VALIDATION_ERROR"
    assert body["errors"][0]["path"] == "/body/currency"


async def test_xendit_accepts_valid_body_and_answers_per_schema(
    xnd: FakeXendit, api: httpx.AsyncClient
) -> None:
    body = valid_body()
    before = dtm.datetime.now(dtm.UTC)
    response = await api.post("/sessions", json=body)
    assert response.status_code == 201, response.text
    session = response.json()

    # The response matches Xendit's response schema.  Its customer_id is declared as a
    # non-nullable 41-char string, yet a session made without a customer has none: that
    # is the only deviation allowed.
    errors = schema_errors(SESSION_SCHEMA, session)
    assert [e.path for e in errors] == ["/body/customer_id"]
    assert session["customer_id"] is None
    assert schema_errors(SESSION_SCHEMA, {k: v for k, v in session.items() if v is not None}) == []

    sid = session["payment_session_id"]
    assert re.fullmatch(r"ps-[0-9a-f]{24}", sid)
    assert session["status"] == "ACTIVE"
    assert session["locale"] == "en"
    assert session["business_id"] == xnd.business_id
    assert session["payment_link_url"] == f"{xnd.url}/checkout/{sid}"
    for key in (
        "reference_id",
        "amount",
        "currency",
        "country",
        "session_type",
        "mode",
        "description",
        "metadata",
        "success_return_url",
        "cancel_return_url",
        "allow_save_payment_method",
        "capture_method",
    ):
        assert session[key] == body[key], key
    assert session["payment_id"] is None
    assert session["payment_request_id"] is None
    for key in ("created", "updated", "expires_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", session[key]), key
    created = parse_iso(session["created"])
    assert before - dtm.timedelta(seconds=1) <= created <= dtm.datetime.now(dtm.UTC)
    assert parse_iso(session["expires_at"]) - created == dtm.timedelta(minutes=30)

    assert xnd.created() == [body]
    assert xnd.sessions[sid]["reference_id"] == body["reference_id"]
    assert xnd.session_by_reference(body["reference_id"])["payment_session_id"] == sid
    assert xnd.requests[-1].header("authorization") is not None

    page = await api.get(session["payment_link_url"])
    assert page.status_code == 200
    assert sid in page.text


async def test_xendit_customer_expiry_and_options(xnd: FakeXendit, api: httpx.AsyncClient) -> None:
    customer = {
        "type": "INDIVIDUAL",
        "reference_id": "cust123",
        "individual_detail": {"given_names": "Budi"},
    }
    expires = in_future(hours=2)
    response = await api.post(
        "/sessions",
        json=valid_body(
            customer=customer,
            allow_save_payment_method="OPTIONAL",
            expires_at=expires,
            locale="id",
        ),
    )
    assert response.status_code == 201, response.text
    session = response.json()
    assert schema_errors(SESSION_SCHEMA, session) == []
    assert re.fullmatch(r"cust-[0-9a-f-]{36}", session["customer_id"])
    assert parse_iso(session["expires_at"]) == parse_iso(expires).replace(
        microsecond=parse_iso(expires).microsecond // 1000 * 1000
    )
    assert session["locale"] == "id"

    xnd.allow_http_return_urls = True
    xnd.checkout_base = "https://checkout-staging.xendit.co/sessions"
    http_ok = await api.post(
        "/sessions",
        json=valid_body(reference_id="r2", success_return_url="http://localhost:8080/ok"),
    )
    assert http_ok.status_code == 201
    sid = http_ok.json()["payment_session_id"]
    assert (
        http_ok.json()["payment_link_url"] == f"https://checkout-staging.xendit.co/sessions/{sid}"
    )

    sgd = await api.post(
        "/sessions", json=valid_body(reference_id="r3", amount=10.25, currency="SGD", country="SG")
    )
    assert sgd.status_code == 201


async def test_xendit_duplicate_reference_is_accepted_but_recorded(
    xnd: FakeXendit, api: httpx.AsyncClient
) -> None:
    first = await api.post("/sessions", json=valid_body())
    second = await api.post("/sessions", json=valid_body())
    assert first.status_code == second.status_code == 201
    assert first.json()["payment_session_id"] != second.json()["payment_session_id"]
    assert xnd.duplicate_references == [valid_body()["reference_id"]]
    latest = xnd.session_by_reference(valid_body()["reference_id"])
    assert latest["payment_session_id"] == second.json()["payment_session_id"]


async def test_xendit_get_cancel_and_invalid_status(
    xnd: FakeXendit, api: httpx.AsyncClient
) -> None:
    created = (await api.post("/sessions", json=valid_body())).json()
    sid = created["payment_session_id"]

    got = await api.get(f"/sessions/{sid}")
    assert got.status_code == 200
    assert got.json() == created

    missing = await api.get("/sessions/ps-ffffffffffffffffffffffff")
    assert missing.status_code == 404
    assert missing.json() == {"error_code": "SESSION_NOT_FOUND", "message": "Session not found"}
    missing_cancel = await api.post("/sessions/ps-ffffffffffffffffffffffff/cancel")
    assert missing_cancel.status_code == 404

    xnd.get_overrides[sid] = {"status": "COMPLETED", "amount": 1}
    overridden = (await api.get(f"/sessions/{sid}")).json()
    assert (overridden["status"], overridden["amount"]) == ("COMPLETED", 1)
    assert xnd.sessions[sid]["status"] == "ACTIVE"  # only the GET answer is changed
    xnd.get_overrides.clear()

    canceled = await api.post(f"/sessions/{sid}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "CANCELED"
    assert (await api.get(f"/sessions/{sid}")).json()["status"] == "CANCELED"

    again = await api.post(f"/sessions/{sid}/cancel")
    assert again.status_code == 422
    assert again.json() == {
        "error_code": "INVALID_SESSION_STATUS",
        "message": "Session status is CANCELED, expecting ACTIVE",
    }

    other = (await api.post("/sessions", json=valid_body(reference_id="r2"))).json()
    await xnd.complete(other["payment_session_id"], send_capture=False, send_session_event=False)
    paid = await api.post(f"/sessions/{other['payment_session_id']}/cancel")
    assert paid.status_code == 422
    assert paid.json()["message"] == "Session status is COMPLETED, expecting ACTIVE"

    unknown = await api.get("/v2/invoices")
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"error_code", "message"}


async def test_xendit_fail_queue(xnd: FakeXendit, api: httpx.AsyncClient) -> None:
    xnd.fail(500, times=2)
    xnd.fail(429, method="GET")
    first = await api.post("/sessions", json=valid_body())
    second = await api.post("/sessions", json=valid_body())
    assert first.status_code == second.status_code == 500
    assert first.json() == {
        "error_code": "SERVER_ERROR",
        "message": "Something unexpected happened. We are investigating this issue. "
        "Please try again later.",
    }
    assert xnd.sessions == {}  # a canned error creates nothing

    third = await api.post("/sessions", json=valid_body())
    assert third.status_code == 201
    sid = third.json()["payment_session_id"]

    limited = await api.get(f"/sessions/{sid}")
    assert limited.status_code == 429
    assert limited.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert limited.headers["Rate-Limit-Reset"] == "1.0"
    assert limited.headers["Rate-Limit-Remaining"] == "0"
    assert (await api.get(f"/sessions/{sid}")).status_code == 200

    xnd.fail(503, body="<html>503 Service Temporarily Unavailable</html>")
    html = await api.get(f"/sessions/{sid}")
    assert html.status_code == 503
    assert html.headers["Content-Type"].startswith("text/html")

    xnd.fail(400, body={"error_code": "INVALID_PAYMENT_CHANNEL", "message": "nope"})
    custom = await api.post("/sessions", json=valid_body())
    assert custom.json() == {"error_code": "INVALID_PAYMENT_CHANNEL", "message": "nope"}
    assert [r.status for r in xnd.requests] == [500, 500, 201, 429, 200, 503, 400]


async def test_xendit_delay_times_out_client_but_still_creates(xnd: FakeXendit) -> None:
    xnd.delay = 0.5
    async with httpx.AsyncClient(
        base_url=xnd.url, auth=httpx.BasicAuth(xnd.secret_key, ""), timeout=0.1
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/sessions", json=valid_body())
    session = await xnd.wait_for(lambda: next(iter(xnd.sessions.values()), None), timeout=2)
    assert session["reference_id"] == valid_body()["reference_id"]
    assert xnd.created() == [valid_body()]
    await xnd.wait_for(lambda: xnd.requests[-1].status == 201, timeout=2)


async def test_xendit_rate_limit_per_minute(xnd: FakeXendit, api: httpx.AsyncClient) -> None:
    xnd.rate_limit_per_minute = 2
    ok1 = await api.post("/sessions", json=valid_body())
    ok2 = await api.post("/sessions", json=valid_body(reference_id="b"))
    limited = await api.post("/sessions", json=valid_body(reference_id="c"))
    assert (ok1.status_code, ok2.status_code, limited.status_code) == (201, 201, 429)
    assert ok1.headers["Rate-Limit-Remaining"] == "1"
    assert limited.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert limited.headers["Rate-Limit-Limit"] == "2"
    assert 0 < float(limited.headers["Rate-Limit-Reset"]) <= 60
    assert xnd.rate_limited == 1
    assert len(xnd.sessions) == 2
    # the limit is per endpoint: GET still works
    assert (await api.get(f"/sessions/{ok1.json()['payment_session_id']}")).status_code == 200


async def test_xendit_wait_for_times_out_with_message(xnd: FakeXendit) -> None:
    with pytest.raises(AssertionError, match=re.escape("not met within 0.05s")):
        await xnd.wait_for(lambda: None, timeout=0.05)


async def test_xendit_webhooks_complete_and_expire(
    xnd: FakeXendit, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    xnd.webhook_url = receiver.url
    session = (await api.post("/sessions", json=valid_body())).json()
    sid = session["payment_session_id"]

    result = await xnd.complete(sid, channel_code="DANA")
    assert result.status == 200
    assert result.json == {"received": True}
    assert receiver.events() == ["payment.capture", "payment_session.completed"]
    for headers, _ in receiver.received:
        assert headers["x-callback-token"] == xnd.callback_token
        assert headers["Content-Type"] == "application/json"

    capture = json.loads(receiver.received[0][1])
    completed = json.loads(receiver.received[1][1])
    for envelope in (capture, completed):
        assert set(envelope) == {"event", "business_id", "created", "data"}
        assert envelope["business_id"] == xnd.business_id

    data = capture["data"]
    # Payments_API_PaymentSchema, except `type`: the documented examples send
    # SINGLE_PAYMENT, which the schema's enum does not list.
    assert [e.path for e in schema_errors(PAYMENT_SCHEMA, data)] == ["/body/type"]
    assert data["type"] == "SINGLE_PAYMENT"
    assert data["status"] == "SUCCEEDED"
    assert data["channel_code"] == "DANA"
    assert data["request_amount"] == 150000
    assert (data["currency"], data["country"]) == ("IDR", "ID")
    assert data["reference_id"] == session["reference_id"]
    assert data["capture_method"] == "AUTOMATIC"
    assert data["captures"][0]["capture_amount"] == 150000

    sdata = completed["data"]
    assert sdata["status"] == "COMPLETED"
    assert sdata["payment_session_id"] == sid
    assert re.fullmatch(r"py-[0-9a-f-]{36}", sdata["payment_id"])
    assert re.fullmatch(r"pr-[0-9a-f-]{36}", sdata["payment_request_id"])
    assert "payment_token_id" in sdata
    assert sdata["payment_id"] == data["payment_id"]
    assert sdata["payment_request_id"] == data["payment_request_id"]
    assert "metadata" not in sdata  # not part of the webhook schema
    assert (sdata["amount"], sdata["currency"], sdata["country"]) == (150000, "IDR", "ID")

    got = (await api.get(f"/sessions/{sid}")).json()
    assert got["status"] == "COMPLETED"
    assert got["payment_id"] == sdata["payment_id"]

    other = (await api.post("/sessions", json=valid_body(reference_id="r2"))).json()
    expired = await xnd.expire(other["payment_session_id"])
    assert expired.status == 200
    assert expired.event == "payment_session.expired"
    edata = json.loads(receiver.received[-1][1])["data"]
    assert edata["status"] == "EXPIRED"
    assert "payment_id" not in edata
    assert xnd.sessions[other["payment_session_id"]]["status"] == "EXPIRED"
    assert [w.event for w in xnd.webhook_log] == [
        "payment.capture",
        "payment_session.completed",
        "payment_session.expired",
    ]


async def test_xendit_send_webhook_raw_and_forged(
    xnd: FakeXendit, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    xnd.webhook_url = receiver.url
    sid = (await api.post("/sessions", json=valid_body())).json()["payment_session_id"]
    event = xnd.build_session_event("payment_session.completed", sid)
    assert event["data"]["status"] == "ACTIVE"  # built from the current state

    await xnd.send_webhook(event, token=None)
    assert "x-callback-token" not in {k.lower() for k in receiver.received[-1][0]}

    await xnd.send_webhook(event, token="forged")
    assert receiver.received[-1][0]["x-callback-token"] == "forged"

    receiver.status = 401
    raw = await xnd.send_webhook(b"{not json", headers={"X-Extra": "1"})
    assert raw.status == 401
    assert receiver.received[-1][1] == b"{not json"
    assert receiver.received[-1][0]["X-Extra"] == "1"
    assert receiver.received[-1][0]["x-callback-token"] == xnd.callback_token

    down = await xnd.send_webhook("{}", url="http://127.0.0.1:9/nothing-listens-here")
    assert down.status == 0
    assert down.error is not None
    assert len(xnd.webhook_log) == 4


# =========================================================================== FakeTelegram


async def test_telegram_drives_real_ptb_application(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Pay", callback_data="pay:1")]])
        await update.effective_message.reply_text("hi", reply_markup=markup)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"pressed {query.data}")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(tg.token).base_url(f"{tg.url}/bot").build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed, pattern=r"^pay:"))
    async with app:
        await app.bot.set_my_commands([BotCommand("start", "Start")], language_code="id")
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        try:
            tg.push_message(777, "/start")
            sent = await tg.wait_message(777, contains="hi")
            assert sent.text == "hi"
            assert [b.callback_data for b in tg.buttons(sent)] == ["pay:1"]

            query_id = tg.push_callback(777, sent.message_id, "pay:1")
            edited = await tg.wait_message(777, method="editMessageText")
            assert edited.text == "pressed pay:1"
            assert tg.answered_callbacks[query_id]["text"] == "ok"
            state = tg.chat_message(777, sent.message_id)
            assert state is not None
            assert (state.text, state.reply_markup, state.edit_count) == ("pressed pay:1", None, 1)

            tg.push_message(777, "/start@paybot_test_bot extra")
            await tg.wait_for(lambda: len(tg.messages(777)) == 2)
        finally:
            await app.updater.stop()
            await app.stop()

    assert app.bot.username == tg.bot_username
    methods = [c.method for c in tg.calls]
    assert methods[0] == "getMe"
    assert "deleteWebhook" in methods
    assert "getUpdates" in methods
    assert tg.commands("id") == [{"command": "start", "description": "Start"}]
    assert tg.commands() == []
    # message ids per chat: 1 (/start), 2 (hi), 3 (second /start), 4 (second hi)
    assert [s.message_id for s in tg.messages(777)] == [2, 4]


async def test_telegram_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{tg.url}/bot999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert tg.calls[-1].status == 401


async def test_telegram_get_me_and_catch_all(tg: FakeTelegram, botapi: httpx.AsyncClient) -> None:
    me = (await botapi.get("getMe")).json()
    assert me["ok"] is True
    assert me["result"]["id"] == 123456
    assert me["result"]["is_bot"] is True
    assert me["result"]["first_name"] == "PayBot"
    assert me["result"]["username"] == "paybot_test_bot"

    other = await botapi.post("sendChatAction", data={"chat_id": "5", "action": "typing"})
    assert other.json() == {"ok": True, "result": True}
    assert tg.calls_for("sendChatAction")[0].params == {"chat_id": "5", "action": "typing"}
    assert tg.outbox == []


async def test_telegram_an_update_counts_as_delivered_once_its_answer_is_written(
    tg: FakeTelegram, botapi: httpx.AsyncClient
) -> None:
    """``delivered_at`` (what the /pay benchmark counts the bot's time from) is when the
    getUpdates answer carrying the update was handed to the bot: after the call came (not
    when the update was pushed), before the bot has read it; a later delivery of the same
    update does not move it."""
    uid = tg.push_message(42, "/pay 5000")
    response = await botapi.post("getUpdates", data={"timeout": "0"})
    read = tg.clock()
    assert [u["update_id"] for u in response.json()["result"]] == [uid]
    [call] = tg.calls_for("getUpdates")
    assert call.at < tg.delivered_at[uid] < read
    first = tg.delivered_at[uid]
    await botapi.post("getUpdates", data={"timeout": "0"})  # not confirmed: handed over again
    assert tg.delivered_at[uid] == first
    assert len(tg.calls_for("getUpdates")) == 2


async def test_telegram_get_updates_long_polls_without_spinning(
    tg: FakeTelegram, botapi: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    empty = await botapi.post("getUpdates", data={"timeout": "0.3"})
    assert empty.json() == {"ok": True, "result": []}
    assert time.monotonic() - started >= 0.25
    assert len(tg.calls_for("getUpdates")) == 1

    # an update pushed while a long poll is waiting ends it at once
    poll = asyncio.create_task(botapi.post("getUpdates", data={"timeout": "10"}))
    await tg.wait_for(lambda: len(tg.calls_for("getUpdates")) == 2)
    uid = tg.push_message(42, "hello")
    # Answered long before the poll's own 10 s were up: the push ended it.
    result = (await asyncio.wait_for(poll, 5)).json()["result"]
    assert [u["update_id"] for u in result] == [uid]
    msg = result[0]["message"]
    assert msg["text"] == "hello"
    assert msg["chat"] == {"id": 42, "type": "private", "first_name": "Budi"}
    assert msg["from"]["id"] == 42
    assert msg["from"]["language_code"] == "en"
    assert "entities" not in msg

    # offset confirms (drops) older updates
    uid2 = tg.push_message(-100, "/pay@paybot_test_bot 5000", user_id=7, language_code="id")
    fetched = (await botapi.post("getUpdates", data={"offset": str(uid + 1)})).json()["result"]
    assert [u["update_id"] for u in fetched] == [uid2]
    group_msg = fetched[0]["message"]
    assert group_msg["chat"]["type"] == "group"
    assert group_msg["from"]["id"] == 7
    assert group_msg["entities"] == [
        {"type": "bot_command", "offset": 0, "length": len("/pay@paybot_test_bot")}
    ]
    assert [u["update_id"] for u in tg.updates] == [uid2]

    inline_id = tg.push_inline_query(7, "5000")
    raw_id = tg.push_update({"my_chat_member": {"chat": {"id": 1}}})
    fetched = (
        await botapi.post(
            "getUpdates",
            data={"offset": str(uid2 + 1), "allowed_updates": json.dumps(["inline_query"])},
        )
    ).json()["result"]
    assert [u["inline_query"]["id"] for u in fetched] == [inline_id]
    assert raw_id > uid2
    answer = await botapi.post(
        "answerInlineQuery", data={"inline_query_id": inline_id, "results": "[]"}
    )
    assert answer.json()["result"] is True
    assert tg.inline_answers[inline_id]["results"] == "[]"


async def test_telegram_send_and_edit_state(tg: FakeTelegram, botapi: httpx.AsyncClient) -> None:
    markup = {"inline_keyboard": [[{"text": "Open", "url": "https://x.test/p"}]]}
    r1 = await botapi.post(
        "sendMessage", data={"chat_id": "5", "text": "one", "reply_markup": json.dumps(markup)}
    )
    r2 = await botapi.post("sendMessage", data={"chat_id": "5", "text": "two"})
    r3 = await botapi.post("sendMessage", data={"chat_id": "6", "text": "other chat"})
    m1, m2, m3 = (r.json()["result"] for r in (r1, r2, r3))
    assert (m1["message_id"], m2["message_id"], m3["message_id"]) == (1, 2, 1)
    assert m1["chat"]["type"] == "private"
    assert m1["from"]["username"] == tg.bot_username
    assert m1["reply_markup"] == markup
    assert isinstance(m1["date"], int)

    sent = tg.messages(5)[0]
    assert sent.reply_markup == markup
    assert sent.params["reply_markup"] == json.dumps(markup)  # raw string kept
    assert tg.buttons(sent) == [tg.buttons(markup)[0]]
    assert tg.buttons(sent)[0].url == "https://x.test/p"

    edit = await botapi.post(
        "editMessageText", data={"chat_id": "5", "message_id": "1", "text": "one (paid)"}
    )
    assert edit.status_code == 200
    assert edit.json()["result"]["text"] == "one (paid)"
    assert "reply_markup" not in edit.json()["result"]  # no markup sent: keyboard removed
    state = tg.chat_message(5, 1)
    assert state is not None
    assert (state.text, state.reply_markup) == ("one (paid)", None)

    same = await botapi.post(
        "editMessageText", data={"chat_id": "5", "message_id": "1", "text": "one (paid)"}
    )
    assert same.status_code == 400
    assert same.json()["description"].startswith("Bad Request: message is not modified")

    unknown = await botapi.post(
        "editMessageText", data={"chat_id": "5", "message_id": "99", "text": "x"}
    )
    assert unknown.status_code == 400
    assert unknown.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message to edit not found",
    }

    new_markup = {"inline_keyboard": [[{"text": "Status", "callback_data": "st:1"}]]}
    rm = await botapi.post(
        "editMessageReplyMarkup",
        data={"chat_id": "5", "message_id": "2", "reply_markup": json.dumps(new_markup)},
    )
    assert rm.json()["result"]["reply_markup"] == new_markup
    assert tg.buttons(tg.chat_message(5, 2))[0].callback_data == "st:1"

    deleted = await botapi.post("deleteMessage", data={"chat_id": "5", "message_id": "2"})
    assert deleted.json()["result"] is True
    gone = await botapi.post(
        "editMessageText", data={"chat_id": "5", "message_id": "2", "text": "x"}
    )
    assert gone.status_code == 400

    # only successful sends/edits are in the outbox
    assert [(s.method, s.chat_id, s.message_id) for s in tg.outbox] == [
        ("sendMessage", 5, 1),
        ("sendMessage", 5, 2),
        ("sendMessage", 6, 1),
        ("editMessageText", 5, 1),
        ("editMessageReplyMarkup", 5, 2),
    ]
    assert [s.text for s in tg.messages(method=None)][-1] == "two"

    long_data = {"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]}
    too_long = await botapi.post(
        "sendMessage", data={"chat_id": "5", "text": "t", "reply_markup": json.dumps(long_data)}
    )
    assert too_long.status_code == 400
    assert too_long.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_telegram_photo_and_document_uploads(tg: FakeTelegram) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    async with Bot(tg.token, base_url=f"{tg.url}/bot") as bot:
        photo_msg = await bot.send_photo(9, photo=png, filename="qr.png", caption="Scan me")
        doc_msg = await bot.send_document(9, document=b"a,b\n1,2\n", filename="report.csv")
        assert photo_msg.photo[-1].file_id
        assert photo_msg.caption == "Scan me"
        assert doc_msg.document is not None
        assert doc_msg.document.file_name == "report.csv"
        edited = await bot.edit_message_caption(9, photo_msg.message_id, caption="Paid")
        assert not isinstance(edited, bool)
        assert edited.caption == "Paid"
        with pytest.raises(BadRequest, match="no text in the message"):
            await bot.edit_message_text("x", 9, photo_msg.message_id)

    photo = tg.messages(9, method="sendPhoto")[0]
    assert (photo.file, photo.filename, photo.text) == (png, "qr.png", "Scan me")
    document = tg.messages(9, method="sendDocument")[0]
    assert document.file == b"a,b\n1,2\n"
    assert document.filename == "report.csv"
    assert tg.calls_for("sendPhoto")[0].files == {"photo": png}
    state = tg.chat_message(9, photo.message_id)
    assert state is not None
    assert (state.kind, state.text) == ("photo", "Paid")


async def test_telegram_fail_queue_and_retry_after(
    tg: FakeTelegram, botapi: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.fail("sendMessage", 500, times=2)
    tg.fail("sendMessage", 429, retry_after=7)
    for expected in (500, 500):
        response = await botapi.post("sendMessage", data={"chat_id": "1", "text": "x"})
        assert response.status_code == expected
        assert response.json()["ok"] is False
    async with Bot(tg.token, base_url=f"{tg.url}/bot") as bot:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(1, "x")
        assert info.value.retry_after == dtm.timedelta(seconds=7)
        await bot.send_message(1, "delivered")
    assert [c.status for c in tg.calls_for("sendMessage")] == [500, 500, 429, 200]
    assert [s.text for s in tg.outbox] == ["delivered"]
    assert tg.too_many_requests == 1
    assert tg.too_many_requests_by_chat == {1: 1}

    tg.fail("getMe", 400, description="Bad Request: custom")
    custom = await botapi.get("getMe")
    assert custom.json()["description"] == "Bad Request: custom"


async def test_telegram_outage_blocked_and_missing_chats(
    tg: FakeTelegram, botapi: httpx.AsyncClient
) -> None:
    tg.outage()
    down = await botapi.post("sendMessage", data={"chat_id": "1", "text": "x"})
    assert down.status_code == 502
    assert "502 Bad Gateway" in down.text
    assert (await botapi.get("getMe")).status_code == 200  # not a send/edit method
    async with Bot(tg.token, base_url=f"{tg.url}/bot") as bot:
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")
        tg.outage(503, {"getMe"}, html=False)
        assert (await botapi.post("sendMessage", data={"chat_id": "1", "text": "y"})).is_success
        json_down = await botapi.get("getMe")
        assert json_down.status_code == 503
        assert json_down.json()["error_code"] == 503
        tg.restore()

        tg.blocked_chats.add(2)
        tg.missing_chats.add(3)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(2, "x")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(3, "x")
        await bot.send_message(4, "fine")
    assert [(s.chat_id, s.text) for s in tg.outbox] == [(1, "y"), (4, "fine")]


async def test_telegram_flood_limits(
    tg: FakeTelegram, botapi: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    now = [1000.0]
    tg.clock = lambda: now[0]
    tg.flood_limits = True

    async def send(chat: int) -> httpx.Response:
        return await botapi.post("sendMessage", data={"chat_id": str(chat), "text": "m"})

    assert (await send(1)).status_code == 200
    limited = await send(1)
    assert limited.status_code == 429
    assert limited.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert (await send(2)).status_code == 200  # another chat is fine
    now[0] += 1.0
    assert (await send(1)).status_code == 200  # the window has passed

    # burst allowance
    tg.chat_burst = 3
    assert [(await send(10)).status_code for _ in range(4)] == [200, 200, 200, 429]

    # overall limit
    tg.overall_per_second = 2
    now[0] += 10
    assert [(await send(c)).status_code for c in (20, 21, 22)] == [200, 200, 429]

    # groups: 20 per minute by default
    tg.overall_per_second = 1000
    tg.chat_burst = 1
    statuses = []
    for _ in range(21):
        now[0] += 1.0
        statuses.append((await send(-500)).status_code)
    assert statuses == [200] * 20 + [429]
    retry = (await send(-500)).json()["parameters"]["retry_after"]
    assert 1 <= retry <= 60

    async with Bot(tg.token, base_url=f"{tg.url}/bot") as bot:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(-500, "x")
        retry_after = info.value.retry_after
        assert isinstance(retry_after, dtm.timedelta)
        assert retry_after >= dtm.timedelta(seconds=1)

    assert tg.too_many_requests == 6
    assert tg.too_many_requests_by_chat == {1: 1, 10: 1, 22: 1, -500: 3}
    assert len(tg.outbox) == sum(1 for c in tg.calls_for("sendMessage") if c.ok)


async def test_telegram_delay_and_wait_for_timeout_message(
    tg: FakeTelegram, botapi: httpx.AsyncClient
) -> None:
    await botapi.post("sendMessage", data={"chat_id": "1", "text": "earlier text"})
    tg.delay = 0.2
    started = time.monotonic()
    await botapi.post("sendMessage", data={"chat_id": "1", "text": "slow"})
    assert time.monotonic() - started >= 0.15
    with pytest.raises(AssertionError, match="earlier text"):
        await tg.wait_message(1, contains="never sent", timeout=0.05)
    mark = tg.mark()
    with pytest.raises(AssertionError, match=re.escape("within 0.05s")):
        await tg.wait_message(1, timeout=0.05, since=mark)


async def test_telegram_json_bodies_webhook_conflict_and_menu(
    tg: FakeTelegram, botapi: httpx.AsyncClient
) -> None:
    markup = {"inline_keyboard": [[{"text": "Pay", "callback_data": "p"}]]}
    sent = await botapi.post(
        "sendMessage", json={"chat_id": 5, "text": "json body", "reply_markup": markup}
    )
    assert sent.status_code == 200
    call = tg.calls_for("sendMessage")[0]
    assert call.params["chat_id"] == "5"
    assert json.loads(call.params["reply_markup"]) == markup
    assert tg.messages(5)[0].reply_markup == markup

    query = await botapi.get("sendMessage", params={"chat_id": "5", "text": "query string"})
    assert query.json()["result"]["text"] == "query string"

    tg.push_message(5, "pending")
    await botapi.post("setWebhook", data={"url": "https://bot.test/hook"})
    info = (await botapi.post("getWebhookInfo")).json()["result"]
    assert info["url"] == "https://bot.test/hook"
    assert info["pending_update_count"] == 1
    conflict = await botapi.post("getUpdates", data={"timeout": "0"})
    assert conflict.status_code == 409
    await botapi.post("deleteWebhook", data={"drop_pending_updates": "true"})
    assert tg.updates == []
    assert (await botapi.post("getUpdates", data={"timeout": "0"})).json()["result"] == []

    button = {"type": "web_app", "text": "Open", "web_app": {"url": "https://x.test"}}
    await botapi.post("setChatMenuButton", data={"chat_id": "5", "menu_button": json.dumps(button)})
    assert tg.menu_buttons[5] == button
    got = await botapi.post("getChatMenuButton", data={"chat_id": "5"})
    assert got.json()["result"] == button

    await botapi.post(
        "setMyCommands",
        data={
            "commands": json.dumps([{"command": "new", "description": "New link"}]),
            "scope": json.dumps({"type": "all_private_chats"}),
        },
    )
    assert tg.commands(scope="all_private_chats") == [{"command": "new", "description": "New link"}]
    listed = await botapi.post(
        "getMyCommands", data={"scope": json.dumps({"type": "all_private_chats"})}
    )
    assert listed.json()["result"] == [{"command": "new", "description": "New link"}]
    await botapi.post("deleteMyCommands", data={"scope": json.dumps({"type": "all_private_chats"})})
    assert tg.commands(scope="all_private_chats") == []

    stale = await botapi.post("answerCallbackQuery", data={"callback_query_id": "nope"})
    assert stale.status_code == 400
