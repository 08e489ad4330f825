"""The sandbox's browser page: the shop's chats beside the customer's phone.

The visitor acts as the shop's people: Sari (the owner) and Tono (a cashier), each in their
private chat with the bot, or either of them in the shop's group. Plain server-rendered HTML;
a little JavaScript redraws the chat shown when it changes and sends what is typed or pressed.
The chat is drawn from the stand-in Telegram's own record of messages, so it shows exactly
what the real bot sent, edited and uploaded.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
from aiohttp import web

from bot.sandbox.telegram import FakeTelegram, StoredMessage
from bot.sandbox.xendit import FakeXendit


@dataclass(frozen=True)
class Person:
    """Someone the visitor can act as; each has a private chat with the bot."""

    user_id: int
    name: str
    role: str  # what they are in the story the sandbox tells (the bot decides the truth)
    chat: str  # the key of their private chat


@dataclass(frozen=True)
class Chat:
    """A chat the page can show: a person's private chat with the bot, or the group."""

    key: str
    chat_id: int
    title: str
    members: tuple[Person, ...]  # who may type here; the first one by default
    hint: str  # static HTML

    @property
    def group(self) -> bool:
        return self.chat_id < 0


MERCHANT_ID = 1001
MERCHANT_NAME = "Sari"
CASHIER_ID = 1002
CASHIER_NAME = "Tono"
GROUP_ID = -1001234567890  # a supergroup's id, as Telegram gives them
GROUP_TITLE = "Warung Sari team"
OWNER = Person(MERCHANT_ID, MERCHANT_NAME, "owner", "owner")
CASHIER = Person(CASHIER_ID, CASHIER_NAME, "cashier", "cashier")
PEOPLE = (OWNER, CASHIER)
CHATS: dict[str, Chat] = {
    c.key: c
    for c in (
        Chat(
            "owner",
            MERCHANT_ID,
            f"{MERCHANT_NAME}'s chat with the bot",
            (OWNER,),
            f"{MERCHANT_NAME} owns the shop. Try <code>/pay 150000 kopi susu</code>, "
            "<code>/pay 25jt</code>, <code>/links</code>, <code>/today</code>, "
            "<code>/help</code>; for the team <code>/invite</code>, <code>/team</code>, "
            "<code>/settings</code>.",
        ),
        Chat(
            "cashier",
            CASHIER_ID,
            f"{CASHIER_NAME}'s chat with the bot",
            (CASHIER,),
            f"{CASHIER_NAME}, a cashier, is not in the team until he opens an invite: send "
            f"<code>/invite</code> in {MERCHANT_NAME}'s chat and tap its link. Then "
            "<code>/pay 25000 es teh</code> works here too.",
        ),
        Chat(
            "group",
            GROUP_ID,
            f"{GROUP_TITLE} (group)",
            (OWNER, CASHIER),
            f"The shop's group, with {MERCHANT_NAME} and {CASHIER_NAME} in it. Add the bot, "
            f"then send <code>/connect</code> as {MERCHANT_NAME} (an owner): payments are "
            "announced here.",
        ),
    )
}
DEFAULT_CHAT = CHATS["owner"]
CHANNELS = (
    ("QRIS", "QRIS"),
    ("OVO", "OVO"),
    ("DANA", "DANA"),
    ("SHOPEEPAY", "ShopeePay"),
    ("BCA_VIRTUAL_ACCOUNT", "BCA Virtual Account"),
    ("CARDS", "Card"),
)
# Telegram HTML the bot uses; anything else in a message is shown as text.
_TAGS = re.compile(r'</?(?:b|i|u|s|code|pre)>|<a href="([^"]*)">|</a>')
# Telegram makes links of the URLs in a text; so does the page.
_URL = re.compile(r"https?://[^\s<>\"']+")
# What Telegram accepts after ?start= (A-Z, a-z, 0-9, _ and -, up to 64 characters).
_START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")

