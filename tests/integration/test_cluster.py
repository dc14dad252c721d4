"""The cluster drills, short: API hosts behind haproxy, a synchronous replica promoted when
the primary is killed, events delivered after the failover (``loadtest/drills/cluster.py``).

Network namespaces need root, and the drill needs haproxy and iproute2: CI runs it as root
with both installed; elsewhere the test skips and says what it needs.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests import needs


def test_no_acknowledged_award_is_lost_or_doubled_when_hosts_die() -> None:
    needs.root("network namespaces (sudo .venv/bin/python -m pytest " + __file__ + ")")
    needs.program("haproxy", "haproxy")
    needs.program("ip", "iproute2")
    run = subprocess.run(
        [sys.executable, "-m", "loadtest.drills.cluster", "--seconds", "6", "--clients", "6"],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    for drill in ("api_host_killed", "primary_killed"):
        figures = report[drill]
        assert figures["acknowledged"] > 0, figures
        assert figures["acknowledged"] == figures["sent"], figures
        assert figures["lost"] == 0, figures
        assert figures["applied_twice"] == 0, figures
        assert figures["postings_sum_to_zero"], figures
    # The callers saw the failover, and it ended: awards went on after the promotion.
    failover = report["primary_killed"]
    assert failover["longest_gap_between_awards_seconds"] < 30, failover
    # The members' reads were served by the replica (DATABASE_REPLICA_URL is read).
    assert report["replica_reads"]["replica"] > 0, report["replica_reads"]
    events = report["events_after_failover"]
    assert events["pending"] == 0, events
    assert events["acked_events"] == events["acked_delivered"] == events["acknowledged_awards"]
    # At least once: a receiver may get an event twice (and deduplicates by id), never none.
    assert events["receiver"]["unique"] == events["delivered"]
    # Nothing of the cluster is left behind.
    assert "rw-" not in subprocess.run(["ip", "netns"], capture_output=True, text=True).stdout
