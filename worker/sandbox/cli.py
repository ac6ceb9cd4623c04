"""`python -m worker sandbox`: the local Zendesk-compatible server (docs/sandbox.md).

Serves the fake account on loopback until SIGINT/SIGTERM: seeded from a fixture, provisioned by
the worker's own `setup` if asked, with Zendesk's rate limits and any faults wanted.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import click

from worker.sandbox.clock import SandboxClock
from worker.sandbox.contracts import PATH as CONTRACTS_PATH
from worker.sandbox.contracts import ContractStandIn
from worker.sandbox.faults import Faults
from worker.sandbox.limits import RateLimits
from worker.sandbox.seed import Fixture, FixtureError, load_fixture, seed
from worker.sandbox.server import LOOPBACK, SandboxServer
from worker.sandbox.webhooks import Emitter
from worker.sandbox.zendesk import FakeZendesk

TOKEN = "sandbox"
CONTRACT_SECRET_ENV = "CONTRACT_API_SECRET"  # the worker's default secret_env
CONTRACT_SECRET = "sandbox-contratos"  # when that variable is unset


def _endpoint_limit(text: str) -> tuple[str, int]:
    family, _, limit = text.rpartition("=")
    method, _, path = family.strip().partition(" ")
    if not method.isalpha() or not path.startswith("/") or not limit.strip().isdigit():
        raise click.BadParameter(f"{text!r}: write it like 'GET /search=50'")
    return f"{method.upper()} {path.strip()}", int(limit)


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not ISO-8601", param_hint="--now") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{text!r} needs a UTC offset (-03:00)", param_hint="--now")
    return moment


@click.group("sandbox", invoke_without_command=True)
@click.option("--host", type=click.Choice(LOOPBACK), default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option(
    "--db",
    "database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file that keeps the account across restarts (default: in memory).",
)
@click.option(
    "--seed",
    "fixture_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Fixture of accounts, people and tickets (YAML/JSON); only into a new database.",
)
@click.option(
    "--setup/--no-setup",
    default=False,
    show_default=True,
    help="Provision statuses, fields, macros and views with the worker's `setup` first.",
)
@click.option(
    "--now",
    default=None,
    help="A simulated clock starting here (ISO-8601 with offset); the worker then needs the "
    "same --now. Default: real time, the worker's.",
)
@click.option("--requests-per-minute", type=int, default=700, show_default=True)
@click.option("--ticket-updates-per-minute", type=int, default=100, show_default=True)
@click.option(
    "--endpoint-limit",
    "endpoint_limits",
    multiple=True,
    help="Per endpoint family and minute, e.g. 'GET /search=50' (repeatable).",
)
@click.option("--no-rate-limits", is_flag=True, help="Never answer 429 for rate (faults still).")
@click.option("--error-rate", type=float, default=0.0, help="Share of requests answered 5xx.")
@click.option("--slow-rate", type=float, default=0.0, help="Share of requests answered late...")
@click.option("--slow-seconds", type=float, default=0.0, help="...by this many seconds.")
@click.option("--drop-rate", type=float, default=0.0, help="Share of writes applied, then dropped.")
@click.option("--storm-seconds", type=float, default=0.0, help="429 to everything at first.")
@click.option("--fault-seed", type=int, default=0, show_default=True)
@click.pass_context
def sandbox_command(
    ctx: click.Context,
    host: str,
    port: int,
    database: Path | None,
    fixture_path: Path | None,
    setup: bool,
    now: str | None,
    requests_per_minute: int,
    ticket_updates_per_minute: int,
    endpoint_limits: tuple[str, ...],
    no_rate_limits: bool,
    error_rate: float,
    slow_rate: float,
    slow_seconds: float,
    drop_rate: float,
    storm_seconds: float,
    fault_seed: int,
) -> None:
    """A local Zendesk-compatible server for rehearsals and tests (loopback only); `say` and
    `people` act on a running one."""
    if ctx.invoked_subcommand is not None:
        return
    fixture = Fixture()
    if fixture_path is not None:
        try:
            fixture = load_fixture(fixture_path)
        except FixtureError as problem:
            raise click.ClickException(str(problem)) from None
    limits = RateLimits.off()
    if not no_rate_limits:
        limits = RateLimits(
            account_per_minute=requests_per_minute,
            ticket_updates_per_minute=ticket_updates_per_minute,
            endpoints=tuple(_endpoint_limit(e) for e in endpoint_limits),
        )
    try:
        faults = Faults(
            error_rate=error_rate,
            slow_rate=slow_rate,
            slow_seconds=slow_seconds,
            drop_rate=drop_rate,
            storm_seconds=storm_seconds,
            seed=fault_seed,
        )
    except ValueError as problem:
        raise click.ClickException(f"faults: {problem}") from None
    if faults == Faults(seed=fault_seed) and fixture.faults is not None:
        faults = fixture.faults
    simulated = _moment(now)
    clock = SandboxClock(simulated)
    try:
        server = SandboxServer(
            lambda url: FakeZendesk(
                clock=clock,
                subdomain_url=url,
                limits=limits,
                database=database or ":memory:",
                emitter=Emitter(),  # fires the webhook triggers `setup` creates (push)
            ),
            host=host,
            port=port,
            clock=clock,
            contracts=ContractStandIn(os.environ.get(CONTRACT_SECRET_ENV) or CONTRACT_SECRET),
        ).start()
    except OSError as problem:
        raise click.ClickException(f"cannot listen on {host}:{port}: {problem}") from None
    fake = server.fake
    stop = _stop_on_a_signal()
    try:
        _prepare(ctx, server, fixture, fixture_path, setup=setup)
        server.admin.mark_baseline()
        fake.set_faults(faults)
        _announce(server, database, faults, simulated=simulated is not None)
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
        fake.close()
    click.echo("sandbox stopped")


def _prepare(
    ctx: click.Context,
    server: SandboxServer,
    fixture: Fixture,
    fixture_path: Path | None,
    *,
    setup: bool,
) -> None:
    fake = server.fake
    fresh = fake.store.get_meta("seeded") is None and not fake.store.tickets
    if setup:
        _run_setup(ctx, server.url)
    if fixture_path is None:
        return
    if not fresh:
        click.echo(f"the database already holds an account: {fixture_path} not seeded again")
        return
    try:
        seeded = seed(fake, fixture.dated_from(fake.now()))
    except FixtureError as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(
        f"seeded {len(seeded.organizations)} organizations, {len(seeded.users)} users, "
        f"{len(seeded.tickets)} tickets from {fixture_path}"
    )


def _run_setup(ctx: click.Context, url: str) -> None:
    """The worker's own provisioning, over HTTP against this server, with its configuration."""
    from worker.adapters.zendesk.http import Credentials, ZendeskClient
    from worker.adapters.zendesk.provision import setup
    from worker.config import DEFAULT_CONFIG_PATH, PROJECT_ROOT, ConfigError, load_config

    root = ctx.find_root().obj
    path = Path(root["config_path"]) if isinstance(root, dict) else DEFAULT_CONFIG_PATH
    if not path.is_absolute() and not path.exists() and (PROJECT_ROOT / path).exists():
        path = PROJECT_ROOT / path
    try:
        config = load_config(path)
    except ConfigError as problem:
        raise click.ClickException(str(problem)) from None
    client = ZendeskClient(Credentials(url, None, None, TOKEN), config.zendesk)
    out = io.StringIO()
    plan = setup(client, config, dry_run=False, out=out)
    if plan.problems:
        raise click.ClickException("setup failed:\n" + out.getvalue())
    click.echo(f"setup: {len(plan.changes)} changes (configuration {path})")


