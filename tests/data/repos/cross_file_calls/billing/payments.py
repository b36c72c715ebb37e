"""Payments: every amount is in cents."""


def charge(amount_cents, customer_id):
    """Charge the customer and return the payment's id."""
    return f"pay-{customer_id}-{amount_cents}"


def refund(payment_id, amount_cents, reason):
    """Give back part of a payment; the reason is shown to the customer."""
    return {"payment": payment_id, "amount": amount_cents, "reason": reason}
