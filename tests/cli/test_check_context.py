"""A review chunk gets the signatures of what it calls from other files, so a wrong call can be
seen. Measured with a scripted reviewer (`tests/fakes/signature_reviewer.py`) that flags a call
only when the callee's signature is in the prompt: on a fixture with three cross-file bugs,
findings with the signatures and without them (`context.crossFile = false`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import check_env, run_check, user_messages
from tests.fakes import signature_reviewer

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "repos" / "cross_file_calls"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop-repo"
    shutil.copytree(FIXTURE, root)
    (root / ".git").mkdir()  # the repository's root, as for a clone
    return root


def test_signatures_of_called_functions_reach_the_prompt_and_reveal_wrong_calls(
    shop: Path, fake_llm
):
    fake_llm.responder = signature_reviewer.review
    result = run_check(shop, fake_llm, "shop/checkout.py", "--format", "json")
    assert result.code == 1, result.stderr
    found = sorted((f["line"], f["message"]) for f in result.json()["findings"])
    assert found == [
        (8, "parse_day() takes 1-1 arguments, given 2"),
        (9, "the arguments of charge() are in the wrong order"),
        (14, "refund() takes 3-3 arguments, given 2"),
    ]
    prompts = "\n".join(user_messages(fake_llm))
    assert "What this code calls from other files" in prompts
    assert "billing/payments.py:\ndef charge(amount_cents, customer_id):" in prompts
    assert "shop/checkout.py:" not in prompts.split("```python")[0]  # not its own file

    env = check_env(shop.parent, fake_llm, QWEN_LSP_CONTEXT_CROSS_FILE="false")
    without = run_check(shop, fake_llm, "shop/checkout.py", "--format", "json", env=env)
    assert without.code == 0, without.stderr
    assert without.json()["findings"] == []  # the same reviewer, blind to the callees


def test_a_chunk_that_calls_nothing_from_elsewhere_gets_no_signatures(shop: Path, fake_llm):
    fake_llm.responder = signature_reviewer.review
    assert run_check(shop, fake_llm, "util/dates.py").code == 0
    assert all("What this code calls" not in m for m in user_messages(fake_llm))


def test_signatures_stay_within_their_budget(shop: Path, fake_llm):
    from qwen_lsp.context.budget import estimate_tokens

    lines = "".join(f"def helper_{n}(a, b, c, d, e, f, g):\n    return a\n\n\n" for n in range(200))
    (shop / "util" / "many.py").write_text(lines, encoding="utf-8")
    calls = "".join(f"    helper_{n}(1, 2, 3, 4, 5, 6, 7)\n" for n in range(200))
    (shop / "shop" / "busy.py").write_text(
        "from util.many import *\n\n\ndef run():\n" + calls, encoding="utf-8"
    )
    fake_llm.responder = signature_reviewer.review
    env = check_env(shop.parent, fake_llm, QWEN_LSP_REVIEW_CHUNK_TOKENS="3000")
    assert run_check(shop, fake_llm, "shop/busy.py", env=env).code == 0
    shown = []
    for message in user_messages(fake_llm):
        related = message.split("not under review):\n```\n", 1)[1].split("\n```", 1)[0]
        assert estimate_tokens(related) <= 3000 * 0.2
        shown.append(related.count("def helper_"))
    assert max(shown) >= 10  # the budget is used, not left empty
