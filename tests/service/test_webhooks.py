"""Webhooks wake a ticket, the poll reconciles: a delivery is believed only when signed (Zendesk)
or carrying the token (Freshdesk), inside the replay window, once; the queue is bounded and a
burst for one ticket is one handle; a woken ticket is handled under the poll's lock; and when
deliveries stop, the poll still finds every change, nothing handled twice."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.clock import Clock
from tests.fakes.world import World, person
from worker.config import Schedule, Webhooks
from worker.metrics import Metrics, Server, serve
from worker.runner import Runner
from worker.service import PollReport
from worker.webhooks import (
    REPLAY_WINDOW,
    SIGNATURE_HEADER,
    TOKEN_HEADER,
    Receiver,
    WakeQueue,
    setup_problems,
    zendesk_signature,
)

SECRET = "dGhlLXNpZ25pbmctc2VjcmV0LW9mLXRoZS13ZWJob29r"
TOKEN = "token-do-freshdesk-0123456789"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MARIA = person("Maria Souza", "maria@exemplo.com.br")


def body(ticket_id: str = "42", updated_at: str = "2026-12-07T11:59:58Z") -> bytes:
    return json.dumps({"ticket_id": ticket_id, "updated_at": updated_at}).encode()


def signed(
    payload: bytes, *, at: datetime = NOW, invocation: str = "8350205582", secret: str = SECRET
) -> dict[str, str]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "X-Zendesk-Webhook-Signature": zendesk_signature(secret, stamp, payload),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Invocation-Id": invocation,
    }


def waiting(queue: WakeQueue) -> list[str]:
    found = []
    while (ticket_id := queue.get(timeout=0)) is not None:
        found.append(ticket_id)
    return found


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def receiver(clock: Clock) -> Receiver:
    return Receiver(WakeQueue(100), {"zendesk": SECRET, "freshdesk": TOKEN}, clock)


# --- Zendesk: the signature ------------------------------------------------------------------


def test_the_signature_is_base64_hmac_sha256_of_timestamp_then_body() -> None:
    # Computed independently: printf '%s' '2021-03-25T05:09:27Z{"a":1}' |
    #   openssl dgst -sha256 -hmac secret -binary | base64
    assert (
        zendesk_signature("secret", "2021-03-25T05:09:27Z", b'{"a":1}')
        == "cfusl9J3LiQ8f1lBL4XyKz9XF36PrBmDiX2DDJ7FACs="
    )


def test_a_signed_delivery_wakes_its_ticket(receiver: Receiver) -> None:
    answer = receiver.receive("zendesk", signed(body("42")), body("42"))
    assert (answer.status, answer.outcome) == (202, "queued")
    assert waiting(receiver.queue) == ["42"]


def test_a_delivery_signed_with_another_secret_is_refused(receiver: Receiver) -> None:
    answer = receiver.receive("zendesk", signed(body(), secret="another-secret"), body())
    assert (answer.status, answer.outcome) == (401, "bad-signature")
    assert waiting(receiver.queue) == []


def test_a_body_changed_after_signing_is_refused(receiver: Receiver) -> None:
    answer = receiver.receive("zendesk", signed(body("42")), body("43"))
    assert answer.status == 401
    assert waiting(receiver.queue) == []


def test_a_delivery_without_signature_headers_is_refused(receiver: Receiver) -> None:
    assert receiver.receive("zendesk", {}, body()).status == 401
    assert waiting(receiver.queue) == []


# --- Zendesk: the replay window --------------------------------------------------------------


def test_a_signed_delivery_older_than_five_minutes_is_refused_as_a_replay(
    receiver: Receiver,
) -> None:
    late = NOW - REPLAY_WINDOW - timedelta(seconds=1)
    answer = receiver.receive("zendesk", signed(body(), at=late), body())
    assert (answer.status, answer.outcome) == (401, "outside-window")
    assert waiting(receiver.queue) == []


def test_a_signed_delivery_from_more_than_five_minutes_ahead_is_refused(
    receiver: Receiver,
) -> None:
    ahead = NOW + REPLAY_WINDOW + timedelta(seconds=1)
    assert receiver.receive("zendesk", signed(body(), at=ahead), body()).status == 401


def test_a_signed_delivery_four_minutes_old_is_taken(receiver: Receiver) -> None:
    answer = receiver.receive("zendesk", signed(body(), at=NOW - timedelta(minutes=4)), body())
    assert answer.status == 202


# --- Zendesk: dedupe -------------------------------------------------------------------------


def test_a_redelivered_invocation_is_queued_once(receiver: Receiver, clock: Clock) -> None:
    receiver.receive("zendesk", signed(body(), invocation="1"), body())
    waiting(receiver.queue)  # handled meanwhile
    clock.now += timedelta(seconds=30)
    again = receiver.receive("zendesk", signed(body(), at=clock.now, invocation="1"), body())
    assert (again.status, again.outcome) == (200, "duplicate")
    assert waiting(receiver.queue) == []


def test_the_same_change_sent_by_two_invocations_is_queued_once(receiver: Receiver) -> None:
    receiver.receive("zendesk", signed(body(), invocation="1"), body())
    waiting(receiver.queue)
    again = receiver.receive("zendesk", signed(body(), invocation="2"), body())
    assert again.outcome == "duplicate"
    assert waiting(receiver.queue) == []


def test_a_newer_change_of_a_handled_ticket_wakes_it_again(receiver: Receiver) -> None:
    receiver.receive("zendesk", signed(body("42", "t1"), invocation="1"), body("42", "t1"))
    waiting(receiver.queue)
    answer = receiver.receive("zendesk", signed(body("42", "t2"), invocation="2"), body("42", "t2"))
    assert answer.outcome == "queued"
    assert waiting(receiver.queue) == ["42"]


def test_a_burst_for_one_ticket_is_one_handle(receiver: Receiver) -> None:
    outcomes = [
        receiver.receive(
            "zendesk", signed(body("42", f"t{n}"), invocation=str(n)), body("42", f"t{n}")
        ).outcome
        for n in range(5)
    ]
    assert outcomes == ["queued"] + ["coalesced"] * 4
    assert waiting(receiver.queue) == ["42"]


def test_a_refused_delivery_does_not_poison_the_dedupe(receiver: Receiver) -> None:
    forged = signed(body(), invocation="1", secret="wrong-secret")
    assert receiver.receive("zendesk", forged, body()).status == 401
    assert receiver.receive("zendesk", signed(body(), invocation="1"), body()).status == 202


def test_a_body_without_a_ticket_id_is_refused_after_the_signature(receiver: Receiver) -> None:
    payload = b'{"ticket_id": "42; DROP"}'
    assert receiver.receive("zendesk", signed(payload), payload).status == 400
    assert waiting(receiver.queue) == []


# --- Freshdesk: the token --------------------------------------------------------------------


def test_a_freshdesk_delivery_with_the_token_wakes_its_ticket(receiver: Receiver) -> None:
    answer = receiver.receive("freshdesk", {"X-Cancelamento-Token": TOKEN}, body("7"))
    assert answer.status == 202
    assert waiting(receiver.queue) == ["7"]


@pytest.mark.parametrize("given", ["", "token-do-freshdesk", TOKEN + "x", TOKEN.upper()])
def test_a_freshdesk_delivery_without_the_exact_token_is_refused(
    receiver: Receiver, given: str
) -> None:
    answer = receiver.receive("freshdesk", {TOKEN_HEADER: given}, body("7"))
    assert (answer.status, answer.outcome) == (401, "bad-token")
    assert waiting(receiver.queue) == []


def test_a_helpdesk_without_a_secret_has_no_endpoint(clock: Clock) -> None:
    receiver = Receiver(WakeQueue(10), {"zendesk": SECRET, "freshdesk": ""}, clock)
    assert receiver.receive("freshdesk", {TOKEN_HEADER: ""}, body()).status == 404


# --- the queue -------------------------------------------------------------------------------


def test_the_queue_holds_at_most_its_size_and_drops_the_rest_for_the_poll() -> None:
    queue = WakeQueue(2)
    assert [queue.put(t) for t in ("1", "2", "3")] == ["queued", "queued", "full"]
    assert queue.get(timeout=0) == "1"
    assert queue.put("3") == "queued"
    assert waiting(queue) == ["2", "3"]


def test_a_full_queue_still_answers_at_once(clock: Clock) -> None:
    receiver = Receiver(WakeQueue(1), {"zendesk": SECRET}, clock)
    receiver.receive("zendesk", signed(body("1"), invocation="1"), body("1"))
    answer = receiver.receive("zendesk", signed(body("2"), invocation="2"), body("2"))
    assert (answer.status, answer.outcome) == (202, "full")


# --- over HTTP -------------------------------------------------------------------------------


@pytest.fixture
def server(receiver: Receiver, clock: Clock) -> Iterator[tuple[Server, Metrics]]:
    metrics = Metrics()
    receiver.on_outcome = metrics.webhook
    running = serve(
        metrics,
        0,
        "127.0.0.1",
        max_poll_age=timedelta(minutes=5),
        clock=clock,
        receiver=receiver,
    )
    yield running, metrics
    running.close()


def post(server: Server, path: str, data: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", data=data, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_metrics_port_takes_zendesk_deliveries(
    server: tuple[Server, Metrics], receiver: Receiver
) -> None:
    running, metrics = server
    assert post(running, "/webhooks/zendesk", body("42"), signed(body("42"))) == 202
    assert waiting(receiver.queue) == ["42"]
    labels = {"helpdesk": "zendesk", "outcome": "queued"}
    assert metrics.registry.get_sample_value("cancelamento_webhooks_total", labels) == 1


def test_the_metrics_port_refuses_a_forged_delivery_and_an_oversized_body(
    server: tuple[Server, Metrics], receiver: Receiver
) -> None:
    running, _ = server
    assert post(running, "/webhooks/zendesk", body(), {SIGNATURE_HEADER: "x"}) == 401
    huge = b"{" + b" " * 70_000 + b"}"
    assert post(running, "/webhooks/zendesk", huge, signed(huge)) == 413
    assert post(running, "/webhooks/other", body(), {}) == 404
    assert waiting(receiver.queue) == []


def test_a_delivery_is_answered_before_its_ticket_is_handled(
    server: tuple[Server, Metrics], receiver: Receiver
) -> None:
    """Nothing handles the queue here: the answer cannot have waited for a handle."""
    running, _ = server
    assert post(running, "/webhooks/freshdesk", body("9"), {TOKEN_HEADER: TOKEN}) == 202
    assert len(receiver.queue) == 1


# --- the runner: one at a time, and the poll as reconciler ------------------------------------


def test_a_woken_ticket_waits_for_the_poll_in_flight() -> None:
    world = World()
    handled: list[str] = []

    def wake(ticket_id: str, now: datetime) -> PollReport:
        handled.append(ticket_id)
        return PollReport(tickets=1)

    world.worker.wake = wake  # type: ignore[method-assign]
    runner = Runner(world.app, Schedule(), wake=WakeQueue(10))
    with runner.busy:  # a poll is handling tickets
        thread = threading.Thread(target=runner.woken, args=("42",))
        thread.start()
        thread.join(timeout=0.3)
        assert handled == [], "never two handles at once"
    thread.join(timeout=5)
    assert handled == ["42"]


def test_the_poll_slows_down_while_webhooks_are_healthy_and_not_otherwise() -> None:
    world = World()
    polls: list[float] = []
    elapsed = [0.0]
    healthy = [True]

    def poll(now: datetime) -> PollReport:
        polls.append(elapsed[0])
        return PollReport()

    world.worker.poll = poll  # type: ignore[method-assign]
    runner = Runner(
        world.app,
        Schedule(poll_seconds=60),
        monotonic=lambda: elapsed[0],
        webhooks=Webhooks(poll_seconds_while_healthy=300),
        webhooks_healthy=lambda: healthy[0],
    )
    for _ in range(10):  # the scheduler's pace: every 60 s for 10 minutes
        runner.poll_job()
        elapsed[0] += 60
    assert polls == [0, 300]
    healthy[0] = False
    for _ in range(3):
        runner.poll_job()
        elapsed[0] += 60
    assert polls == [0, 300, 600, 660, 720]


def test_webhooks_stay_healthy_only_while_authentic_deliveries_arrive(
    receiver: Receiver, clock: Clock
) -> None:
    hour = timedelta(hours=1)
    assert not receiver.healthy(hour)
    receiver.receive("zendesk", signed(body(), invocation="x", secret="forged"), body())
    assert not receiver.healthy(hour), "a forged delivery proves nothing"
    receiver.receive("zendesk", signed(body()), body())
    assert receiver.healthy(hour)
    clock.now += hour + timedelta(seconds=1)
    assert not receiver.healthy(hour)


def test_during_a_webhook_outage_the_poll_catches_up_nothing_lost_or_doubled() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    queue = WakeQueue(10)
    runner = Runner(world.app, Schedule(), wake=queue)
    queue.put(ticket)  # the delivery of the ticket's creation
    runner.woken(str(queue.get(timeout=0)))
    first = list(world.notes(ticket))
    assert len(first) == 1, "the webhook's handle took the first step"
    # Deliveries stop: the agent's call goes unannounced; the poll finds it.
    world.agent_says(ticket, "#tentativa")
    world.later(minutes=2)
    world.poll()
    assert len(world.notes(ticket)) == 2
    assert "tentativa 1 de 3" in world.last_note(ticket)
    # Deliveries come back late, for changes already handled: nothing is done twice.
    for _ in range(2):
        world.worker.wake(ticket, world.clock())
    world.poll()
    assert len(world.notes(ticket)) == 2
    assert world.history(ticket).state.attempts == 1


# --- check ----------------------------------------------------------------------------------


def test_check_says_when_the_helpdesk_would_call_a_url_the_worker_refuses() -> None:
    url = "https://worker.empresa.com.br/webhooks/zendesk"
    assert setup_problems("zendesk", "", {}) == []
    assert setup_problems("zendesk", url, {"ZENDESK_WEBHOOK_SECRET": SECRET}) == []
    [missing] = setup_problems("zendesk", url, {})
    assert "ZENDESK_WEBHOOK_SECRET" in missing
    [other] = setup_problems("freshdesk", url, {"FRESHDESK_WEBHOOK_TOKEN": TOKEN})
    assert "/webhooks/freshdesk" in other


def test_a_woken_ticket_never_counts_as_a_poll_for_health() -> None:
    metrics = Metrics()
    metrics.run_finished("webhook", PollReport(tickets=1), NOW)
    assert metrics.registry.get_sample_value("cancelamento_polls_total", {"outcome": "ok"}) == 0
    assert metrics.health(NOW, NOW - timedelta(hours=1), timedelta(minutes=5)).status == "stale"
