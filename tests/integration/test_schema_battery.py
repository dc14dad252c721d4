"""The OpenAPI document against the running service: schemathesis generates requests for
every operation from the document (valid ones and invalid ones) and sends them over a socket
to `rewards serve`, with each caller's credentials and the hooks signed as the processor
signs them. Any 5xx, any answer the document does not describe, any valid request refused
or invalid one accepted fails the run (`loadtest/batteries/battery.py`; its long form runs
there)."""

from __future__ import annotations

import asyncio
import re
import sys

# Examples per operation and phase: about 7,000 requests in two to three minutes on 2 cores.
EXAMPLES = 20


async def test_every_operation_answers_as_its_document_says(database: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "loadtest.batteries.battery",
        "--examples",
        str(EXAMPLES),
        "--database-url",
        database,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = out.decode(errors="replace")
    summary = text[text.find("SUMMARY") :] if "SUMMARY" in text else text[-5000:]
    assert process.returncode == 0, summary + "\n" + text[:20000]
    tested = re.search(r"Tested: (\d+)", text)
    assert tested is not None, summary
    assert int(tested.group(1)) >= 70, summary  # every operation, none skipped
    cases = summary.split("Test cases:")[-1]
    assert "generated" in cases, summary
    assert "failure" not in cases, summary
