"""Every benchmark in one command; the report as Markdown and JSON.

Run: .venv/bin/python -m loadtest.run_all [--out loadtest/results] [--seconds 10]

Runs, one after the other (each starts and stops its own servers on loopback): rule
evaluation, single and batch hooks, the baselines, redemptions of one hot item, the nearby
comparison, the nearby endpoint, mixed mobile traffic with worker memory, and uvicorn against
granian. Each section keeps the figures its script printed; a last section sets the
load-test targets against this run's figures and says which are met and which missed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from loadtest.machine import describe


def scenarios(seconds: float) -> list[tuple[str, list[str]]]:
    s = f"{seconds:g}"
    return [
        ("Rule evaluation", ["loadtest.bench_rules"]),
        ("Hook throughput", ["loadtest.hook_load", "--seconds", s]),
        ("Baselines", ["loadtest.baselines", "--seconds", s]),
        ("Redemptions of one hot item", ["loadtest.redeem_load", "--seconds", s]),
        ("Nearby: H3 against earthdistance", ["loadtest.bench_nearby", "--queries", "1000"]),
        ("Nearby endpoint", ["loadtest.nearby_load", "--seconds", s]),
        ("Mixed mobile traffic and worker memory", ["loadtest.mobile_load", "--seconds", s]),
        (
            "uvicorn against granian",
            ["loadtest.servers", "--seconds", f"{seconds / 2:g}", "--rounds", "1"],
        ),
    ]


def _number(text: str) -> float:
    return float(text.replace(",", "").split()[0])


def targets(sections: list[dict[str, object]]) -> list[tuple[str, str, str, str]]:
    """The load-test targets against what this run measured: (target, measured, verdict,
    what the same run measured of the machine's own limit for it)."""
    rows: dict[str, list[dict[str, str]]] = {}
    for section in sections:
        tables_ = section["tables"]
        assert isinstance(tables_, list)
        rows[str(section["title"])] = [row for table in tables_ for row in table]

    def find(title: str, column: str, starts: str) -> dict[str, str] | None:
        return next((r for r in rows.get(title, []) if r.get(column, "").startswith(starts)), None)

    found: list[tuple[str, str, str, str]] = []
    bare = find("Baselines", "path", "(b)")
    engine = find("Baselines", "path", "engine")
    alone = find("Baselines", "path", "(d)")
    batch_alone = find("Baselines", "path", "(e)")
    read = find("Baselines", "path", "(c)")
    if bare and engine:
        limit = "—"
        if alone:
            rate = _number(alone["per second"])
            limit = (
                f"(d) PostgreSQL alone running a hook's SQL: {rate:,.0f}/s "
                f"= {rate / _number(bare['per second']):.0%} of (b), with no Python left"
            )
        share = _number(engine["per second"]) / _number(bare["per second"])
        p99 = _number(engine["p99 ms"])
        met = share >= 0.5 and p99 <= 50
        found.append(
            (
                "single hook ≥ 50% of bare Litestar + asyncpg, p99 ≤ 50 ms",
                f"{share:.0%} of (b), p99 {p99:.0f} ms",
                "met" if met else "**missed**",
                limit,
            )
        )
    batch = find("Hook throughput", "scenario", "batch")
    if batch:
        rate = _number(batch["awards/s"])
        found.append(
            (
                "batch hook ≥ 11,600 awards/s for a minute",
                f"{rate:,.0f} awards/s",
                "met" if rate >= 11_600 else "**missed**",
                "—"
                if batch_alone is None
                else "(e) PostgreSQL alone writing batch calls: "
                f"{_number(batch_alone['per second']):,.0f} awards/s",
            )
        )
    nearby = find("Nearby endpoint", "scenario", "nearby")
    floor = find("Nearby endpoint", "scenario", "GET /healthz")
    if nearby:
        p99 = _number(nearby["p99 ms"])
        limits = []
        if floor:
            limits.append(f"GET /healthz, same server: p99 {_number(floor['p99 ms']):.1f} ms")
        if read:
            limits.append(f"(c) bare Litestar, one read: p99 {_number(read['p99 ms']):.1f} ms")
        found.append(
            (
                "nearby p99 < 20 ms, 100,000 stores, 32 connections",
                f"p99 {p99:.1f} ms at {_number(nearby['per second']):,.0f} req/s",
                "met" if p99 < 20 else "**missed**",
                "; ".join(limits) or "—",
            )
        )
    redeem = find("Redemptions of one hot item", "scenario", "one hot item")
    if redeem:
        rate = _number(redeem["per second"])
        exact = redeem.get("stock exact") == "yes"
        found.append(
            (
                "redemptions of one hot item ≥ 500/s, stock exact",
                f"{rate:,.0f}/s, stock exact: {'yes' if exact else 'NO'}",
                "met" if rate >= 500 and exact else "**missed**",
                "—",
            )
        )
    return found


def tables(text: str) -> list[list[dict[str, str]]]:
    """The Markdown tables a script printed, as rows of header → cell."""
    found: list[list[dict[str, str]]] = []
    lines = [line for line in text.splitlines() if line.startswith("|")]
    block: list[str] = []
    for line in [*lines, ""]:
        if line:
            block.append(line)
            continue
        if len(block) >= 3:
            head: list[str] = []
            for cell in (c.strip() for c in block[0].strip("|").split("|")):
                # Repeated headers (two "µs per tx" columns) stay apart: "µs per tx (2)".
                head.append(cell if cell not in head else f"{cell} ({head.count(cell) + 1})")
            found.append(
                [
                    dict(zip(head, (c.strip() for c in row.strip("|").split("|")), strict=False))
                    for row in block[2:]
                ]
            )
        block = []
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="loadtest/results")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    report: dict[str, object] = {
        "machine": describe(),
        "started_at": datetime.now(UTC).isoformat(),
        "command": f"python -m loadtest.run_all --out {args.out} --seconds {args.seconds:g}",
        "sections": [],
    }
    markdown = [
        "# Benchmark report",
        "",
        f"- machine: {report['machine']}",
        f"- command: `{report['command']}`",
        f"- started: {report['started_at']}",
        "",
    ]
    failures = 0
    for title, command in scenarios(args.seconds):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", *command],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        failures += result.returncode != 0
        elapsed = time.monotonic() - started
        sections = report["sections"]
        assert isinstance(sections, list)
        sections.append(
            {
                "title": title,
                "command": "python -m " + " ".join(command),
                "exit_code": result.returncode,
                "seconds": round(elapsed, 1),
                "tables": tables(result.stdout),
            }
        )
        markdown += [f"## {title}", "", f"`python -m {' '.join(command)}` ({elapsed:.0f} s)", ""]
        markdown += [
            line
            for line in result.stdout.splitlines()
            if not line.startswith(("machine:", "command:"))
        ]
        if result.returncode != 0:
            markdown += [
                "",
                f"**exit code {result.returncode}**",
                "",
                "```",
                result.stderr[-2000:],
                "```",
            ]
        markdown.append("")
        print(f"{title}: {elapsed:.0f} s, exit {result.returncode}", flush=True)
    sections = report["sections"]
    assert isinstance(sections, list)
    verdicts = targets(sections)
    report["targets"] = [
        {"target": t, "measured": m, "met": v == "met", "machine_limit": x}
        for t, m, v, x in verdicts
    ]
    markdown += [
        "## Targets",
        "",
        "| target | measured | verdict | the machine's own limit, same run |",
        "|---|---|---|---|",
    ]
    markdown += [f"| {t} | {m} | {v} | {x} |" for t, m, v, x in verdicts]
    markdown.append("")
    report["seconds"] = round(time.monotonic() - began, 1)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / "report.md").write_text("\n".join(markdown) + "\n")
    print(f"wrote {out / 'report.md'} and {out / 'report.json'} in {report['seconds']} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
