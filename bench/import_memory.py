"""Peak memory of reading, validating and planning a bulk-change CSV: 10,000 rows against 100,000 rows.

Run from the repository root, on a database of your own (it is migrated, and a bench account's
mirror is written into it):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours> .venv/bin/python bench/import_memory.py

Writes both files to a temporary directory, fills the mirror of one account directly (MIRROR_USERS
users, the files' groups), runs `pipeline` over each file in a fresh Python process (so one run's
peak does not hide the other's) and prints each child's peak RSS (`ru_maxrss`). The intake and the
plan stream, so the larger file must stay within 100 MB of the smaller one; the script exits 1
otherwise. The last line is one JSON object.

`pipeline` is the whole path a CSV takes before the plan page: intake, then the plan against the
mirror (`plan.plan_summary`, the `import_csv --plan-only` path: every row diffed, nothing stored).
"""

from __future__ import annotations

import csv
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

from _support import ROOT, run_or_exit

sys.path.insert(0, str(ROOT))

SIZES = (10_000, 100_000)
BUDGET_MB = 100.0
# Users of the file already in the mirror (the first ones): those rows plan as updates or unchanged.
MIRROR_USERS = 20_000
BENCH_ACCOUNT = "bench-import-memory"
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
    """Read, validate and plan `path` as a bulk-change upload against the bench account's mirror."""
    from zoomadmin.accounts.models import ZoomAccount
    from zoomadmin.imports.plan import plan_summary

    account = ZoomAccount.objects.get(zoom_id=BENCH_ACCOUNT)
    with path.open("rb") as binary:
        summary = plan_summary(account=account, binary=binary)
    return {"valid": summary.valid, "invalid": len(summary.invalid), **dict(summary.outcomes)}


def mirror_fill() -> None:
    """The bench account with MIRROR_USERS users of the files and their groups, as a sync leaves them."""
    from django.utils import timezone

    from zoomadmin.accounts.models import ZoomAccount
    from zoomadmin.directory.models import DirectoryGroup, DirectoryUser

    ZoomAccount.objects.filter(zoom_id=BENCH_ACCOUNT).delete()
    account = ZoomAccount.objects.create(zoom_id=BENCH_ACCOUNT, name="Bench", plan="business")
    DirectoryGroup.objects.bulk_create(
        DirectoryGroup(account=account, zoom_id=f"g{n}", display_name=f"Group {n}") for n in range(11)
    )
    DirectoryUser.objects.bulk_create(
        (
            DirectoryUser(
                account=account,
                zoom_id=f"u{n}",
                user_name=f"user{n}@example.com",
                email=f"user{n}@example.com",
                given_name=f"Given{n}",
                family_name=f"Family, {n}" if n % 2 else "Renamed",
                department=f"Department {n % 40}",
                user_type="Basic",
            )
            for n in range(MIRROR_USERS)
        ),
        batch_size=2000,
    )
    ZoomAccount.objects.filter(pk=account.pk).update(last_synced_at=timezone.now())


def child(path: Path) -> None:
    """Run in the fresh process: set up Django, run the pipeline, print counts and peak RSS as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")
    django.setup()
    if path.name == "--fill":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        mirror_fill()
        print(json.dumps({"filled": MIRROR_USERS}))
        return
    counts = pipeline(path)
    # Linux reports ru_maxrss in kilobytes.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**counts, "rss_mb": round(peak_mb, 1)}))


def main() -> None:
    results: dict[int, dict[str, float]] = {}
    run_or_exit([sys.executable, __file__, "--child", "--fill"], failed="filling the mirror failed")
    with tempfile.TemporaryDirectory(prefix="import_memory_") as directory:
        for rows in SIZES:
            path = Path(directory) / f"users_{rows}.csv"
            csv_write(path, rows)
            done = run_or_exit(
                [sys.executable, __file__, "--child", str(path)], failed=f"the pipeline failed on {rows} rows"
            )
            results[rows] = json.loads(done.strip().splitlines()[-1])
            size_mb = path.stat().st_size / (1024 * 1024)
            print(
                f"{rows:>7,} rows ({size_mb:.1f} MB): peak RSS {results[rows]['rss_mb']} MB, "
                f"{results[rows]['valid']:,} valid, {results[rows]['invalid']:,} invalid; "
                + ", ".join(
                    f"{name} {int(count):,}"
                    for name, count in results[rows].items()
                    if name not in ("valid", "invalid", "rss_mb")
                )
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
