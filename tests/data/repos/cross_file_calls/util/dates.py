"""Dates as the shop writes them."""

from datetime import date


def parse_day(text):
    """A date from YYYY-MM-DD."""
    year, month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)