def _announce(
    server: SandboxServer, database: Path | None, faults: Faults, *, simulated: bool
) -> None:
    fake = server.fake
    where = str(database) if database is not None else "in memory"
    now = fake.now().isoformat(timespec="seconds")
    click.echo(f"Zendesk sandbox on {server.url} (database: {where})")
    if simulated:
        click.echo(
            f"Clock: SIMULATED, started at {now}. Give the worker the same clock "
            "(run --once --now ...) and move both together (POST /_sandbox/clock)."
        )
        run = f"python -m worker run --once --now {now}"
    else:
        click.echo(
            "Clock: real time, the same as the worker's (the fixture's dates are moved to now):"
            " run the worker with no --now."
        )
        run = "python -m worker run --once"
    click.echo(
        f"""Point the worker at it:
  export ZENDESK_URL={server.url} ZENDESK_OAUTH_TOKEN={TOKEN}
Five minutes, in that terminal (docs/sandbox.md):
  python -m worker setup                  # if the sandbox was not started with --setup
  python -m worker sandbox people         # who is in the account, and their tickets
  {run}             # the worker's first notes
  python -m worker sandbox say --ticket 1 --as cliente "Quero cancelar, sim."
  python -m worker sandbox say --ticket 1 --as agente "#cancelar motivo: não usa mais"
  sleep 61; {run}   # the worker reacts
  python -m worker explain 1              # where ticket 1 stands, and why
The poll reads Zendesk's incremental export, which leaves out the last minute: a change is
seen by the first run more than 60 s after it (push avoids the wait: README, "Push").
Admin: GET {server.url}/_sandbox/state, /_sandbox/outbox, /_sandbox/people;
       POST /_sandbox/say, /_sandbox/faults, /_sandbox/clock, /_sandbox/reset"""
    )
    secret = "$" + CONTRACT_SECRET_ENV if os.environ.get(CONTRACT_SECRET_ENV) else CONTRACT_SECRET
    click.echo(
        f"Contract system stand-in: POST {server.url}{CONTRACTS_PATH} (secret {secret});"
        " GET/POST /_sandbox/contracts"
    )
    if faults != Faults(seed=faults.seed):
        click.echo(f"Faults: {faults.model_dump()}")
    click.echo("Ctrl-C or SIGTERM stops it.")
    sys.stdout.flush()


