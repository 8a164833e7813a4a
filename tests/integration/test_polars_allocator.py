"""The ``openblotter`` command sets polars' allocator before polars loads (cli.py), and
polars' jemalloc takes the setting; a setting of the user's own is left as it is.

jemalloc prints the options it runs with when ``stats_print`` is on. If polars stops
reading ``_RJEM_MALLOC_CONF`` (another allocator), these fail, and the setting in cli.py
must be looked at again."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from openblotter.cli import POLARS_MALLOC_CONF

#: What ``_RJEM_MALLOC_CONF`` holds at the moment polars is first imported.
SEEN_BY_POLARS = """
import json, os, sys
seen = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "polars" and not seen:
            seen.append(os.environ.get("_RJEM_MALLOC_CONF"))
        return None
sys.meta_path.insert(0, Watch())
import openblotter.cli
print(json.dumps(seen))
"""

USE_POLARS = """
import polars as pl
print(pl.DataFrame({"a": list(range(100_000))}).sum().item())
"""


def _run(code: str, env_value: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "_RJEM_MALLOC_CONF"}
    if env_value is not None:
        env["_RJEM_MALLOC_CONF"] = env_value
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_the_setting_is_in_place_before_polars_is_imported() -> None:
    assert json.loads(_run(SEEN_BY_POLARS, None).stdout) == [POLARS_MALLOC_CONF]
    assert json.loads(_run(SEEN_BY_POLARS, "narenas:3").stdout) == ["narenas:3"]


def test_polars_allocator_runs_with_the_setting() -> None:
    run = _run(USE_POLARS, POLARS_MALLOC_CONF + ",stats_print:true")
    assert run.stdout.splitlines()[0] == str(sum(range(100_000)))
    options = dict(re.findall(r"^\s*opt\.(\w+): (\S+)", run.stderr + run.stdout, re.MULTILINE))
    expected = dict(item.split(":") for item in POLARS_MALLOC_CONF.split(","))
    assert expected == {"narenas": "1", "dirty_decay_ms": "200", "muzzy_decay_ms": "0"}
    for name, value in expected.items():
        assert options.get(name) == value, (name, options)
