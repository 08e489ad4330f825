"""What every handler needs: who is asking, in which language, and how to answer."""

from __future__ import annotations

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.languages import Languages
from bot.payments import Merchant
from bot.telegram.sender import keyboard, plain_text
from bot.views import TOAST_LIMIT, Reply, clip_plain


async def merchant_of(update: Update, languages: Languages) -> Merchant | None:
    """The user and chat of an update, with the language they read."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    language = await languages.of(user.id, user.language_code)
    return Merchant(user_id=user.id, chat_id=chat.id, language=language, name=user.full_name)


async def answer(message: Message, reply: Reply) -> Message:
    """Reply in the message's chat with an HTML text and its buttons."""
    return await message.reply_text(
        reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply), do_quote=False
    )


async def edit(query: CallbackQuery, reply: Reply) -> None:
    """Turn the message a button belongs to into ``reply``."""
    if query.message is None:
        return
    try:
        await query.edit_message_text(
            reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise  # a second tap that changes nothing is fine; anything else is not


async def send(bot: Bot, chat_id: int, reply: Reply) -> Message:
    return await bot.send_message(
        chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
    )


def toast(html_text: str) -> str:
    """A callback answer is plain text of at most 200 characters."""
    return clip_plain(plain_text(html_text), TOAST_LIMIT)