_URL = click.option(
    "--url",
    envvar="ZENDESK_URL",
    default="http://127.0.0.1:8765",
    show_default=True,
    help="The running sandbox (env ZENDESK_URL).",
)


def _admin(method: str, url: str, name: str, body: dict[str, object] | None = None) -> Any:
    import requests

    if urlsplit(url).hostname not in LOOPBACK:
        raise click.ClickException(f"{url} is not a loopback sandbox")
    try:
        answer = requests.request(
            method, f"{url.rstrip('/')}/_sandbox/{name}", json=body, timeout=10
        )
    except requests.RequestException:
        raise click.ClickException(f"no sandbox answers at {url}; start it first") from None
    payload = answer.json()
    if answer.status_code != 200:
        raise click.ClickException(str(payload.get("description", payload)))
    return payload


@sandbox_command.command("say")
@click.option("--ticket", type=int, required=True, help="The ticket's number.")
@click.option(
    "--as",
    "who",
    type=click.Choice(["cliente", "agente"]),
    required=True,
    help="cliente: the requester answers by e-mail; agente: an internal note (commands).",
)
@click.argument("text")
@_URL
def say(ticket: int, who: str, text: str, url: str) -> None:
    """Write on a ticket of a running sandbox as its customer or as an agent."""
    answer = _admin("POST", url, "say", {"ticket": ticket, "as": who, "text": text})
    where = answer["ticket"]
    if where != ticket:
        click.echo(f"ticket {ticket} is closed: the e-mail opened ticket {where}")
    else:
        what = "the customer's e-mail" if who == "cliente" else "the agent's internal note"
        click.echo(f"ticket {ticket}: {what} added; the worker sees it after a minute")


@sandbox_command.command("people")
@_URL
def people(url: str) -> None:
    """Who is in a running sandbox's account: marks, companies and tickets."""
    for person in _admin("GET", url, "people")["people"]:
        marks = ", ".join(person["marks"]) or "-"
        companies = ", ".join(person["organizations"]) or "-"
        tickets = ", ".join(f"#{t}" for t in person["tickets"]) or "-"
        click.echo(
            f"{person['name']} <{person['email']}> · {person['role']} · {marks} · "
            f"{companies} · tickets {tickets}"
        )


def _stop_on_a_signal() -> threading.Event:
    """Installed before the URL is printed, so a SIGTERM right after it still stops cleanly."""
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, stopping)
    return stop
