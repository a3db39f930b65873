"""Helpers of the bulk-change tests: build change sets directly, run a job to its end in this process."""

from __future__ import annotations

import time
from typing import Any

from zoomadmin.accounts.models import ZoomConnection
from zoomadmin.imports import engine
from zoomadmin.imports.models import Action, ChangeSet, JobStatus, Outcome, Source
from zoomadmin.imports.services import RowSpec, changeset_create


def create_specs(domain: str, count: int, *, start: int = 2, title: str = "Engineer") -> list[RowSpec]:
    """`count` create rows for new users at `domain`, lines from `start`."""
    return [
        RowSpec(
            line=start + i,
            action=Action.CREATE,
            email=f"new{i}@{domain}",
            planned=Outcome.CREATE,
            after={"first_name": f"New{i}", "last_name": "Person", "title": title},
            cells=[f"new{i}@{domain}", f"New{i}", "Person", title],
        )
        for i in range(count)
    ]


def change_set_of(connection: ZoomConnection, specs: list[RowSpec], **kwargs: Any) -> ChangeSet:
    """A planned CSV change set of `specs` on the connection's account."""
    kwargs.setdefault("active_users", 1000)
    kwargs.setdefault("columns", ["Email", "First Name", "Last Name", "Job Title"])
    return changeset_create(
        account=connection.account, connection=connection, source=Source.CSV, rows=specs, file_name="t.csv", **kwargs
    )


def run_to_end(change_set: ChangeSet, *, limit: float = 120.0, concurrency: int = 4) -> ChangeSet:
    """Run chunks in this process (as tasks would) until the job ends or pauses; the job, re-read."""
    stop = time.monotonic() + limit
    while time.monotonic() < stop:
        result = engine.job_work(change_set.pk, seconds=10, concurrency=concurrency)
        change_set.refresh_from_db()
        if change_set.status != JobStatus.RUNNING or result.again_in is None:
            return change_set
        time.sleep(min(result.again_in, 1.0))
    raise AssertionError(f"job {change_set.pk} did not end within {limit} s")
