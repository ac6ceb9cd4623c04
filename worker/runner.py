"""`run` for months: APScheduler runs the poll and the sweep, one at a time, until SIGTERM.

Both jobs share one lock, so a poll and a sweep never handle the same ticket at once; so do the
tickets webhooks wake (worker/webhooks.py), handled one by one on their own thread between
them. While deliveries arrive the poll may slow down (`webhooks.poll_seconds_while_healthy`):
it is then the reconciler for lost or refused deliveries, not the way changes are noticed. A stop
(SIGTERM/SIGINT) lets the step in flight finish, starts nothing new, and returns within seconds:
platforms such as Heroku kill 30 s after SIGTERM. When the helpdesk is down, runs are skipped
with a growing pause (1, 2, 4 ... 15 minutes), so an outage is not hammered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from worker.bootstrap import App
from worker.config import Schedule, Webhooks
from worker.ports import CredentialsRejected, HelpdeskError
from worker.service import PollReport
from worker.state_dir import StateFileError
from worker.webhooks import WakeQueue

log = structlog.get_logger("worker")

MAX_BACKOFF = timedelta(minutes=15)


class Runner:
    def __init__(
        self,
        app: App,
        schedule: Schedule,
        *,
        on_report: Callable[[str, PollReport | None], None] = lambda job, report: None,
        monotonic: Callable[[], float] = time.monotonic,
        wake: WakeQueue | None = None,
        webhooks: Webhooks | None = None,
        webhooks_healthy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.app = app
        self.worker = app.worker
        self.schedule = schedule
        self.wake = wake
        self.webhooks = webhooks or Webhooks()
        self.webhooks_healthy = webhooks_healthy
        self.last_poll: float | None = None
        self.on_report = on_report
        self.monotonic = monotonic
        self.stop_event = app.stop  # the worker checks it between steps
        self.busy = threading.Lock()
        self.failures = 0
        self.resume_at = 0.0
        self.fatal: str | None = None  # why the runner stopped by itself (exit non-zero)

    def request_stop(self) -> None:
        if not self.stop_event.is_set():
            log.info("stop requested: finishing the step in flight")
        self.stop_event.set()

    def run_forever(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=2)}
        )
        now = datetime.now(UTC)
        common = {
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": self.schedule.grace_seconds,
        }
        scheduler.add_job(
            self.poll_job,
            "interval",
            seconds=self.schedule.poll_seconds,
            next_run_time=now,
            id="poll",
            **common,
        )
        scheduler.add_job(
            self.sweep_job,
            "interval",
            seconds=self.schedule.sweep_seconds,
            next_run_time=now + timedelta(seconds=5),
            id="sweep",
            **common,
        )
        scheduler.start()
        waker = None
        if self.wake is not None:
            waker = threading.Thread(target=self.wake_loop, name="webhook-wake", daemon=True)
            waker.start()
        log.info(
            "worker running",
            poll_seconds=self.schedule.poll_seconds,
            sweep_seconds=self.schedule.sweep_seconds,
            dry_run=self.worker.dry_run,
        )
        try:
            self.stop_event.wait()
        finally:
            scheduler.shutdown(wait=True)  # the job in flight returns after its current step
            if waker is not None:
                waker.join(timeout=30)
            log.info("worker stopped")

    def poll_job(self) -> None:
        """Skipped while webhooks are healthy and the last poll is younger than the slower
        pace: the poll then only reconciles what deliveries missed."""
        now = self.monotonic()
        slower = self.webhooks.poll_seconds_while_healthy
        if self.last_poll is not None and now - self.last_poll < slower and self.webhooks_healthy():
            return
        self.last_poll = now
        self._job("poll", self.worker.poll)

    def wake_loop(self) -> None:
        """Handle woken tickets until a stop; the queue is polled so a stop is seen within a
        second."""
        assert self.wake is not None
        while not self.stop_event.is_set():
            ticket_id = self.wake.get(timeout=0.5)
            if ticket_id is not None:
                self.woken(ticket_id)

    def woken(self, ticket_id: str) -> None:
        """One ticket a webhook named, read afresh, under the poll's lock."""
        self._job("webhook", lambda now: self.worker.wake(ticket_id, now))

    def sweep_job(self) -> None:
        self._job("sweep", self.worker.sweep)

    def _job(self, name: str, work: Callable[[datetime], PollReport]) -> None:
        """`work` at one moment, the application's clock read once the lock is held."""
        if self.stop_event.is_set() or self.monotonic() < self.resume_at:
            return
        with self.busy:
            if self.stop_event.is_set():
                return
            try:
                report = work(self.app.clock())
            except (CredentialsRejected, StateFileError) as problem:
                # Retrying cannot help: an operator must act.
                rejected = isinstance(problem, CredentialsRejected)
                why = "credentials rejected" if rejected else "state directory unusable"
                self.fatal = (
                    f"the helpdesk rejected the credentials: {problem}"
                    if rejected
                    else str(problem)
                )
                log.error("job failed; stopping", job=name, why=why, error=str(problem))
                self.on_report(name, None)
                self.stop_event.set()
                return
            except HelpdeskError as problem:
                self.failures += 1
                pause = min(MAX_BACKOFF.total_seconds(), 60.0 * 2 ** (self.failures - 1))
                self.resume_at = self.monotonic() + pause
                log.warning(
                    "job failed: helpdesk unavailable",
                    job=name,
                    error=str(problem),
                    retry_in_seconds=int(pause),
                )
                self.on_report(name, None)
                return
            except Exception:
                log.exception("job failed unexpectedly; the next run tries again", job=name)
                self.on_report(name, None)
                return
            self.failures = 0
            self.resume_at = 0.0
            self.on_report(name, report)
            log.info(
                "job finished",
                job=name,
                tickets=report.tickets,
                steps=report.steps,
                emails=report.emails,
                conflicts=report.conflicts,
                failed=len(report.failed),
                paused=report.paused,
            )
