"""The Celery policy's decisions, made by real tasks against the in-process sandbox and real Redis.

Each task runs as a worker would run it: a request is pushed (id, retry count, the queue it came
from) and the task is called. A retry is observable twice: the `Retry` Celery's worker receives
(its countdown), and the message `retry()` sent to the broker, read back from Redis.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.exceptions import Retry
from django.conf import settings as django_settings

import zoomadmin.tasks
from zoomadmin.accounts import tasks as account_tasks
from zoomadmin.accounts.clients import zoom_client
from zoomadmin.accounts.models import ConnectionStatus, ZoomConnection
from zoomadmin.celery import app
from zoomadmin.redis import redis_client
from zoomadmin.sandbox.models import Role, SandboxAccount, SandboxUser
from zoomadmin.tasks import Backoff, ZoomTask, retry_countdown, sweep_all, sweeper, sweepers
from zoomadmin.zoom.errors import Invalid, OutcomeUnknown, RateLimited, Unavailable
from zoomadmin.zoom.plans import LIGHT
from zoomadmin.zoom.ratelimit import default_limiter


@pytest.fixture(autouse=True)
def _zoom(zoom_settings: None) -> None:
    """Every task here talks to the in-process sandbox."""


# A Zoom-bound task used only here: it performs one named operation as a connection, so that the
# policy meets the errors a health check never produces (a refused request, an unknown write).
@app.task(base=ZoomTask, name="tests.test_celery.zoom_probe")
def zoom_probe(connection_id: int, operation: str) -> None:
    connection = ZoomConnection.objects.select_related("account").get(pk=connection_id)
    with zoom_client(account=connection.account, acting_as=connection) as client:
        if operation == "list_users":
            client.list_users()
        elif operation == "deactivate_self":
            client.set_user_active(connection.zoom_user_id, False)
        else:
            raise ValueError(operation)


@pytest.fixture
def retry_queue() -> Iterator[str]:
    """A queue of its own that a retry's message is published to; emptied afterwards."""
    name = f"test-retries-{uuid.uuid4().hex}"
    yield name
    redis_client().delete(name)


def run_as_worker(task: Any, *args: Any, queue: str, retries: int = 0) -> None:
    """Run `task(*args)` the way a worker does: with the request of a message taken from `queue`."""
    task.push_request(
        id=str(uuid.uuid4()),
        args=args,
        kwargs={},
        retries=retries,
        called_directly=False,
        is_eager=False,
        delivery_info={"exchange": "", "routing_key": queue},
    )
    try:
        task(*args)
    finally:
        task.pop_request()


def queued(queue: str) -> list[dict[str, Any]]:
    """The headers of the messages waiting in `queue` on the broker."""
    return [json.loads(raw)["headers"] for raw in redis_client().lrange(queue, 0, -1)]


def test_a_refusing_limiter_reschedules_the_task_after_exactly_its_wait(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser, retry_queue: str
) -> None:
    connection = stored_connection(admin_a)
    account = connection.account
    # Our limiter is told Zoom answered 429 with Retry-After: 30; it refuses every slot until then.
    default_limiter().penalize(account_id=account.zoom_id, plan=account.plan, label=LIGHT, retry_after=30)

    with pytest.raises(Retry) as caught:
        run_as_worker(account_tasks.connection_check, connection.pk, queue=retry_queue)

    # The Retry carries a pickled copy of the error; the error itself is its cause.
    refusal = caught.value.__cause__
    assert isinstance(refusal, RateLimited)
    assert caught.value.when == refusal.retry_after
    assert 0 < refusal.retry_after <= 30
    [message] = queued(retry_queue)
    assert message["task"] == "zoomadmin.accounts.tasks.connection_check"
    assert message["retries"] == 1
    assert message["eta"] is not None
    connection.refresh_from_db()
    assert connection.last_check_error == refusal.message
    assert connection.status == ConnectionStatus.ACTIVE


def test_zoom_unavailable_backs_off_longer_each_time(
    stored_connection: Callable[..., ZoomConnection],
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    retry_queue: str,
) -> None:
    failing = make_sandbox_account(error_rate=1.0)
    connection = stored_connection(make_sandbox_user(failing, role=Role.ADMIN))
    backoff = ZoomTask.backoff

    waits = []
    for retries in (0, 3):
        with pytest.raises(Retry) as caught:
            run_as_worker(account_tasks.connection_check, connection.pk, queue=retry_queue, retries=retries)
        assert isinstance(caught.value.__cause__, Unavailable)
        waits.append(caught.value.when)

    assert backoff.base <= waits[0] <= backoff.base * (1 + backoff.jitter)
    assert backoff.base * 8 <= waits[1] <= backoff.base * 8 * (1 + backoff.jitter)
    assert sorted(message["retries"] for message in queued(retry_queue)) == [1, 4]


