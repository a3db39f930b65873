"""Peak memory of reading and validating a bulk-change CSV: 10,000 rows against 100,000 rows.

Run from the repository root: .venv/bin/python bench/import_memory.py
Writes both files to a temporary directory, runs `pipeline` over each in a fresh Python process
(so one run's peak does not hide the other's) and prints each child's peak RSS
(`ru_maxrss`). The intake streams, so the larger file must stay within 100 MB of the smaller
one; the script exits 1 otherwise. The last line is one JSON object.

`pipeline` is the whole path a CSV takes before the plan page; a later stage (the plan) is added
there as one more call, and this script measures it too.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = (10_000, 100_000)
BUDGET_MB = 100.0
HEADER = (
    "Email",
    "First Name",
    "Last Name",
    "Department",
    "Manager",
    "User Group",
    "Job Title",
    "Location",
    "Employee ID",
    "Action",
)


def csv_write(path: Path, rows: int) -> None:
    """A portal-style file of `rows` users, with some quoting, groups and an invalid line per thousand."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            email = f"user{n}@example.com" if n % 1000 else f"not-an-email-{n}"
            writer.writerow(
                (
                    email,
                    f"Given{n}",
                    f"Family, {n}",
                    f"Department {n % 40}",
                    f"manager{n % 500}@example.com",
                    f"Group {n % 7}; Group {n % 11}",
                    "Engineer",
                    "Berlin",
                    f"{n:08d}",
                    "upsert" if n % 3 else "",
                )
            )


def pipeline(path: Path) -> dict[str, int]:
    """Read and validate `path` as a bulk-change upload: counts of valid and invalid rows."""
    from zoomadmin.imports.rows import RowIntent, intake_open

    valid = invalid = 0
    with path.open("rb") as binary:
        intake = intake_open(binary)
        for row in intake.rows:
            if isinstance(row, RowIntent):
                valid += 1
            else:
                invalid += 1
    return {"valid": valid, "invalid": invalid}


def child(path: Path) -> None:
    """Run in the fresh process: set up Django, run the pipeline, print counts and peak RSS as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")
    django.setup()
    counts = pipeline(path)
    # Linux reports ru_maxrss in kilobytes.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**counts, "rss_mb": round(peak_mb, 1)}))


def main() -> None:
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="import_memory_") as directory:
        for rows in SIZES:
            path = Path(directory) / f"users_{rows}.csv"
            csv_write(path, rows)
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode:
                sys.exit(f"the pipeline failed on {rows} rows:\n{done.stdout}{done.stderr}")
            results[rows] = json.loads(done.stdout.strip().splitlines()[-1])
            size_mb = path.stat().st_size / (1024 * 1024)
            print(
                f"{rows:>7,} rows ({size_mb:.1f} MB): peak RSS {results[rows]['rss_mb']} MB, "
                f"{results[rows]['valid']:,} valid, {results[rows]['invalid']:,} invalid"
            )
    small, large = (results[rows]["rss_mb"] for rows in SIZES)
    summary = {"rss_mb_10000": small, "rss_mb_100000": large, "delta_mb": round(large - small, 1)}
    print(json.dumps(summary))
    if large - small > BUDGET_MB:
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]))
    else:
        main()