_STYLE = """
[hidden]{display:none!important}
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
.kb{display:flex;flex-wrap:wrap;gap:.3rem;margin-top:.45rem}.kb-row{flex-basis:100%;height:0}
.kb button,.kb a{flex:1 1 0;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
font:inherit;font-size:.85rem;padding:.4rem;border:1px solid #b9c6d3;border-radius:7px;
background:#f4f8fb;color:#0b5cad;text-align:center;text-decoration:none;cursor:pointer}
form.say{display:flex;gap:.5rem;padding:.6rem;border-top:1px solid #e3e6ea}form.say input{flex:1;
min-width:0;font:inherit;padding:.55rem .7rem;border:1px solid #c5ccd4;border-radius:8px}
form.say button{font:inherit;padding:.55rem .9rem;border:0;border-radius:8px;background:#0b6bcb;
color:#fff}form.say button:disabled{background:#9aa7b4}iframe{flex:1;border:0;width:100%}
.hint{font-size:.8rem;color:#5b616e;padding:.4rem .9rem}
code{background:#0000000d;padding:0 .2rem;border-radius:3px}.file{margin-bottom:.3rem}
header p{flex:1 1 16rem}.lang{display:grid;grid-template-columns:auto auto;gap:.2rem .5rem;
align-items:center;font-size:.85rem}.lang select{font:inherit;padding:.2rem .4rem;
border-radius:6px;border:0}.lang small{grid-column:1/-1;opacity:.75;font-size:.75rem}
.lang code{background:#fff2}.back{display:none;float:right;font-weight:400;font-size:.85rem}
.tabs{display:flex;gap:.3rem;padding:.45rem .5rem;border-bottom:1px solid #e3e6ea;
background:#f6f8fa;border-radius:12px 12px 0 0}.tabs button{flex:1 1 0;min-width:0;font:inherit;
font-size:.85rem;line-height:1.2;padding:.35rem .3rem;border:1px solid #c9d3dd;border-radius:8px;
background:#fff;color:#1d1f23;cursor:pointer;overflow-wrap:anywhere}
.tabs button[aria-selected=true]{background:#0b6bcb;border-color:#0b6bcb;color:#fff}
.tabs small{display:block;font-size:.72rem;opacity:.8}.group-bar{display:flex;flex-wrap:wrap;
gap:.4rem .8rem;align-items:center;padding:0 .9rem .45rem;font-size:.85rem}
.group-bar select,.group-bar button{font:inherit;font-size:.85rem;padding:.25rem .5rem;
border:1px solid #b9c6d3;border-radius:7px;background:#f4f8fb}.group-bar button{color:#0b5cad;
cursor:pointer}.from{font-size:.75rem;font-weight:600;color:#0b5cad}.msg a{color:#0b5cad}
.sheet{position:fixed;left:0;right:0;bottom:0;margin:0 auto;max-width:30rem;max-height:75vh;
overflow-y:auto;background:#fff;border-radius:14px 14px 0 0;box-shadow:0 -2px 12px #0004;
padding:.8rem 1rem 1rem;z-index:10}.sheet h3{margin:0 0 .4rem;font-size:.95rem}
.sheet p{margin:.3rem 0;font-size:.88rem}.sheet .msg{max-width:100%}.choices{display:flex;
flex-direction:column;gap:.4rem;margin-top:.6rem}.choices button,.sheet .close{font:inherit;
padding:.55rem;border:1px solid #b9c6d3;border-radius:9px;background:#f4f8fb;cursor:pointer}
.choices button.main{background:#0b6bcb;border-color:#0b6bcb;color:#fff}.sheet .close{
width:100%;margin-top:.5rem}
@media (max-width:760px){.panes{padding:.5rem;gap:.5rem}.pane{height:calc(100svh - 1rem);
min-height:28rem}.back{display:inline}}
"""