def test_retries_are_bounded_then_the_task_fails_with_zooms_error(
    stored_connection: Callable[..., ZoomConnection],
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    retry_queue: str,
) -> None:
    failing = make_sandbox_account(error_rate=1.0)
    connection = stored_connection(make_sandbox_user(failing, role=Role.ADMIN))
    task = account_tasks.connection_check

    with pytest.raises(Unavailable):
        run_as_worker(task, connection.pk, queue=retry_queue, retries=task.max_retries)
    assert queued(retry_queue) == []


def test_a_refused_request_fails_at_once(
    stored_connection: Callable[..., ZoomConnection],
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    retry_queue: str,
) -> None:
    # Zoom answers 400 to SCIM calls of an account without SSO: asking again will not change that.
    no_sso = make_sandbox_account(sso_enabled=False)
    connection = stored_connection(make_sandbox_user(no_sso, role=Role.OWNER))

    with pytest.raises(Invalid) as caught:
        run_as_worker(zoom_probe, connection.pk, "list_users", queue=retry_queue)
    assert "Single Sign-On" in caught.value.message
    assert queued(retry_queue) == []


def test_a_write_with_unknown_outcome_is_never_sent_again(
    stored_connection: Callable[..., ZoomConnection],
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    retry_queue: str,
) -> None:
    # Zoom's gateway answers 504 to everything: a write may or may not have been applied.
    hanging = make_sandbox_account(timeout_rate=1.0, timeout_hang_seconds=0.01)
    connection = stored_connection(make_sandbox_user(hanging, role=Role.OWNER))

    with pytest.raises(OutcomeUnknown) as caught:
        run_as_worker(zoom_probe, connection.pk, "deactivate_self", queue=retry_queue)
    assert caught.value.method == "PATCH"
    assert queued(retry_queue) == []


def test_a_rate_limit_wait_is_capped_below_the_brokers_visibility_timeout() -> None:
    day_spent = RateLimited(retry_after=6 * 3600)
    wait = retry_countdown(day_spent, retries=0, backoff=Backoff(), max_countdown=600)
    assert wait == 600
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > django_settings.TASK_RETRY_MAX_COUNTDOWN
    assert visibility > django_settings.CELERY_TASK_TIME_LIMIT


def test_outcome_unknown_is_not_retried_even_though_zoom_may_be_down() -> None:
    unknown = OutcomeUnknown(method="POST", path="/scim2/Users", reason="timeout", status=504)
    assert retry_countdown(unknown, retries=0, backoff=Backoff(), max_countdown=600) is None


def test_zoom_tasks_go_to_the_zoom_queue_and_others_to_the_default_queue() -> None:
    app.loader.import_default_modules()
    router = app.amqp.router
    assert isinstance(account_tasks.connection_check, ZoomTask)
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        queue = router.route({}, name, task_type=task)["queue"].name
        assert queue == ("zoom" if isinstance(task, ZoomTask) else "default"), name


def test_acks_late_only_where_running_twice_is_harmless() -> None:
    assert django_settings.CELERY_TASK_ACKS_LATE is False
    assert account_tasks.connection_check.acks_late is True
    assert account_tasks.connections_check.acks_late is False
    assert zoomadmin.tasks.sweep.acks_late is False


def test_the_beat_schedule_names_registered_tasks() -> None:
    app.loader.import_default_modules()
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_sweep_runs_every_sweeper_even_when_one_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # An empty registry of its own: the apps' real sweepers are not this test's business.
    monkeypatch.setattr(zoomadmin.tasks, "_SWEEPERS", {})

    @sweeper("tests.broken")
    def broken() -> int:
        raise RuntimeError("the database went away")

    @sweeper("tests.resumes_two")
    def resumes_two() -> int:
        return 2

    assert set(sweepers()) == {"tests.broken", "tests.resumes_two"}
    assert sweep_all() == {"tests.broken": -1, "tests.resumes_two": 2}
    with pytest.raises(ValueError, match="already registered"):
        sweeper("tests.resumes_two")(broken)


def test_a_check_of_a_working_connection_records_success(
    stored_connection: Callable[..., ZoomConnection], admin_a: SandboxUser
) -> None:
    connection = stored_connection(admin_a)
    ZoomConnection.objects.filter(pk=connection.pk).update(last_check_error="stale")

    account_tasks.connection_check(connection.pk)

    connection.refresh_from_db()
    assert connection.last_checked_at is not None
    assert connection.last_check_error == ""
    assert connection.status == ConnectionStatus.ACTIVE
