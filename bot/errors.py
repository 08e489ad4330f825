"""The root of paybot's exceptions, like httpx's: catch :class:`PaybotError` for any of ours.

The tree (each class lives next to the code that raises it)::

    PaybotError
    ├── Problem                      told to the user in their words (bot.views.problem)
    │   ├── bot.team.OwnersOnly, bot.payments.DescriptionTooLong, LinkNotCreated, LinkNotSaved,
    │   │   LinkNotFound (also a LookupError)
    │   ├── bot.money.AmountError (also a ValueError)
    │   ├── bot.reports.PeriodError (also a ValueError)
    │   ├── bot.shop_settings.SettingRefused and its subclasses (a /settings value refused)
    │   └── bot.telegram.pay.BadExpiry (also a ValueError)
    ├── bot.payments.WebhookRejected (also a ValueError), WebhookNotStored
    ├── bot.money.UnknownCurrency (also a ValueError)
    ├── bot.xendit.XenditError and its subclasses
    ├── bot.config.ConfigError
    └── bot.notifications.DeliveryError

``storage`` does not import ``bot``: its :class:`storage.DuplicateReference` stands apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class PaybotError(Exception):
    """Any error paybot raises on purpose."""


class Problem(PaybotError):
    """A request that cannot be done, and the user is told why: not a fault of the bot.

    ``key`` names the message in :mod:`bot.i18n`, ``params`` fill it. Text in ``params`` is
    what someone typed, as typed: :func:`bot.views.problem` escapes it. Handlers let a
    problem propagate; the application's error handler answers it.
    """

    key: ClassVar[str]

    @property
    def params(self) -> Mapping[str, object]:
        return {}