# ``CHATS`` and ``PEOPLE`` arrive as JSON in front of this script (see ``index``).
_SCRIPT = """
let current = 'owner', version = -1;
const $ = (id) => document.getElementById(id);
const actor = () => CHATS[current].group ? +$('as').value : CHATS[current].members[0];
async function refresh() {
  const key = current;
  try {
    const r = await fetch('/api/chat?chat=' + key + '&since=' + version);
    const data = await r.json();
    if (key !== current) return;  // switched chats while asking
    botInGroup(data.bot_in_group);
    if (data.version !== version) {
      version = data.version;
      const chat = $('chat');
      const atEnd = chat.scrollTop + chat.clientHeight >= chat.scrollHeight - 40;
      chat.innerHTML = data.html;
      if (atEnd) chat.scrollTop = chat.scrollHeight;
    }
  } catch (e) {}
}
async function post(path, body) {
  const r = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
                               body: JSON.stringify(body)});
  refresh();
  return r.ok ? r.json() : null;
}
const language = () => $('lang').value;
function botInGroup(member) {
  const closed = CHATS[current].group && !member;
  $('add-bot').hidden = member;
  $('bot-here').hidden = !member;
  $('text').disabled = $('send').disabled = closed;
  $('text').placeholder = closed ? 'Add the bot to the group first' : 'Message the bot';
}
function show(key) {
  current = key;
  version = -1;
  for (const tab of document.querySelectorAll('[data-chat]'))
    tab.setAttribute('aria-selected', tab.dataset.chat === key);
  for (const hint of document.querySelectorAll('[data-for]'))
    hint.hidden = hint.dataset.for !== key;
  $('chat-title').textContent = CHATS[key].title;
  $('chat').innerHTML = '';
  closeSheet();
  refresh();
}
// On a phone the panes are stacked: bring the customer's phone into view when it changes.
const stacked = window.matchMedia('(max-width: 760px)');
function showCustomer() {
  if (stacked.matches) $('customer-pane').scrollIntoView({block: 'start'});
}
function element(tag, text, cls) {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function openSheet(title, nodes) {
  const body = $('sheet-body');
  body.replaceChildren(element('h3', title), ...nodes);
  $('sheet').hidden = false;
}
function closeSheet() { $('sheet').hidden = true; }
// Telegram opens t.me/<bot>?start=X by sending "/start X" from whoever taps it, in their
// private chat with the bot: ask who that is. An invite is for someone not in the team yet.
function chooseOpener(payload) {
  const first = payload.startsWith('join_') ? PEOPLE.find((p) => p.id !== CHATS.owner.members[0])
    : PEOPLE.find((p) => p.id === actor());
  const people = [first, ...PEOPLE.filter((p) => p !== first)];
  const what = element('p', 'Telegram sends ');
  what.append(element('code', '/start ' + payload),
              ' to the bot from whoever taps it, in their private chat with the bot.');
  const choices = element('div', '', 'choices');
  for (const person of people) {
    const b = element('button', 'Open as ' + person.name + ' (' + person.role + ')',
                      person === first ? 'main' : '');
    b.type = 'button';
    b.addEventListener('click', async () => {
      closeSheet();
      await post('/api/start', {person: person.id, payload: payload, lang: language()});
      show(person.chat);
    });
    choices.append(b);
  }
  openSheet('Who taps this link?', [what, choices]);
}
document.addEventListener('click', (event) => {
  const start = event.target.closest('a[data-start]');
  if (start) {
    event.preventDefault();
    chooseOpener(start.dataset.start);
    return;
  }
  const tab = event.target.closest('button[data-chat]');
  if (tab) show(tab.dataset.chat);
  const b = event.target.closest('button[data-callback]');
  if (b) post('/api/press', {chat: current, as: actor(), message_id: +b.dataset.message,
                             data: b.dataset.callback, lang: language()});
  const shared = event.target.closest('button[data-sheet]');
  if (shared) {
    const source = document.getElementById(shared.dataset.sheet);
    if (source) openSheet(shared.textContent, [...source.content.cloneNode(true).childNodes]);
  }
  const s = event.target.closest('button[data-share]');
  if (s) $('customer').src = '/customer/share?q=' + encodeURIComponent(s.dataset.share) +
    '&chat=' + current + '&as=' + actor() + '&lang=' + language();
  if (s || event.target.closest('a[target=customer]')) showCustomer();
});
$('sheet-close').addEventListener('click', closeSheet);
document.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeSheet(); });
$('add-bot').addEventListener('click', () => post('/api/add-bot', {as: actor()}));
$('say').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('text');
  if (input.value.trim()) post('/api/say', {chat: current, as: actor(), text: input.value,
                                           lang: language()});
  input.value = '';
});
setInterval(refresh, 700);
show('owner');
"""


def _telegram_html(text: str, link: Callable[[str, str], str]) -> str:
    """The bot's Telegram-HTML as page HTML: its few tags kept, its links and the URLs in its
    text made by ``link(url, label_html)``, everything else escaped."""
    out: list[str] = []
    label: list[str] | None = None  # inside <a href>: its label so far
    href = ""
    position = 0
    for match in _TAGS.finditer(text):
        between = text[position : match.start()]
        tag = match.group(0)
        if label is not None:
            label.append(html.escape(html.unescape(between), quote=False))
        else:
            out.append(_linkify(html.unescape(between), link))
        if tag.startswith("<a "):
            if label is None:
                label, href = [], html.unescape(match.group(1))
        elif tag == "</a>":
            if label is not None:
                out.append(link(href, "".join(label)))
                label = None
        else:
            (out if label is None else label).append(tag)
        position = match.end()
    tail = html.unescape(text[position:])
    if label is not None:  # an <a> never closed: its text, unlinked
        out.append("".join(label) + html.escape(tail, quote=False))
    else:
        out.append(_linkify(tail, link))
    return "".join(out)


