"""What a test needs of the machine beyond the project's own install (a Debian package,
root). Missing, the test skips and says what to install; where the suite is run with
``REWARDS_REQUIRE_ALL=1`` (``.ci/run`` sets it, having installed everything), it fails."""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_ALL = os.environ.get("REWARDS_REQUIRE_ALL") == "1"


def missing(reason: str) -> None:
    """Skip the test, or fail it where everything is required."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (REWARDS_REQUIRE_ALL=1: nothing may be skipped)")
    pytest.skip(reason)


def root(why: str) -> None:
    if os.geteuid() != 0:
        missing(f"{why} need root")


def program(name: str, package: str) -> str:
    """The path of ``name``, from Debian's ``package``."""
    found = shutil.which(name)
    if found is None:
        missing(f"needs {name}: apt-get update && apt-get install {package}")
    assert found is not None
    return found
