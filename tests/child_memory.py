"""Run a script in a child process whose resident memory is its own, and read the figures it
prints as JSON. The script is given ``resident()``: the resident MB after a garbage
collection (``/proc``, so Linux only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_RESIDENT = '''
import gc

def resident():
    gc.collect()
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
'''
ON_LINUX = sys.platform == "linux" and Path("/proc/self/status").exists()


def measured(script: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """The JSON ``script`` prints, run from the project root with these arguments."""
    done = subprocess.run([sys.executable, "-c", _RESIDENT + script, *args],
                          capture_output=True, text=True, check=True,
                          env=os.environ | (env or {}), cwd=Path(__file__).parents[1])
    return json.loads(done.stdout)