def _linkify(text: str, link: Callable[[str, str], str]) -> str:
    """Plain text as HTML, its URLs as links (without a sentence's last full stop)."""
    out, position = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        out.append(html.escape(text[position : match.start()], quote=False))
        out.append(link(url, html.escape(url, quote=False)))
        position = match.start() + len(url)
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def _shared(url: str) -> str | None:
    """The message a ``t.me/share/url?url=U&text=T`` button would send (U, then T), None for
    any other URL."""
    parts = urlsplit(url)
    if parts.netloc.lower() not in ("t.me", "telegram.me") or parts.path != "/share/url":
        return None
    query = parse_qs(parts.query)
    return "\n".join(v for v in (query.get("url", [""])[0], query.get("text", [""])[0]) if v)


def _language(value: object) -> str:
    return "id" if value == "id" else "en"


def _document(title: str, body: str, *, head: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>{head}</head>"
        f"<body>{body}</body></html>"
    )


def _script_json(value: object) -> str:
    """JSON to put inside a <script>: no ``</script>`` can end it early."""
    return json.dumps(value).replace("<", "\\u003c")


class SandboxUI:
    """Routes of the sandbox page. ``bot_url`` gives the bot's own HTTP address (for /r/)."""

    def __init__(
        self, telegram: FakeTelegram, xendit: FakeXendit, bot_url: Callable[[], str]
    ) -> None:
        self._tg = telegram
        self._xendit = xendit
        self._bot_url = bot_url
        self._http: aiohttp.ClientSession | None = None
        # Telegram has no list of a bot's groups to ask: the page keeps what it did.
        self._bot_in_group = False
        telegram.name_group(GROUP_ID, GROUP_TITLE)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.index)
        app.router.add_get("/api/chat", self.chat)
        app.router.add_post("/api/say", self.say)
        app.router.add_post("/api/press", self.press)
        app.router.add_post("/api/start", self.start)
        app.router.add_post("/api/add-bot", self.add_bot)
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
        tabs = "".join(
            f'<button type="button" role="tab" data-chat="{c.key}" aria-controls="chat" '
            f'aria-selected="{"true" if c is DEFAULT_CHAT else "false"}">'
            f"{html.escape(c.members[0].name if not c.group else GROUP_TITLE)}"
            f"<small>{html.escape('group' if c.group else c.members[0].role)}</small></button>"
            for c in CHATS.values()
        )
        hints = "".join(
            f'<div class="hint" data-for="{c.key}"{"" if c is DEFAULT_CHAT else " hidden"}>'
            f"{c.hint}</div>"
            for c in CHATS.values()
        )
        typing_as = "".join(
            f'<option value="{p.user_id}">{html.escape(p.name)} ({html.escape(p.role)})</option>'
            for p in CHATS["group"].members
        )
        group_bar = (
            '<div class="group-bar" data-for="group" hidden><label>Typing as '
            f'<select id="as">{typing_as}</select></label>'
            '<button type="button" id="add-bot">Add the bot to this group</button>'
            '<span id="bot-here" hidden>✓ The bot is in this group</span></div>'
        )
        chats = {
            c.key: {
                "title": c.title,
                "group": c.group,
                "members": [p.user_id for p in c.members],
            }
            for c in CHATS.values()
        }
        people = [{"id": p.user_id, "name": p.name, "role": p.role, "chat": p.chat} for p in PEOPLE]
        # Two language settings, told apart: the app's language rides on every update
        # (``language_code``); /language stores the bot's own choice, which wins over it.
        body = (
            "<header><h1>paybot sandbox</h1><p>The real bot, with stand-ins for Telegram and "
            "Xendit on this machine. Nothing leaves it.</p>"
            '<div class="lang"><label for="lang">Telegram app language</label>'
            f'<select id="lang">{options}</select><small>Sent with every message of whoever '
            "acts; <code>/language</code> in a chat overrides it for this bot.</small></div>"
            "</header>"
            '<div class="panes"><section class="pane" id="merchant" aria-label="Merchant">'
            f'<nav class="tabs" role="tablist" aria-label="Chats">{tabs}</nav>'
            '<h2>Telegram · <span id="chat-title">'
            f"{html.escape(DEFAULT_CHAT.title)}</span></h2>"
            f"{hints}{group_bar}"
            '<div id="chat" role="log" aria-live="polite"></div>'
            '<form class="say" id="say"><input id="text" name="text" autocomplete="off" '
            'placeholder="Message the bot" aria-label="Message">'
            '<button type="submit" id="send">Send</button></form></section>'
            '<section class="pane" id="customer-pane" aria-label="Customer">'
            '<h2>Customer\'s phone<a class="back" href="#merchant">↑ Back to the chat</a></h2>'
            '<iframe id="customer" name="customer" src="/customer" title="Customer"></iframe>'
            "</section></div>"
            '<div class="sheet" id="sheet" role="dialog" aria-modal="false" '
            'aria-labelledby="sheet-body" hidden><div id="sheet-body"></div>'
            '<button type="button" class="close" id="sheet-close">Close</button></div>'
            f"<script>const CHATS = {_script_json(chats)};\n"
            f"const PEOPLE = {_script_json(people)};\n{_SCRIPT}</script>"
        )
        return web.Response(text=_document("paybot sandbox", body), content_type="text/html")

    @staticmethod
    def _chat_of(value: object) -> Chat:
        if value is None:
            return DEFAULT_CHAT
        chat = CHATS.get(str(value))
        if chat is None:
            raise web.HTTPBadRequest(text="no such chat")
        return chat

    @staticmethod
    def _actor(chat: Chat, value: object) -> Person:
        """Who acts in ``chat``: its person, or in the group the member chosen."""
        for person in chat.members:
            if str(person.user_id) == str(value):
                return person
        return chat.members[0]

    async def chat(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request.query.get("chat"))
        since = int(request.query.get("since", "-1"))
        version = self._tg.version
        state: dict[str, Any] = {"version": version, "bot_in_group": self._bot_in_group}
        if version != since:
            state["html"] = "".join(self._message(m, chat) for m in self._tg.history(chat.chat_id))
        return web.json_response(state)

    def _message(self, message: StoredMessage, chat: Chat) -> str:
        who = "bot" if message.from_bot else "me"
        parts = []
        if chat.group:  # in a group, each message says who wrote it
            sender = message.raw.get("from", {}).get("first_name", "")
            parts.append(f'<div class="from">{html.escape(str(sender))}</div>')
        if message.kind == "photo":
            src = f"/api/file/{message.message_id}?chat={chat.key}"
            parts.append(f'<img src="{src}" alt="QR code" width="280">')
        elif message.kind == "document":
            name = html.escape(str(message.raw.get("document", {}).get("file_name", "file")))
            link = f'<a href="/api/file/{message.message_id}?chat={chat.key}" download>{name}</a>'
            parts.append(f'<div class="file">📄 {link}</div>')  # the caption goes below
        if message.text:
            parts.append(
                _telegram_html(message.text, self._link)
                if message.from_bot
                else html.escape(message.text)
            )
        if message.edit_count:
            parts.append('<div class="edited">edited</div>')
        parts.append(self._keyboard(message))
        return f'<div class="msg {who}" data-message="{message.message_id}">{"".join(parts)}</div>'

    def _keyboard(self, message: StoredMessage) -> str:
        buttons = self._tg.buttons(message)
        if not buttons:
            return ""
        out, sheets = [], []
        row = buttons[0].row
        for i, b in enumerate(buttons):
            if b.row != row:  # rows as the bot made them, as Telegram shows them
                out.append('<span class="kb-row"></span>')
                row = b.row
            label = html.escape(b.text)
            if b.url is not None and (shared := _shared(b.url)) is not None:
                sheet_id = f"sheet-{message.message_id}-{i}"
                out.append(f'<button type="button" data-sheet="{sheet_id}">{label}</button>')
                sheets.append(self._share_sheet(sheet_id, shared))
            elif b.url is not None:
                out.append(self._link(b.url, label))
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
        return f'<div class="kb">{"".join(out)}</div>{"".join(sheets)}'

    def _share_sheet(self, sheet_id: str, shared: str) -> str:
        """What a t.me/share/url button does, told honestly: Telegram asks which chat to send
        the text to; the sandbox shows the text, whose links the visitor taps as the receiver."""
        return (
            f'<template id="{sheet_id}"><p>Telegram opens its list of chats to send this '
            f"message to (to {html.escape(CASHIER_NAME)}, say). The sandbox has no chats "
            "between people: here is the message; tap its link as the one who receives it."
            f'</p><div class="msg me">{_linkify(shared, self._link)}</div></template>'
        )

    def _link(self, url: str, label: str) -> str:
        """A link in a message or on a button (``label`` is HTML): deep links to the bot ask
        who taps them, wa.me and web links open on the customer's phone."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return label  # tg:// and the like: nothing the page can open
        payload = self._start_payload(url)
        if payload is not None:
            return f'<a href="{html.escape(url)}" data-start="{html.escape(payload)}">{label}</a>'
        if parts.netloc == "wa.me":
            text = parse_qs(parts.query).get("text", [""])[0]
            url = f"/customer/whatsapp?text={quote(text)}"
        return f'<a href="{html.escape(url)}" target="customer">{label}</a>'

    def _start_payload(self, url: str) -> str | None:
        """``X`` of ``https://t.me/<this bot>?start=X``, None for any other URL."""
        parts = urlsplit(url)
        if parts.netloc.lower() not in ("t.me", "telegram.me"):
            return None
        if parts.path.strip("/").lower() != self._tg.bot_username.lower():
            return None
        payload = parse_qs(parts.query).get("start", [""])[0]
        return payload if _START_PAYLOAD.fullmatch(payload) else None

    async def say(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat = self._chat_of(body.get("chat"))
        if chat.group and not self._bot_in_group:
            # The bot is not in the group: Telegram would not tell it anything said there.
            return web.json_response({"ok": False}, status=409)
        person = self._actor(chat, body.get("as"))
        text = str(body.get("text", "")).strip()[:4096]
        if text:
            self._tg.push_message(
                chat.chat_id,
                text,
                user_id=person.user_id,
                first_name=person.name,
                language_code=_language(body.get("lang")),
                reply_to=self._force_reply_to(chat),
            )
        return web.json_response({"ok": True})

    def _force_reply_to(self, chat: Chat) -> int | None:
        """The bot's last message in the chat, if it asked for a reply (ForceReply):
        Telegram's app then opens a reply to it, so what is typed next answers it."""
        history = self._tg.history(chat.chat_id)
        last = history[-1] if history else None
        if last is not None and last.from_bot and (last.reply_markup or {}).get("force_reply"):
            return last.message_id
        return None

    async def press(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat = self._chat_of(body.get("chat"))
        person = self._actor(chat, body.get("as"))
        self._tg.push_callback(
            chat.chat_id,
            int(body["message_id"]),
            str(body["data"]),
            user_id=person.user_id,
            first_name=person.name,
            language_code=_language(body.get("lang")),
        )
        return web.json_response({"ok": True})

    async def start(self, request: web.Request) -> web.Response:
        """Someone taps ``t.me/<bot>?start=X``: Telegram sends ``/start X`` from them, in their
        private chat with the bot."""
        body = await request.json()
        person = next((p for p in PEOPLE if str(p.user_id) == str(body.get("person"))), None)
        payload = str(body.get("payload", ""))
        if person is None or not _START_PAYLOAD.fullmatch(payload):
            raise web.HTTPBadRequest(text="who taps which link?")
        self._tg.push_message(
            person.user_id,
            f"/start {payload}",
            user_id=person.user_id,
            first_name=person.name,
            language_code=_language(body.get("lang")),
        )
        return web.json_response({"ok": True, "chat": person.chat})

    async def add_bot(self, request: web.Request) -> web.Response:
        """A member of the group adds the bot to it: Telegram tells the bot in a
        ``my_chat_member`` update."""
        body = await request.json()
        person = self._actor(CHATS["group"], body.get("as"))
        if not self._bot_in_group:
            self._bot_in_group = True
            self._tg.push_my_chat_member(
                GROUP_ID, status="member", user_id=person.user_id, first_name=person.name
            )
        return web.json_response({"ok": True})

    async def file(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request.query.get("chat"))
        found = self._tg.file_of(chat.chat_id, int(request.match_info["message_id"]))
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
        person = self._actor(self._chat_of(request.query.get("chat")), request.query.get("as"))
        query_id = self._tg.push_inline_query(
            person.user_id,
            request.query.get("q", ""),
            _language(request.query.get("lang")),
            first_name=person.name,
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
