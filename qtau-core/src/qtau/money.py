"""Currencies and amounts: codes are checked, and two currencies never meet without a rate.

A budget in one currency can pay for a price in another only through a rate the user configured
(`{"budget": {"USD": 50, "rates": {"EUR": 1.08}}}`: one EUR is 1.08 USD); otherwise the sum is
refused with a `CurrencyError` that says which rate to add. Rates are never fetched: a budget
that silently moved with the exchange market would not be a limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from qtau.errors import ConfigurationError, CurrencyError
from qtau.scalars import plain

#: Active ISO 4217 codes (plus the cloud credit units providers quote in).
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF
XPF YER ZAR ZMW ZWL
""".split())


def check_currency(code: Any, field: str) -> str:
    """`code` as an upper-case ISO 4217 code, or a CurrencyError naming `field`."""
    if isinstance(code, str) and code.upper() in ISO_4217:
        return code.upper()
    raise CurrencyError(
        f"unknown currency {code!r}", field=field, value=code,
        fix="use an ISO 4217 code such as USD, EUR or GBP",
    )


def check_amount(value: Any, field: str, *, positive: bool = False) -> float:
    """A finite, non-negative (or positive) number, or a ConfigurationError naming `field`."""
    value = plain(value)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > 0 if positive else value >= 0)
    if not ok:
        raise ConfigurationError(
            f"{field} must be a finite {'positive' if positive else 'non-negative'} number", field=field,
            value=value, fix="use an amount such as 50",
        )
    return float(value)


def parse_rates(raw: Any, base: str, field: str) -> dict[str, float]:
    """`{"EUR": 1.08}`: what one unit of each currency is worth in `base`."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise CurrencyError(
            "rates must map currency codes to numbers", field=field, value=raw,
            fix=f"use e.g. {{'EUR': 1.08}} (one EUR is 1.08 {base})",
        )
    return {check_currency(code, f"{field}.{code}"): check_amount(rate, f"{field}.{code}", positive=True)
            for code, rate in raw.items()}


def convert(amount: float, currency: str, to: str, rates: Mapping[str, float], where: str) -> float:
    """`amount` in `currency` expressed in `to`, through `rates` (values in `to`)."""
    if currency == to or amount == 0:
        return amount
    rate = rates.get(currency)
    if rate is None:
        raise CurrencyError(
            f"{where} is priced in {currency} but the budget is in {to}, and no rate is configured",
            field="budget.rates", value=dict(rates),
            fix=f"add a rate, e.g. initialize_dreamer({{'budget': {{'{to}': ..., 'rates': {{'{currency}': 1.0}}}}}}), "
            f"or a budget in {currency}",
        )
    return amount * rate
