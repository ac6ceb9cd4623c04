"""`setup` wires push on Zendesk (the webhook, its signing secret printed once, the trigger that
calls it) and `check` says when the webhook is missing, inactive or calls another URL; all
against the stateful fake, which accepts the Webhooks API only as documented."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.zendesk import ZendeskWorld
from worker.adapters.zendesk import push
from worker.adapters.zendesk.check import check
from worker.adapters.zendesk.provision import setup
from worker.config import Config, ConfigError, Webhooks, parse_config
from worker.webhooks import ZENDESK_SECRET_ENV

URL = "https://worker.empresa.com.br/webhooks/zendesk"


def push_config(url: str = URL) -> Config:
    return Config(webhooks=Webhooks(public_url=url))


@pytest.fixture
def world() -> Iterator[ZendeskWorld]:
    world = ZendeskWorld(paced=True)  # set up without push, as an account before this feature
    yield world
    world.close()


def setup_push(world: ZendeskWorld, config: Config) -> str:
    out = io.StringIO()
    setup(world.client, config, dry_run=False, out=out)
    return out.getvalue()


def test_setup_creates_the_webhook_and_prints_its_signing_secret_once(
    world: ZendeskWorld,
) -> None:
    printed = setup_push(world, push_config())
    [hook] = world.fake.store.webhooks
    assert hook["endpoint"] == URL and hook["status"] == "active"
    assert hook["subscriptions"] == ["conditional_ticket_events"]
    assert f"{ZENDESK_SECRET_ENV}={hook['_secret']}" in printed
    again = setup_push(world, push_config())
    assert hook["_secret"] not in again
    assert len(world.fake.store.webhooks) == 1


def test_setup_creates_one_trigger_that_calls_the_webhook_with_ids_only(
    world: ZendeskWorld,
) -> None:
    setup_push(world, push_config())
    [hook] = world.fake.store.webhooks
    [trigger] = [t for t in world.fake.store.triggers if t["title"] == push.TRIGGER_TITLE]
    [action] = trigger["actions"]
    assert action["field"] == "notification_webhook"
    assert action["value"][0] == hook["id"]
    assert "ticket.id" in action["value"][1] and "requester" not in action["value"][1]
    tags = [c["value"] for c in trigger["conditions"]["any"] if c["field"] == "current_tags"]
    assert tags == ["cancelamento"]


def test_a_second_setup_writes_nothing_and_check_accepts_the_account(
    world: ZendeskWorld,
) -> None:
    config = push_config()
    setup_push(world, config)
    before = world.client.stats.writes
    plan = setup(world.client, config, dry_run=False, out=io.StringIO())
    assert plan.changes == [] and world.client.stats.writes == before
    assert check(world.client, config) == []


def test_a_dry_run_plans_the_webhook_and_the_trigger_and_writes_nothing(
    world: ZendeskWorld,
) -> None:
    before = world.client.stats.writes
    plan = setup(world.client, push_config(), dry_run=True, out=io.StringIO())
    assert [c.path for c in plan.changes] == [push.WEBHOOKS, push.TRIGGERS]
    assert world.client.stats.writes == before


def test_without_a_public_url_setup_and_check_leave_push_alone(world: ZendeskWorld) -> None:
    assert check(world.client, Config()) == []
    setup_push(world, Config())
    assert world.fake.store.webhooks == []


def test_check_reports_a_missing_webhook(world: ZendeskWorld) -> None:
    problems = check(world.client, push_config())
    assert [p.what for p in problems] == [f'missing in Zendesk: webhook "{push.WEBHOOK_NAME}"']


def test_check_reports_a_webhook_that_calls_another_url(world: ZendeskWorld) -> None:
    setup_push(world, push_config("https://antigo.empresa.com.br/webhooks/zendesk"))
    problems = check(world.client, push_config())
    assert len(problems) == 1 and "antigo.empresa.com.br" in problems[0].what


def test_check_reports_an_inactive_webhook(world: ZendeskWorld) -> None:
    setup_push(world, push_config())
    world.fake.store.webhooks[0]["status"] = "inactive"
    problems = check(world.client, push_config())
    assert [p.what for p in problems] == [f'the webhook "{push.WEBHOOK_NAME}" is inactive']


# --- the fake accepts the Webhooks API strictly as documented --------------------------------


def post(world: ZendeskWorld, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{world.fake.base_url}{path}", json=body, auth=("a/token", "b"))


def webhook(**changes: Any) -> dict[str, Any]:
    return {"webhook": {**push.webhook_body(push_config())["webhook"], **changes}}


def test_the_fake_refuses_a_webhook_without_its_mandatory_properties(
    world: ZendeskWorld,
) -> None:
    for missing in ("name", "endpoint", "http_method", "request_format", "status"):
        assert post(world, "/api/v2/webhooks", webhook(**{missing: None})).status_code == 422
    assert post(world, "/api/v2/webhooks", webhook(endpoint="not a url")).status_code == 422
    mixed = webhook(subscriptions=["conditional_ticket_events", "zen:event-type:user.created"])
    assert post(world, "/api/v2/webhooks", mixed).status_code == 422
    assert post(world, "/api/v2/webhooks.json", webhook()).status_code == 404
    assert world.fake.store.webhooks == []


def test_the_fake_refuses_a_trigger_calling_a_webhook_that_does_not_exist(
    world: ZendeskWorld,
) -> None:
    body = push.trigger_body(Config(), "01NOSUCHWEBHOOK")
    assert post(world, "/api/v2/triggers.json", body).status_code == 422


def test_public_url_must_be_https_and_end_with_the_webhook_path() -> None:
    for wrong in (
        "http://worker.empresa.com.br/webhooks/zendesk",
        "https://worker.empresa.com.br/",
        "https://user:pw@worker.empresa.com.br/webhooks/zendesk",
    ):
        with pytest.raises(ConfigError):
            parse_config({"webhooks": {"public_url": wrong}})
    assert parse_config({"webhooks": {"public_url": "http://127.0.0.1:8080/webhooks/zendesk"}})
