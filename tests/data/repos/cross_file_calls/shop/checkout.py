"""Checking out and cancelling orders."""

from billing.payments import charge, refund
from util.dates import parse_day


def checkout(customer_id, amount_cents, day):
    when = parse_day(day, "%Y-%m-%d")
    payment = charge(customer_id, amount_cents)
    return payment, when


def cancel(payment_id, amount_cents):
    return refund(payment_id, amount_cents)


def total(prices):
    return sum(prices)
