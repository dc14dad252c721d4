"""Every benchmark in one command; the report as Markdown and JSON.

Run: .venv/bin/python -m loadtest.run_all [--out loadtest/results] [--seconds 15]

Runs, one after the other (each starts and stops its own servers on loopback): rule
evaluation, single and batch hooks, the baselines, redemptions of one hot item, the nearby
comparison and the nearby endpoint. Each section keeps the figures its script printed.
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
    ]


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
    parser.add_argument("--seconds", type=float, default=15)
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
    report["seconds"] = round(time.monotonic() - began, 1)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / "report.md").write_text("\n".join(markdown) + "\n")
    print(f"wrote {out / 'report.md'} and {out / 'report.json'} in {report['seconds']} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
