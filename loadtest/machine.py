"""What machine a benchmark ran on, printed with every figure."""

from __future__ import annotations

import os
import platform
import sys


def describe() -> str:
    """Cores, CPU model, memory, Python: one line."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "unknown memory"
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            kib = int(info.readline().split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores, {model}, {memory}, Python {sys.version.split()[0]}, "
        f"{platform.system()} {platform.release()}"
    )
