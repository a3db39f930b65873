"""What every task shares: the retry policy of Zoom-bound tasks, their queue, and the sweeper.

- `ZoomTask` is the base class of every task that talks to Zoom (`@app.task(base=ZoomTask, ...)`).
  Its tasks run on the `zoom` queue (`route`), never sleep for a rate-limit slot (their clients
  have `wait_for_slot=False`), and reschedule themselves on a transient failure: `RateLimited` after
  the wait the limiter or Zoom named, `Unavailable` after an exponential backoff. Anything else
  fails the task at once, `OutcomeUnknown` above all (a write that may have been applied is
  reconciled by its owner, never blindly sent again). `retry_countdown` is that decision.
- `sweeper` registers a function that finds stalled work (an expired lease, a job that stopped
  moving) and enqueues it again; the `sweep` task, run by beat every minute, calls them all.

docs/celery.md explains the policy and the settings behind it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from celery.contrib.django.task import DjangoTask
from django.conf import settings

from zoomadmin.celery import app
from zoomadmin.zoom.errors import OutcomeUnknown, RateLimited, Unavailable, ZoomError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R", covariant=True)

ZOOM_QUEUE = "zoom"


@dataclass(frozen=True)
class Backoff:
    """How long to wait before the n-th retry after `Unavailable`: `base` · 2ⁿ, at most `cap`, plus
    up to `jitter` of it at random so that tasks failing together do not come back together."""

    base: float = 5.0
    cap: float = 300.0
    jitter: float = 0.25

    def seconds(self, retries: int, *, rng: Callable[[], float] = random.random) -> float:
        """The wait before retry number `retries` + 1 (`retries` already made)."""
        plain = min(self.cap, self.base * 2.0 ** max(0, retries))
        return plain * (1 + self.jitter * rng())


def retry_countdown(exc: BaseException, *, retries: int, backoff: Backoff, max_countdown: float) -> float | None:
    """Seconds to wait before running a task again after `exc`, or None when it must not be retried.

    `RateLimited`: exactly the wait the limiter (or Zoom's Retry-After) named, so the task comes back
    when a slot is free. `Unavailable` (network failure, 5xx: Zoom changed nothing): the backoff.
    Neither waits longer than `max_countdown` (see TASK_RETRY_MAX_COUNTDOWN). Everything else,
    `OutcomeUnknown` first of all, is not retried: other 4xx will not change by asking again, and a
    write whose outcome is unknown must be reconciled with Zoom before it is sent again.
    """
    if isinstance(exc, OutcomeUnknown):
        return None
    if isinstance(exc, RateLimited):
        return min(exc.retry_after, max_countdown)
    if isinstance(exc, Unavailable):
        return min(backoff.seconds(retries), max_countdown)
    return None


class ZoomTask(DjangoTask[P, R]):
    """Base class of every task that calls Zoom: transient failures reschedule the task (see module).

    A task gives up after `max_retries` retries and fails with the last error. Rate-limit waits
    count too: a task that cannot get a slot in that many tries is competing with more work than
    the account's budget allows, and whoever started it should hear so.
    """

    max_retries = 8
    backoff = Backoff()

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        # The worker has already pushed the request (id, retries, delivery info) that retry() needs;
        # Task.__call__ would push a bare one over it, so the body is run directly (Celery's documented
        # way to wrap a task's body).
        try:
            return self.run(*args, **kwargs)
        except ZoomError as exc:
            countdown = retry_countdown(
                exc,
                retries=self.request.retries,
                backoff=self.backoff,
                max_countdown=settings.TASK_RETRY_MAX_COUNTDOWN,
            )
            if countdown is None:
                raise
            logger.info("task %s[%s] retries in %.1f s after: %s", self.name, self.request.id, countdown, exc.message)
            # Past max_retries, retry() raises `exc` itself: the task fails with Zoom's sentence.
            # Otherwise it has sent the retry; the Retry holds a pickled copy of `exc` (ZoomErrors with
            # keyword-only arguments come back as plain ZoomError), so the real one is its cause.
            retry = self.retry(exc=exc, countdown=countdown, throw=False)
            raise retry from exc


def route(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **rest: Any) -> dict[str, str] | None:
    """Celery router (CELERY_TASK_ROUTES): every ZoomTask goes to the `zoom` queue.

    None lets the default queue take everything else.
    """
    if isinstance(task, ZoomTask):
        return {"queue": ZOOM_QUEUE}
    return None


# A sweeper finds work that stalled (its worker died, its message was lost) and enqueues it again;
# it returns how many items it resumed. It must only read the database and enqueue: no Zoom calls.
Sweeper = Callable[[], int]
_SWEEPERS: dict[str, Sweeper] = {}


def sweeper(name: str) -> Callable[[Sweeper], Sweeper]:
    """Register the decorated function as the sweeper `name`; define it in your app's tasks.py.

    Raises ValueError when another function already holds the name (two sweepers must not shadow
    each other silently).
    """

    def register(function: Sweeper) -> Sweeper:
        known = _SWEEPERS.get(name)
        if known is not None and known is not function:
            raise ValueError(f"Another sweeper is already registered as {name!r}.")
        _SWEEPERS[name] = function
        return function

    return register


def sweepers() -> dict[str, Sweeper]:
    """The registered sweepers by name (a copy)."""
    return dict(_SWEEPERS)


def sweep_all() -> dict[str, int]:
    """Run every sweeper once; returns how many items each resumed (-1 for one that failed).

    One sweeper failing does not stop the others: it is logged, and beat calls again in a minute.
    """
    resumed: dict[str, int] = {}
    for name, function in sweepers().items():
        try:
            resumed[name] = function()
        except Exception:
            logger.exception("sweeper %s failed", name)
            resumed[name] = -1
        else:
            if resumed[name]:
                logger.info("sweeper %s resumed %d stalled items", name, resumed[name])
    return resumed


# Retry policy: none. Beat runs it every minute and a sweep only enqueues, so a lost run is
# replaced by the next; acks early, since a sweep cut short has nothing to resume.
@app.task(name="zoomadmin.tasks.sweep", soft_time_limit=50, time_limit=60)
def sweep() -> None:
    sweep_all()
