"""The payment channels a shop may offer, per country: Xendit's ``channel_code`` values that
``allowed_payment_channels`` of a Payment Session takes, grouped as people think of them.

Only codes Xendit documents are listed (an unknown or inactive code makes Xendit refuse the
session with ``INVALID_PAYMENT_CHANNEL``). Sources, read 2026:

* Payment Sessions: ``allowed_payment_channels`` ("by default all payment channels will be
  available if you leave this field empty"), /work/shared/docs/xendit-payment-sessions.md §2
  and the Payments API spec (/work/shared/specs/xendit-payments-openapi.yaml,
  ``Payment_Session_AllowedPaymentChannels``; its examples use ``CARDS``, ``DANA``, ``OVO``,
  ``SHOPEEPAY``, ``BRI_VIRTUAL_ACCOUNT``, ``BPI_DIRECT_DEBIT`` (PH), ``TOUCHNGO`` (MY) and
  ``VIETCAPITAL_VIRTUAL_ACCOUNT`` (VN)).
* Xendit's channel pages, each with its "Channel Code", country and currency:
  https://docs.xendit.co/docs/qris (QRIS), /bca-virtual-account, /bni-virtual-account,
  /bri-virtual-account, /permata-virtual-account, /ina-virtual-account, /alfamart,
  /indomaret, /indodana-paylater (INDODANA), /gcash, /grabpay (PH and MY), /qrph,
  /qr-promptpay (PROMPTPAY), /zalopay-e-wallet, /paynow-qr (SGQR); the overview is
  https://docs.xendit.co/docs/available-payment-channels.
* ``LINKAJA``, ``ASTRAPAY`` and ``PAYMAYA``: the e-wallet ``ChannelCode`` constants of Xendit's
  own Go SDK (https://pkg.go.dev/github.com/xendit/xendit-go/pmsv2/ewallet).

Which of these an account may use depends on what it has activated with Xendit; the sessions
doc notes cards are not offered to owned sub-accounts in ID, MY and VN.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType


class ChannelGroup(enum.StrEnum):
    """Kinds of channels, in the order a shop sees them (labels: ``settings_group_*``)."""

    QR = "qr"
    EWALLET = "ewallet"
    VIRTUAL_ACCOUNT = "va"
    DIRECT_DEBIT = "dd"
    CARDS = "cards"
    RETAIL = "retail"
    PAYLATER = "paylater"


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel: Xendit's code, the name people know it by, and its kind."""

    code: str
    label: str
    group: ChannelGroup


def _channels(*rows: tuple[str, str, ChannelGroup]) -> tuple[Channel, ...]:
    return tuple(Channel(code, label, group) for code, label, group in rows)


_QR, _EW, _VA, _DD, _CARD, _OTC, _LATER = (
    ChannelGroup.QR,
    ChannelGroup.EWALLET,
    ChannelGroup.VIRTUAL_ACCOUNT,
    ChannelGroup.DIRECT_DEBIT,
    ChannelGroup.CARDS,
    ChannelGroup.RETAIL,
    ChannelGroup.PAYLATER,
)

#: The channels of each country (ISO 3166 alpha-2), grouped and in display order.
CATALOGUE: Mapping[str, tuple[Channel, ...]] = MappingProxyType(
    {
        "ID": _channels(
            ("QRIS", "QRIS", _QR),
            ("DANA", "DANA", _EW),
            ("OVO", "OVO", _EW),
            ("SHOPEEPAY", "ShopeePay", _EW),
            ("LINKAJA", "LinkAja", _EW),
            ("ASTRAPAY", "AstraPay", _EW),
            ("BCA_VIRTUAL_ACCOUNT", "BCA", _VA),
            ("BNI_VIRTUAL_ACCOUNT", "BNI", _VA),
            ("BRI_VIRTUAL_ACCOUNT", "BRI", _VA),
            ("PERMATA_VIRTUAL_ACCOUNT", "Permata", _VA),
            ("INA_VIRTUAL_ACCOUNT", "Bank INA", _VA),
            ("CARDS", "Cards", _CARD),
            ("ALFAMART", "Alfamart", _OTC),
            ("INDOMARET", "Indomaret", _OTC),
            ("INDODANA", "Indodana", _LATER),
        ),
        "PH": _channels(
            ("QRPH", "QR Ph", _QR),
            ("GCASH", "GCash", _EW),
            ("PAYMAYA", "Maya", _EW),
            ("GRABPAY", "GrabPay", _EW),
            ("BPI_DIRECT_DEBIT", "BPI", _DD),
            ("CARDS", "Cards", _CARD),
        ),
        "TH": _channels(
            ("PROMPTPAY", "PromptPay", _QR),
            ("CARDS", "Cards", _CARD),
        ),
        "VN": _channels(
            ("ZALOPAY", "ZaloPay", _EW),
            ("VIETCAPITAL_VIRTUAL_ACCOUNT", "BVBank", _VA),
            ("CARDS", "Cards", _CARD),
        ),
        "MY": _channels(
            ("TOUCHNGO", "Touch 'n Go", _EW),
            ("GRABPAY", "GrabPay", _EW),
            ("CARDS", "Cards", _CARD),
        ),
        "SG": _channels(
            ("SGQR", "PayNow QR", _QR),
            ("CARDS", "Cards", _CARD),
        ),
    }
)


def channels_of(country: str) -> tuple[Channel, ...]:
    """The channels a shop in ``country`` can choose from (none for a country we don't know)."""
    return CATALOGUE.get(country.upper(), ())


def groups_of(country: str) -> list[tuple[ChannelGroup, tuple[Channel, ...]]]:
    """The country's channels by group, groups in :class:`ChannelGroup` order, empty ones out."""
    channels = channels_of(country)
    grouped = [(g, tuple(c for c in channels if c.group is g)) for g in ChannelGroup]
    return [(group, members) for group, members in grouped if members]


def label_of(country: str, code: str) -> str:
    """The name people know a channel by; the code itself for one not in the catalogue."""
    for channel in channels_of(country):
        if channel.code == code:
            return channel.label
    return code


def in_catalogue_order(country: str, codes: Sequence[str]) -> tuple[str, ...]:
    """``codes`` without repeats, in the catalogue's order (unknown codes last, as given)."""
    known = [c.code for c in channels_of(country)]
    chosen = dict.fromkeys(codes)
    return tuple([c for c in known if c in chosen] + [c for c in chosen if c not in known])
