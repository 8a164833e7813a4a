"""Time ``read_table`` on a generated 1,000,000-row x 12-column CSV (~120 MB).

Run: ``.venv/bin/python benchmarks/read_table_1m.py [--rows N] [--encoding cp1252]``

The file is written to a temporary folder and removed afterwards. Each read
runs in a fresh process so that its peak RSS (``VmHWM``, Linux) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

CHILD = """
import json, sys, time
from pathlib import Path
from openblotter.ingest.read.readers import read_table
def peak_rss_mb():
    # VmHWM, not ru_maxrss: the latter keeps the parent's high-water mark across fork/exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
calls = []
start, cpu_start = time.perf_counter(), time.process_time()
table = read_table(Path(sys.argv[1]), progress=lambda done, total: calls.append(done))
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
print(json.dumps({
    "rows": table.frame.height, "columns": len(table.columns), "encoding": table.encoding,
    "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mb": peak_rss_mb(),
    "progress_calls": len(calls), "problems": table.problem_counts,
}))
"""


def generate(path: Path, rows: int, encoding: str) -> None:
    """Write a use-of-force-like CSV with ``rows`` rows and 12 columns."""
    rng = np.random.default_rng(2016)
    streets = ["MAIN ST", "W LINDSEY ST", "E ALAMEDA ST", "N PORTER AVE", "24TH AVE NW"]
    frame = pl.DataFrame(
        {
            "incident_number": [f"2024-{i:08d}" for i in range(rows)],
            "occurred_date": [
                f"{m}/{d}/20{y}"
                for m, d, y in zip(
                    rng.integers(1, 13, rows),
                    rng.integers(1, 29, rows),
                    rng.integers(16, 25, rows),
                    strict=True,
                )
            ],
            "occurred_time": [
                f"{h}:{m:02d}:00 {'AM' if h < 12 else 'PM'}"
                for h, m in zip(rng.integers(1, 13, rows), rng.integers(0, 60, rows), strict=True)
            ],
            "officer_id": rng.integers(1000, 99999, rows).astype(str),
            "officer_race": rng.choice(["White", "Black", "Hispanic", "Asian", "Unknown"], rows),
            "officer_sex": rng.choice(["Male", "Female"], rows),
            "subject_race": rng.choice(["White", "Black", "Hispanic", "Native American"], rows),
            "subject_sex": rng.choice(["Male", "Female", "Unknown"], rows),
            "subject_age": rng.integers(14, 80, rows).astype(str),
            "force_type": rng.choice(
                ["Hands, Fist, Feet", "Taser Display", "Firearm Display", "Takedown"], rows
            ),
            "location": [
                f"{n}00 BLOCK {streets[s]}"
                for n, s in zip(rng.integers(1, 99, rows), rng.integers(0, 5, rows), strict=True)
            ],
            "disposition": rng.choice(["Arrested", "Released", "Cited", "Hospitalized"], rows),
        }
    )
    if encoding == "utf-8":
        frame.write_csv(path)
    else:
        path.write_bytes(frame.write_csv().replace("Hands", "Mano\u2019s").encode(encoding))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "cp1252"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "use_of_force.csv"
        generate(path, args.rows, args.encoding)
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
        )
        measured = json.loads(result.stdout)
        measured["file_mb"] = round(path.stat().st_size / 1e6, 1)
        print(json.dumps(measured, indent=2))


if __name__ == "__main__":
    main()
