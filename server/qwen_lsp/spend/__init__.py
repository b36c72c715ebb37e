"""What qwen-lsp spent and saved: the dated price table (`prices`), the ledger on disk
(`ledger`), today's figures in memory and the budgets (`tally`), and the report that
`qwen-lsp stats` and the editors show (`report`)."""

from qwen_lsp.spend.ledger import Acceptance, Ledger, Totals
from qwen_lsp.spend.prices import Price, PriceTable, load_prices
from qwen_lsp.spend.tally import BudgetState, Tally, check_budget

__all__ = [
    "Acceptance",
    "BudgetState",
    "Ledger",
    "Price",
    "PriceTable",
    "Tally",
    "Totals",
    "check_budget",
    "load_prices",
]
