"""Every benchmark in one command; the report as Markdown and JSON.

Run: .venv/bin/python -m loadtest.bench.run_all [--out loadtest/results] [--seconds 10]

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
        ("Rule evaluation", ["loadtest.bench.bench_rules"]),
        ("Hook throughput", ["loadtest.bench.hook_load", "--seconds", s]),
        ("Baselines", ["loadtest.bench.baselines", "--seconds", s]),
        ("WAL per award", ["loadtest.bench.wal", "--awards", "2000", "--batch-size", "1000"]),
        ("Redemptions of one hot item", ["loadtest.bench.redeem_load", "--seconds", s]),
        ("Nearby: H3 against earthdistance", ["loadtest.bench.bench_nearby", "--queries", "1000"]),
        ("Nearby endpoint", ["loadtest.bench.nearby_load", "--seconds", s]),
        ("Mixed mobile traffic and worker memory", ["loadtest.bench.mobile_load", "--seconds", s]),
        (
            "uvicorn against granian",
            ["loadtest.bench.servers", "--seconds", f"{seconds / 2:g}", "--rounds", "1"],
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

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def rate(row: dict[str, str], column: str = "per second") -> float:
        return _number(row[column])

    minimal = find("Baselines", "path", "(a)")
    bare = find("Baselines", "path", "(b)")
    read = find("Baselines", "path", "(c)")
    engine = find("Baselines", "path", "engine")
    alone = find("Baselines", "path", "(d)")
    batch_alone = find("Baselines", "path", "(e)")
    if minimal and engine:
        share = rate(engine) / rate(minimal)
        p99 = _number(engine["p99 ms"])
        found.append(
            (
                "single hook ≥ 25% of (a) pgbench's minimal award, p99 ≤ 100 ms",
                f"{rate(engine):,.0f}/s = {share:.0%} of (a), p99 {p99:.0f} ms",
                verdict(share >= 0.25 and p99 <= 100),
                f"(a) {rate(minimal):,.0f}/s"
                + (
                    f"; (d) PostgreSQL alone running a single hook's SQL: {rate(alone):,.0f}/s "
                    f"= {rate(alone) / rate(minimal):.0%} of (a)"
                    if alone
                    else ""
                ),
            )
        )
    for label, starts in (("single", "single"), ("batch", "batch")):
        wal = find("WAL per award", "scenario", starts)
        base = find("WAL per award", "scenario", "minimal")
        if wal is None:
            continue
        wal_bytes = _number(wal["WAL bytes per award"])
        rows_ = _number(wal["rows per award"])
        rows_ok = rows_ <= 8 if label == "single" else True
        found.append(
            (
                f"{label} hook: WAL ≤ 2,000 bytes per award"
                + (", rows written ≤ 8" if label == "single" else ""),
                f"{wal_bytes:,.0f} bytes, {rows_:g} rows per award",
                verdict(wal_bytes <= 2000 and rows_ok),
                "—"
                if base is None
                else f"minimal award (2 postings, 1 balance): "
                f"{_number(base['WAL bytes per award']):,.0f} bytes, "
                f"{_number(base['rows per award']):g} rows",
            )
        )
    batch = find("Hook throughput", "scenario", "batch")
    if batch and batch_alone:
        share = rate(batch, "awards/s") / rate(batch_alone)
        found.append(
            (
                "batch hook ≥ 60% of (e) PostgreSQL alone writing what a batch writes",
                f"{rate(batch, 'awards/s'):,.0f} awards/s = {share:.0%} of (e)",
                verdict(share >= 0.6),
                f"(e) {rate(batch_alone):,.0f} awards/s",
            )
        )
    nearby = find("Nearby endpoint", "scenario", "nearby")
    if nearby and read:
        share = rate(nearby) / rate(read)
        p99, read_p99 = _number(nearby["p99 ms"]), _number(read["p99 ms"])
        found.append(
            (
                "nearby ≥ 50% of (c) the bare one-read endpoint, p99 ≤ 2× (c)'s",
                f"{rate(nearby):,.0f}/s = {share:.0%} of (c), p99 {p99:.1f} ms "
                f"= {p99 / read_p99:.1f}× (c)'s",
                verdict(share >= 0.5 and p99 <= 2 * read_p99),
                f"(c) {rate(read):,.0f}/s, p99 {read_p99:.1f} ms",
            )
        )
    redeem = find("Redemptions of one hot item", "scenario", "one hot item")
    if redeem and bare:
        share = rate(redeem) / rate(bare)
        exact = redeem.get("stock exact") == "yes"
        found.append(
            (
                "redemptions of one hot item ≥ 50% of (b) bare Litestar + asyncpg, stock exact",
                f"{rate(redeem):,.0f}/s = {share:.0%} of (b), stock exact: "
                f"{'yes' if exact else 'NO'}",
                verdict(share >= 0.5 and exact),
                f"(b) {rate(bare):,.0f}/s",
            )
        )
    return found


def tables(text: str) -> list[list[dict[str, str]]]:
    """The Markdown tables a script printed, as rows of header → cell."""
    found: list[list[dict[str, str]]] = []
    # Any line that is not a table row ends the table before it.
    lines = [line if line.startswith("|") else "" for line in text.splitlines()]
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
        "command": f"python -m loadtest.bench.run_all --out {args.out} --seconds {args.seconds:g}",
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
