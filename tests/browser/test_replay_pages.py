"""The console's replays in a real browser: a draft built from the current rules, run with
its progress shown, read back as totals, a chart by day and a table by rule; and the
explanation of a transaction."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import shoot
from tests.browser.test_pages import signed_in
from tests.integration.conftest import Tenant
from tests.integration.replay_scenario import post_period


async def test_an_operator_replays_a_draft_and_reads_what_it_costs(
    browser: Any, live: str, tenant: Tenant
) -> None:
    period = await post_period(tenant, transactions=1000, batch=500)
    operator = await signed_in(browser, live, "console", tenant.admin_key)
    await operator.get_by_role("link", name="Replays", exact=True).click()
    rules_field = operator.get_by_label(
        "Earn rules (the current ones: edit, add or delete entries)"
    )
    current = json.loads(await rules_field.input_value())
    assert {r["id"] for r in current} == {"fuel", "gold-dining", "weekend", "vip", "car-owner"}
    await shoot(operator, "console-replays")
    # Edit one rule, delete one, add one.
    edited = [r for r in current if r["id"] != "weekend"]
    next(r for r in edited if r["id"] == "vip")["effect"] = {"kind": "fixed", "value": 500}
    edited.append(
        {
            "id": "dining-boost",
            "name": "Dining 2x",
            "effect": {"kind": "multiplier", "value": "2"},
            "conditions": {"mcc_in": ["5812"]},
            "caps": {"budget_points": 2000},
        }
    )
    await rules_field.fill(json.dumps(edited, ensure_ascii=False, indent=1))
    await operator.get_by_role("button", name="Run the replay").click()
    await operator.wait_for_url(lambda url: "/console/replays/job_" in url)
    # The page follows the job until it is done.
    await operator.locator("#fidelity").wait_for(timeout=60_000)
    assert await operator.locator("#fidelity").inner_text() == "Yes"
    by_rule = operator.locator("#by-rule")
    assert "dining-boost" in await by_rule.inner_text()
    assert "vip" in await by_rule.inner_text()
    bars = operator.locator('#replay-chart svg.chart rect[data-series="draft"]')
    assert await bars.count() == len({b["occurred_at"][:10] for b in period.bodies})
    totals = await operator.locator("#totals").inner_text()
    assert "total" in totals
    await shoot(operator, "console-replay")

    # Why one purchase earned what it did, in the ledger, the baseline and the draft.
    purchase = next(
        b["id"] for b in period.bodies if b["kind"] == "purchase" and b["mcc"] == "5812"
    )
    await operator.get_by_label("A transaction in this replay").fill(purchase)
    await operator.get_by_role("button", name="Explain").click()
    await operator.locator("#rules").wait_for()
    text = await operator.locator("#rules").inner_text()
    assert "Dining 2x" not in text  # the ledger's rules, as they were in force
    assert "Fuel 3x" in text
    assert "MCC 5812 is not one of 5541" in text  # why the fuel rule did not apply
    assert await operator.locator("#compared").count() == 1
    await shoot(operator, "console-explanation")
