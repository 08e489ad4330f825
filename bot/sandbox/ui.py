"""The sandbox's browser page: the merchant's chat beside the customer's phone.

Plain server-rendered HTML; a little JavaScript redraws the chat when it changes and sends
what the merchant types or presses. The chat is drawn from the stand-in Telegram's own
record of messages, so it shows exactly what the real bot sent, edited and uploaded.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
from aiohttp import web

from bot.sandbox.telegram import FakeTelegram, StoredMessage
from bot.sandbox.xendit import FakeXendit

MERCHANT_ID = 1001
MERCHANT_NAME = "Sari"
CHANNELS = (
    ("QRIS", "QRIS"),
    ("OVO", "OVO"),
    ("DANA", "DANA"),
    ("SHOPEEPAY", "ShopeePay"),
    ("BCA_VIRTUAL_ACCOUNT", "BCA Virtual Account"),
    ("CARDS", "Card"),
)
# Telegram HTML the bot uses; anything else in a message is shown as text.
_ALLOWED_TAGS = re.compile(r"</?(b|i|u|s|code|pre)>")

_STYLE = """
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,sans-serif;background:#dfe5ec;color:#1d1f23}header{padding:.6rem 1rem;background:#1f2d3d;
color:#fff;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}header h1{font-size:1.05rem;
margin:0}header p{margin:0;opacity:.8;font-size:.85rem}.panes{display:flex;gap:1rem;padding:1rem;
flex-wrap:wrap}.pane{flex:1 1 22rem;min-width:0;background:#fff;border-radius:12px;
box-shadow:0 1px 3px #0002;display:flex;flex-direction:column;height:calc(100vh - 6rem);
min-height:32rem}.pane h2{font-size:.95rem;margin:0;padding:.6rem .9rem;border-bottom:1px solid
#e3e6ea}#chat{flex:1;overflow-y:auto;padding:.8rem;background:#e7ebe4}.msg{max-width:88%;
margin:.35rem 0;padding:.5rem .7rem;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;
box-shadow:0 1px 1px #0001}.bot{background:#fff}.me{background:#d9fdd3;margin-left:auto}
.msg img{max-width:100%;border-radius:6px;display:block}.edited{font-size:.75rem;color:#7a8089}
.kb{display:flex;flex-wrap:wrap;gap:.3rem;margin-top:.45rem}.kb button,.kb a{flex:1 1 40%;
font:inherit;font-size:.85rem;padding:.4rem;border:1px solid #b9c6d3;border-radius:7px;
background:#f4f8fb;color:#0b5cad;text-align:center;text-decoration:none;cursor:pointer}
form.say{display:flex;gap:.5rem;padding:.6rem;border-top:1px solid #e3e6ea}form.say input{flex:1;
min-width:0;font:inherit;padding:.55rem .7rem;border:1px solid #c5ccd4;border-radius:8px}
form.say button{font:inherit;padding:.55rem .9rem;border:0;border-radius:8px;background:#0b6bcb;
color:#fff}iframe{flex:1;border:0;width:100%}.hint{font-size:.8rem;color:#5b616e;padding:.4rem
.9rem}code{background:#0000000d;padding:0 .2rem;border-radius:3px}.file{margin-bottom:.3rem}
header p{flex:1 1 16rem}.lang{display:grid;grid-template-columns:auto auto;gap:.2rem .5rem;
align-items:center;font-size:.85rem}.lang select{font:inherit;padding:.2rem .4rem;
border-radius:6px;border:0}.lang small{grid-column:1/-1;opacity:.75;font-size:.75rem}
.lang code{background:#fff2}.back{display:none;float:right;font-weight:400;font-size:.85rem}
@media (max-width:760px){.panes{padding:.5rem;gap:.5rem}.pane{height:calc(100svh - 1rem);
min-height:28rem}.back{display:inline}}
"""

_SCRIPT = """
let version = -1;
async function refresh() {
  try {
    const r = await fetch('/api/chat?since=' + version);
    const data = await r.json();
    if (data.version !== version) {
      version = data.version;
      const chat = document.getElementById('chat');
      const atEnd = chat.scrollTop + chat.clientHeight >= chat.scrollHeight - 40;
      chat.innerHTML = data.html;
      if (atEnd) chat.scrollTop = chat.scrollHeight;
    }
  } catch (e) {}
}
async function post(path, body) {
  await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
                     body: JSON.stringify(body)});
  refresh();
}
const language = () => document.getElementById('lang').value;
// On a phone the panes are stacked: bring the customer's phone into view when it changes.
const stacked = window.matchMedia('(max-width: 760px)');
function showCustomer() {
  if (stacked.matches) document.getElementById('customer-pane').scrollIntoView({block: 'start'});
}
document.addEventListener('click', (event) => {
  const b = event.target.closest('button[data-callback]');
  if (b) post('/api/press', {message_id: +b.dataset.message, data: b.dataset.callback,
                             lang: language()});
  const s = event.target.closest('button[data-share]');
  if (s) document.getElementById('customer').src = '/customer/share?q=' +
    encodeURIComponent(s.dataset.share) + '&lang=' + language();
  if (s || event.target.closest('a[target=customer]')) showCustomer();
});
document.getElementById('say').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('text');
  if (input.value.trim()) post('/api/say', {text: input.value, lang: language()});
  input.value = '';
});
setInterval(refresh, 700);
refresh();
"""


def _telegram_html(text: str) -> str:
    """The bot's Telegram-HTML as page HTML: its few tags kept, everything else escaped."""
    out, position = [], 0
    for match in _ALLOWED_TAGS.finditer(text):
        out.append(html.escape(html.unescape(text[position : match.start()]), quote=False))
        out.append(match.group(0))
        position = match.end()
    out.append(html.escape(html.unescape(text[position:]), quote=False))
    return "".join(out)


def _language(value: object) -> str:
    return "id" if value == "id" else "en"


def _document(title: str, body: str, *, head: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>{head}</head>"
        f"<body>{body}</body></html>"
    )


class SandboxUI:
    """Routes of the sandbox page. ``bot_url`` gives the bot's own HTTP address (for /r/)."""

    def __init__(
        self, telegram: FakeTelegram, xendit: FakeXendit, bot_url: Callable[[], str]
    ) -> None:
        self._tg = telegram
        self._xendit = xendit
        self._bot_url = bot_url
        self._http: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.index)
        app.router.add_get("/api/chat", self.chat)
        app.router.add_post("/api/say", self.say)
        app.router.add_post("/api/press", self.press)
        app.router.add_get("/api/file/{message_id}", self.file)
        app.router.add_get("/customer", self.customer_home)
        app.router.add_get("/customer/share", self.customer_share)
        app.router.add_get("/customer/whatsapp", self.customer_whatsapp)
        app.router.add_get("/checkout/{session_id}", self.checkout)
        app.router.add_post("/checkout/{session_id}", self.checkout_action)
        app.router.add_get("/r/{token}", self.return_page)
        app.router.add_get("/r/{token}/done", self.return_page)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, _app: web.Application) -> None:
        if self._http is not None:
            await self._http.close()

    # -- the merchant's side -------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        language = "id" if "id" in request.headers.get("Accept-Language", "")[:2] else "en"
        options = "".join(
            f'<option value="{code}"{" selected" if code == language else ""}>{name}</option>'
            for code, name in (("en", "English"), ("id", "Bahasa Indonesia"))
        )
        # Two language settings, told apart: the app's language rides on every update
        # (``language_code``); /language stores the bot's own choice, which wins over it.
        body = (
            "<header><h1>paybot sandbox</h1><p>The real bot, with stand-ins for Telegram and "
            "Xendit on this machine. Nothing leaves it.</p>"
            f'<div class="lang"><label for="lang">{MERCHANT_NAME}\'s Telegram app language'
            f'</label><select id="lang">{options}</select><small>Sent with every message; '
            "<code>/language</code> in the chat overrides it for this bot.</small></div>"
            "</header>"
            '<div class="panes"><section class="pane" id="merchant" aria-label="Merchant">'
            f"<h2>Merchant chat · {MERCHANT_NAME} (Telegram)</h2>"
            '<div class="hint">Try <code>/pay 150000 kopi susu</code>, <code>/pay 25jt</code>, '
            "<code>/links</code>, <code>/today</code>, <code>/help</code>.</div>"
            '<div id="chat" role="log" aria-live="polite"></div>'
            '<form class="say" id="say"><input id="text" name="text" autocomplete="off" '
            'placeholder="Message the bot" aria-label="Message">'
            '<button type="submit">Send</button></form></section>'
            '<section class="pane" id="customer-pane" aria-label="Customer">'
            '<h2>Customer\'s phone<a class="back" href="#merchant">↑ Back to the chat</a></h2>'
            '<iframe id="customer" name="customer" src="/customer" title="Customer"></iframe>'
            "</section></div>"
            f"<script>{_SCRIPT}</script>"
        )
        return web.Response(text=_document("paybot sandbox", body), content_type="text/html")

    async def chat(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "-1"))
        version = self._tg.version
        if version == since:
            return web.json_response({"version": version})
        rendered = "".join(self._message(m) for m in self._tg.history(MERCHANT_ID))
        return web.json_response({"version": version, "html": rendered})

    def _message(self, message: StoredMessage) -> str:
        who = "bot" if message.from_bot else "me"
        parts = []
        if message.kind == "photo":
            parts.append(f'<img src="/api/file/{message.message_id}" alt="QR code" width="280">')
        elif message.kind == "document":
            name = html.escape(str(message.raw.get("document", {}).get("file_name", "file")))
            link = f'<a href="/api/file/{message.message_id}" download>{name}</a>'
            parts.append(f'<div class="file">📄 {link}</div>')  # the caption goes below
        if message.text:
            parts.append(
                _telegram_html(message.text) if message.from_bot else html.escape(message.text)
            )
        if message.edit_count:
            parts.append('<div class="edited">edited</div>')
        parts.append(self._keyboard(message))
        return f'<div class="msg {who}" data-message="{message.message_id}">{"".join(parts)}</div>'

    def _keyboard(self, message: StoredMessage) -> str:
        buttons = self._tg.buttons(message)
        if not buttons:
            return ""
        out = []
        for b in buttons:
            label = html.escape(b.text)
            if b.url is not None:
                out.append(self._url_button(label, b.url))
            elif b.switch_inline_query is not None:
                out.append(
                    f'<button type="button" data-share="{html.escape(b.switch_inline_query)}">'
                    f"{label}</button>"
                )
            else:
                out.append(
                    f'<button type="button" data-message="{message.message_id}" '
                    f'data-callback="{html.escape(b.callback_data or "")}">{label}</button>'
                )
        return f'<div class="kb">{"".join(out)}</div>'

    def _url_button(self, label: str, url: str) -> str:
        parts = urlsplit(url)
        if parts.netloc == "wa.me":
            text = parse_qs(parts.query).get("text", [""])[0]
            url = f"/customer/whatsapp?text={quote(text)}"
        return f'<a href="{html.escape(url)}" target="customer">{label}</a>'

    async def say(self, request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("text", "")).strip()[:4096]
        language = _language(body.get("lang"))
        if text:
            self._tg.push_message(
                MERCHANT_ID,
                text,
                first_name=MERCHANT_NAME,
                language_code=language,
                reply_to=self._force_reply_to(),
            )
        return web.json_response({"ok": True})

    def _force_reply_to(self) -> int | None:
        """The bot's last message, if it asked for a reply (ForceReply): Telegram's app then
        opens a reply to it, so what is typed next answers it."""
        history = self._tg.history(MERCHANT_ID)
        last = history[-1] if history else None
        if last is not None and last.from_bot and (last.reply_markup or {}).get("force_reply"):
            return last.message_id
        return None

    async def press(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._tg.push_callback(
            MERCHANT_ID,
            int(body["message_id"]),
            str(body["data"]),
            first_name=MERCHANT_NAME,
            language_code=_language(body.get("lang")),
        )
        return web.json_response({"ok": True})

    async def file(self, request: web.Request) -> web.Response:
        found = self._tg.file_of(MERCHANT_ID, int(request.match_info["message_id"]))
        if found is None:
            raise web.HTTPNotFound()
        data, filename = found
        kind = "image/png" if data.startswith(b"\x89PNG") else "text/csv"
        headers = {}
        if kind == "text/csv":
            headers["Content-Disposition"] = f'attachment; filename="{filename or "export.csv"}"'
        return web.Response(body=data, content_type=kind, headers=headers)

    # -- the customer's side -------------------------------------------------------------

    async def customer_home(self, _request: web.Request) -> web.Response:
        body = (
            '<div class="hint" style="padding:1.5rem">The customer\'s phone. Open a payment '
            "link from the chat (<b>Open payment page</b>, <b>Share on WhatsApp</b> or "
            "<b>Share in Telegram</b>) and it shows here.</div>"
        )
        return web.Response(text=_document("Customer", body), content_type="text/html")

    async def customer_whatsapp(self, request: web.Request) -> web.Response:
        text = request.query.get("text", "")
        linked = re.sub(
            r"(https?://\S+)",
            lambda m: f'<a href="{html.escape(m.group(1))}">{html.escape(m.group(1))}</a>',
            html.escape(text),
        )
        body = (
            '<div style="padding:1rem;background:#efeae2;min-height:100vh">'
            '<div class="hint">WhatsApp (simulated): the message the merchant forwards</div>'
            f'<div class="msg me" style="max-width:100%">{linked}</div></div>'
        )
        return web.Response(text=_document("WhatsApp", body), content_type="text/html")

    async def customer_share(self, request: web.Request) -> web.Response:
        """What the customer receives when the merchant shares through inline mode."""
        query_id = self._tg.push_inline_query(
            MERCHANT_ID,
            request.query.get("q", ""),
            _language(request.query.get("lang")),
            first_name=MERCHANT_NAME,
        )
        try:
            await self._tg.wait_for(lambda: self._tg.inline_answers.get(query_id), timeout=5)
        except AssertionError:
            raise web.HTTPServiceUnavailable(text="the bot did not answer") from None
        results: list[dict[str, Any]] = json.loads(
            self._tg.inline_answers[query_id].get("results", "[]")
        )
        if not results:
            bubble = '<div class="hint">Nothing to share: the link is no longer waiting.</div>'
        else:
            result = results[0]
            text = result["input_message_content"]["message_text"]
            buttons = "".join(
                f'<a href="{html.escape(b["url"])}">{html.escape(b["text"])}</a>'
                for row in result.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            )
            bubble = (
                f'<div class="msg bot" style="max-width:100%">{html.escape(text)}'
                f'<div class="kb">{buttons}</div></div>'
            )
        body = (
            '<div style="padding:1rem;background:#e7ebe4;min-height:100vh">'
            '<div class="hint">Telegram (simulated): the customer\'s chat with the merchant'
            f"</div>{bubble}</div>"
        )
        return web.Response(text=_document("Telegram", body), content_type="text/html")

    async def checkout(self, request: web.Request) -> web.Response:
        """A stand-in for Xendit's hosted checkout: pick a channel, pay, or let it expire."""
        session = self._xendit.sessions.get(request.match_info["session_id"])
        if session is None:
            raise web.HTTPNotFound(text="no such payment session")
        amount = f"{session['currency']} {session['amount']:,}".replace(",", ".")
        description = html.escape(str(session.get("description") or ""))
        if session["status"] != "ACTIVE":
            back = self._return_url(session) or "#"
            action = (
                f"<p>This session is <b>{html.escape(session['status'])}</b>.</p>"
                f'<p><a href="{html.escape(back)}">Back to the shop</a></p>'
            )
        else:
            radios = "".join(
                f'<label style="display:block;padding:.35rem 0"><input type="radio" '
                f'name="channel" value="{code}"{" checked" if i == 0 else ""}> {name}</label>'
                for i, (code, name) in enumerate(CHANNELS)
            )
            action = (
                f'<form method="post">{radios}'
                '<button name="action" value="pay" style="width:100%;padding:.8rem;margin-top:'
                ".6rem;font:inherit;font-weight:700;border:0;border-radius:9px;background:#0b6bcb;"
                f'color:#fff">Pay {html.escape(amount)}</button>'
                '<button name="action" value="expire" style="width:100%;padding:.6rem;margin-top:'
                '.5rem;font:inherit;border:1px solid #c5ccd4;border-radius:9px;background:#fff">'
                "Let it expire (simulate)</button></form>"
            )
        body = (
            '<div style="padding:1rem"><div class="hint">Xendit checkout (stand-in)</div>'
            f'<h2 style="margin:.3rem 0">{html.escape(amount)}</h2><p>{description}</p>'
            f"{action}</div>"
        )
        return web.Response(text=_document("Checkout", body), content_type="text/html")

    async def checkout_action(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        session = self._xendit.sessions.get(session_id)
        if session is None:
            raise web.HTTPNotFound(text="no such payment session")
        form = await request.post()
        if session["status"] == "ACTIVE":
            if form.get("action") == "expire":
                await self._xendit.expire(session_id)
            else:
                channel = str(form.get("channel") or "QRIS")
                await self._xendit.complete(session_id, channel_code=channel)
        back = self._return_url(session) or f"/checkout/{session_id}"
        raise web.HTTPSeeOther(location=back)

    @staticmethod
    def _return_url(session: dict[str, Any]) -> str | None:
        """As Xendit does: the success return URL once paid, the cancel one otherwise."""
        key = "success_return_url" if session["status"] == "COMPLETED" else "cancel_return_url"
        url = session.get(key)
        return str(url) if url else None

    async def return_page(self, request: web.Request) -> web.Response:
        """``PUBLIC_URL/r/<token>[/done]`` is this address: pass it on to the bot's server."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        headers = {"Accept-Language": request.headers.get("Accept-Language", "en")}
        done = "/done" if request.path.endswith("/done") else ""
        url = f"{self._bot_url()}/r/{quote(request.match_info['token'])}{done}"
        async with self._http.get(url, headers=headers) as response:
            text = await response.text()
            return web.Response(text=text, status=response.status, content_type="text/html")
