"""What a web process loads before it serves (``server_preload_analysis``): every analysis
module and the statistics they use, and not the rest of statsmodels. ``statsmodels.api``
imports every model it has (time series among them): 24 MiB more in each web process."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys
from openblotter.services.warmup import load_analysis_libraries
load_analysis_libraries()
names = ["openblotter.analysis.darkness_model", "openblotter.analysis.outcome_tests",
         "scipy.stats", "statsmodels.discrete.discrete_model", "statsmodels.api",
         "statsmodels.tsa"]
print(json.dumps({name: name in sys.modules for name in names}))
"""


def test_the_preload_loads_the_analyses_and_only_the_models_they_fit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {
        "openblotter.analysis.darkness_model": True,
        "openblotter.analysis.outcome_tests": True,
        "scipy.stats": True,
        "statsmodels.discrete.discrete_model": True,
        "statsmodels.api": False,
        "statsmodels.tsa": False,
    }
