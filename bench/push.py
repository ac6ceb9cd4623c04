"""Push: from an agent's comment to the worker's step, in real time over loopback.

The sandbox runs as an HTTP server with the real clock and Zendesk's limits, and fires its
webhook triggers (signed) at the worker's own HTTP server; `setup` created the webhook and the
trigger, as on an account. The worker's wake-up thread handles each delivered ticket over HTTP,
as `run` does. For each ticket: an agent types `#tentativa`, and the clock runs until the
worker's write of the step reaches the sandbox. The poll's latency for the same step is the
simulated one of `bench.latency` (its horizon alone is 60 s, no need to wait for it in real
time).
"""

from __future__ import annotations

import io
import random
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench import summary
from bench.latency import Latency
from bench.sim import TICKET_PUT, add_holder
from bench.zendesk import table
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.adapters.zendesk.provision import setup
from worker.bootstrap import bootstrap
from worker.config import Config, Webhooks
from worker.metrics import Metrics, serve
from worker.runner import Runner
from worker.sandbox import FakeZendesk
from worker.sandbox.server import SandboxServer
from worker.sandbox.webhooks import Emitter
from worker.webhooks import Receiver, WakeQueue

TICKETS = 40
SEED = 20261203
GOAL_SECONDS = 5.0


def _wall() -> datetime:
    return datetime.now(UTC)


def measure(tickets: int = TICKETS, seed: int = SEED) -> list[float]:
    """Seconds from each comment to the worker's write of its step."""
    wrote: dict[str, list[float]] = {}
    lock = threading.Lock()

    def on_request(method: str, path: str) -> None:
        if method == "PUT" and path.startswith(TICKET_PUT):
            ticket_id = path.removeprefix(TICKET_PUT).removesuffix(".json")
            with lock:
                wrote.setdefault(ticket_id, []).append(time.perf_counter())

    emitter = Emitter()
    sandbox = SandboxServer(
        lambda url: FakeZendesk(clock=_wall, subdomain_url=url, emitter=emitter),
        on_request=on_request,
    ).start()
    receiver = Receiver(WakeQueue(1000), {}, _wall)
    http = serve(
        Metrics(), 0, "127.0.0.1", max_poll_age=timedelta(minutes=5), clock=_wall, receiver=receiver
    )
    public_url = f"http://127.0.0.1:{http.port}/webhooks/zendesk"
    config = Config(webhooks=Webhooks(public_url=public_url))
    credentials = Credentials(sandbox.url, "worker@empresa.com.br", "token", None)
    setup(ZendeskClient(credentials, config.zendesk), config, dry_run=False, out=io.StringIO())
    receiver.secrets["zendesk"] = sandbox.fake.store.webhooks[0]["_secret"]
    app = bootstrap(
        config,
        helpdesk=ZendeskHelpdesk(ZendeskClient(credentials, config.zendesk), config),
        clock=_wall,
        contract=None,
    )
    runner = Runner(app, config.schedule, wake=receiver.queue)
    waker = threading.Thread(target=runner.wake_loop, daemon=True)
    waker.start()
    rng = random.Random(seed)
    latencies: list[float] = []
    try:
        ids = [str(add_holder(sandbox.fake, n)) for n in range(tickets)]
        _wait(lambda: all(ticket_id in wrote for ticket_id in ids), 60)  # first steps
        for ticket_id in ids:
            time.sleep(rng.uniform(0, 0.2))
            with lock:
                before = len(wrote[ticket_id])
            commented = time.perf_counter()
            sandbox.fake.agent_comments(int(ticket_id), "#tentativa")
            if _wait(lambda: len(wrote[ticket_id]) > before, 30):  # noqa: B023 (waited here)
                with lock:
                    latencies.append(wrote[ticket_id][before] - commented)
    finally:
        runner.request_stop()
        waker.join(timeout=10)
        http.close()
        sandbox.close()
        sandbox.fake.close()
    return sorted(latencies)


def _wait(done: Callable[[], bool], seconds: float) -> bool:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if done():
            return True
        time.sleep(0.005)
    return False


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def run(tickets: int = TICKETS) -> float:
    values = measure(tickets)
    print()
    print("== Push: detection latency through the webhook ==")
    table(
        f"10. Seconds from an agent's #tentativa to the worker's write of the step, {tickets}"
        " tickets, real time over loopback (sandbox server -> signed webhook -> worker)",
        ["", "steps", "min", "median", "p95", "max", f"goal p95 <= {GOAL_SECONDS:g} s"],
        [
            [
                "measured",
                f"{len(values)}",
                f"{values[0]:.3f}",
                f"{statistics.median(values):.3f}",
                f"{p95(values):.3f}",
                f"{values[-1]:.3f}",
                "met" if p95(values) <= GOAL_SECONDS else "MISSED",
            ]
        ],
    )
    if len(values) < tickets:
        print(f"   WARNING: {tickets - len(values)} comments never got a step.")
    return p95(values)


WEBHOOK_GOAL_SECONDS = 5.0  # issue 17: a comment to the worker's step
EXPORT_HORIZON_SECONDS = 60  # the incremental export leaves out its last minute


def summarise(webhook_p95: float | None, polled: Latency | None) -> None:
    """This module's lines of the summary block, each with its goal: the webhook's from the
    issue; the poll's is what polling can do at best (the export's horizon plus one interval),
    so a slower poll path shows as NOT met."""
    if webhook_p95 is not None:
        summary.add(
            "detection latency p95 (webhook)",
            summary.goal(webhook_p95, WEBHOOK_GOAL_SECONDS, at_most=True, unit=" s"),
        )
    if polled is not None:
        ceiling = EXPORT_HORIZON_SECONDS + polled.poll_seconds
        summary.add(
            "detection latency p95 (poll)",
            summary.goal(p95(polled.seconds), ceiling, at_most=True, unit=" s", digits=1),
        )
