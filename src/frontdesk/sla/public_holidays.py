"""Public holidays from the `holidays` package, by country (ISO 3166-1 alpha-2) and region.

Each (country, region, year) is computed once per process: building a year costs the package
a few milliseconds, and SLA recomputation asks for the same few years again and again.
Observed days are included (a US holiday on a Saturday closes the Friday before), as a desk
in that country closes on them.
"""

from __future__ import annotations

import functools
from datetime import date

import holidays
from babel import Locale, UnknownLocaleError


@functools.cache
def subdivisions_by_country() -> dict[str, tuple[str, ...]]:
    """Every supported country code and its region codes, as the package spells them."""
    supported = holidays.list_supported_countries(include_aliases=False)
    return {code: tuple(regions) for code, regions in supported.items()}


def country_choices(language: str) -> list[tuple[str, str]]:
    """(code, name) for every supported country, named and sorted in `language`."""
    try:
        names = Locale.parse(language.replace("-", "_")).territories
    except (UnknownLocaleError, ValueError):
        names = Locale("en").territories
    choices = [(code, str(names.get(code, code))) for code in subdivisions_by_country()]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def canonical_region(country: str, region: str) -> str | None:
    """The package's spelling of `region` in `country` (any case), or None if unknown."""
    wanted = region.strip().casefold()
    for code in subdivisions_by_country().get(country, ()):
        if code.casefold() == wanted:
            return code
    return None


@functools.cache
def _languages(country: str) -> tuple[str, ...]:
    return tuple(holidays.country_holidays(country).supported_languages)


def _holiday_language(country: str, language: str | None) -> str | None:
    """The package's name for `language` (pl, en_US), or None for the country's own."""
    if not language:
        return None
    supported = _languages(country)
    wanted = language.replace("-", "_")
    for code in supported:
        if code.casefold() == wanted.casefold():
            return code
    base = wanted.split("_")[0].casefold()
    return next((code for code in supported if code.split("_")[0].casefold() == base), None)


@functools.lru_cache(maxsize=1024)
def holidays_in_year(
    country: str, region: str, year: int, language: str | None = None
) -> tuple[tuple[date, str], ...]:
    """(date, name) of the public holidays of one year, in date order."""
    found = holidays.country_holidays(
        country,
        subdiv=region or None,
        years=year,
        language=_holiday_language(country, language),
    )
    return tuple(sorted(found.items()))


@functools.lru_cache(maxsize=1024)
def holiday_dates(country: str, region: str, year: int) -> frozenset[date]:
    return frozenset(day for day, _name in holidays_in_year(country, region, year))
