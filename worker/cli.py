"""`python -m worker …`, also the `cancelamento-worker` script (README, "Command line")."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import click
import structlog

from worker import logs
from worker.bootstrap import App, bootstrap, connect, wall_clock
from worker.config import DEFAULT_CONFIG_PATH, PROJECT_ROOT, Config, ConfigError, load_config
from worker.contract import ContractSecretMissing, contract_system
from worker.metrics import Metrics, serve
from worker.ports import Admin, HelpdeskError
from worker.render import Renderer, check_templates
from worker.runner import Runner
from worker.safety import PAUSE_FILE, Guard
from worker.sandbox.cli import sandbox_command
from worker.service import PollReport
from worker.state_dir import AlreadyRunning, InstanceLock, StateFileError
from worker.webhooks import Receiver, WakeQueue, secret_env, setup_problems

log = structlog.get_logger("worker")


def _load(config_path: Path) -> tuple[Config, Path]:
    path = config_path
    if not path.is_absolute() and not path.exists() and (PROJECT_ROOT / path).exists():
        path = PROJECT_ROOT / path
    try:
        config = load_config(path)
    except ConfigError as problem:
        raise click.ClickException(str(problem)) from None
    if (contract := config.contract_cancellation.http) is not None:  # its secret, by its name
        logs.remember_secrets(os.environ, names=(contract.secret_env,))
    return config, path


class _Shown(click.Group):
    """Every error a subcommand ends with is printed as the logs would show it: a helpdesk's
    error body may echo personal data or the credentials it was sent."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError:
            raise  # about the command line itself, with its usage
        except click.ClickException as problem:
            raise click.ClickException(logs.shown(problem.format_message())) from None
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception:
            # A bug's traceback quotes the data it choked on: it goes to the log, masked.
            log.exception("the command failed unexpectedly")
            raise click.ClickException(
                "unexpected error; the log line above has the details (masked)"
            ) from None


@click.group(cls=_Shown, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="WORKER_CONFIG",
    default=str(DEFAULT_CONFIG_PATH),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Configuration file (env WORKER_CONFIG).",
)
@click.option(
    "--state-dir",
    envvar="WORKER_STATE_DIR",
    default="./state",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Poll cursor, the worker's own writes, lock, PAUSE, Freshdesk's journal "
    "(env WORKER_STATE_DIR).",
)
@click.option(
    "--log-format",
    envvar="WORKER_LOG_FORMAT",
    type=click.Choice(["json", "console"]),
    default=None,
    help="Log lines as JSON (default when not a terminal) or readable (env WORKER_LOG_FORMAT).",
)
@click.option(
    "--metrics-port",
    envvar="WORKER_METRICS_PORT",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve /healthz and /metrics on this port during `run` (env WORKER_METRICS_PORT).",
)
@click.pass_context
def main(
    ctx: click.Context,
    config_path: Path,
    state_dir: Path,
    log_format: str | None,
    metrics_port: int | None,
) -> None:
    """cancelamento-worker: runs the cancellation procedure beside your helpdesk."""
    fmt = log_format or ("console" if sys.stderr.isatty() else "json")
    logs.remember_secrets(os.environ)
    logs.configure("console" if fmt == "console" else "json")
    ctx.obj = {"config_path": config_path, "state_dir": state_dir, "metrics_port": metrics_port}


def _out_option(default: str, what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return click.option(
        "--out",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Where {what} (index.html, outcomes.csv) is written.",
    )


@main.command()
@_out_option("./demo-report", "the demo week's report")
@click.pass_context
def demo(ctx: click.Context, out: Path) -> None:
    """A simulated week on the sandbox (a fake Zendesk over loopback HTTP, the real Zendesk
    adapter): no account needed. Ends by writing the week's report."""
    from worker.demo import print_report, run_demo
    from worker.demo.script import END, START
    from worker.report import Period, rows_of, summary_lines, write_report

    config, path = _load(ctx.obj["config_path"])
    logs.configure("console", level=logging.WARNING)
    result = run_demo(config, Renderer(config.resolved_templates_dir(path)))
    print_report(result, sys.stdout)
    rows = rows_of(result.tickets.values(), logs.shown)
    period = Period(START.date(), END.date())
    page = write_report(rows, period, END, Path(out))
    click.echo("=" * 100)
    for line in summary_lines(rows, period):
        click.echo(line)
    click.echo(f"Relatório da semana (abra no navegador): {page.resolve()}")


@main.command()
@click.option("--once", is_flag=True, help="One poll and one deadline sweep, then exit.")
@click.option("--dry-run", is_flag=True, help="Decide and print; write nothing.")
@click.option(
    "--now",
    "now",
    default=None,
    help="Clock for rehearsals, ISO-8601 with offset (2026-12-07T09:10:00-03:00); writes only "
    "against a loopback helpdesk URL, elsewhere only with --dry-run.",
)
@click.pass_context
def run(ctx: click.Context, once: bool, dry_run: bool, now: str | None) -> None:
    """Poll the configured helpdesk and run the procedure (forever, or --once)."""
    config, path = _load(ctx.obj["config_path"])
    state_dir: Path = ctx.obj["state_dir"]
    admin = _connect(config, state_dir)
    try:
        contract = contract_system(config, os.environ)
    except ContractSecretMissing as problem:
        raise click.ClickException(str(problem)) from None
    clock = _clock(now, loopback=admin.is_loopback, dry_run=dry_run)
    lock = InstanceLock(state_dir)
    try:
        lock.acquire()
    except (AlreadyRunning, StateFileError) as problem:
        raise click.ClickException(str(problem)) from None
    try:
        app = bootstrap(
            config,
            admin=admin,
            clock=clock,
            config_path=path,
            contract=contract,
            state_dir=state_dir,
            lock_held=lock.still_held,
            dry_run=dry_run,
        )
        if once:
            _run_once(app, admin, config, dry_run)
        else:
            _run_forever(app, admin, config, ctx.obj["metrics_port"])
    except StateFileError as problem:
        raise click.ClickException(str(problem)) from None
    finally:
        lock.release()


def _run_once(app: App, admin: Admin, config: Config, dry_run: bool) -> None:
    try:
        report = app.worker.run_once(app.clock())
    except HelpdeskError as problem:
        raise click.ClickException(f"{config.helpdesk}: {problem}") from None
    log.info(
        "run finished",
        tickets=report.tickets,
        steps=report.steps,
        emails=report.emails,
        conflicts=report.conflicts,
        failed=len(report.failed),
        paused=report.paused,
        dry_run=dry_run,
        **admin.cost(),
    )


def _run_forever(app: App, admin: Admin, config: Config, port: int | None) -> None:
    # Health is about real time (wall_clock), not a --now rehearsal clock.
    metrics = app.metrics
    for problem in setup_problems(config.helpdesk, config.webhooks.public_url, os.environ):
        log.warning("webhook setup problem", problem=problem)
    receiver = _receiver(config, metrics, wall_clock)
    if receiver is not None and port is None:
        log.warning("webhook secret set but no --metrics-port: webhooks are not received")
        receiver = None
    server = None
    if port is not None:
        try:
            server = serve(
                metrics,
                port,
                clock=wall_clock,
                max_poll_age=timedelta(seconds=max(300, 3 * config.schedule.poll_seconds)),
                receiver=receiver,
            )
        except OSError as problem:
            raise click.ClickException(f"metrics port {port}: {problem.strerror}") from None
        log.info("metrics serving", port=server.port)

    def reported(job: str, report: PollReport | None) -> None:
        metrics.run_finished(job, report, wall_clock(), admin.cost())
        if job == "sweep" and (waiting := admin.waiting()) is not None:
            metrics.waiting(*waiting)

    healthy_within = timedelta(seconds=config.webhooks.healthy_seconds)
    runner = Runner(
        app,
        config.schedule,
        on_report=reported,
        wake=None if receiver is None else receiver.queue,
        webhooks=config.webhooks,
        webhooks_healthy=lambda: receiver is not None and receiver.healthy(healthy_within),
    )
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: runner.request_stop())
    try:
        runner.run_forever()
    finally:
        if server is not None:
            server.close()
    if runner.fatal is not None:
        raise click.ClickException(runner.fatal)


def _receiver(config: Config, metrics: Metrics, clock: Callable[[], datetime]) -> Receiver | None:
    """Webhooks are received when the configured helpdesk's secret is in the environment."""
    secret = os.environ.get(secret_env(config.helpdesk), "").strip()
    if not secret:
        return None
    return Receiver(
        WakeQueue(config.webhooks.queue_size),
        {config.helpdesk: secret},
        clock,
        on_outcome=metrics.webhook,
    )


def _connect(config: Config, state_dir: Path) -> Admin:
    try:
        return connect(config, state_dir=state_dir)
    except HelpdeskError as problem:
        raise click.ClickException(f"{config.helpdesk}: {problem}") from None


def _clock(now: str | None, *, loopback: bool, dry_run: bool) -> Callable[[], datetime]:
    """The real clock, or a fixed one for rehearsals. A wrong clock against a live account would
    fire every deadline, so a fixed one writes only to a loopback helpdesk (CONTRACT)."""
    if now is None:
        return wall_clock
    try:
        fixed = datetime.fromisoformat(now)
    except ValueError:
        raise click.BadParameter(f"{now!r} is not ISO-8601", param_hint="--now") from None
    if fixed.tzinfo is None:
        raise click.BadParameter(
            f"{now!r} has no UTC offset; write it like 2026-12-07T09:10:00-03:00",
            param_hint="--now",
        )
    if not (loopback or dry_run):
        raise click.ClickException(
            "--now with writes is allowed only against a loopback helpdesk URL "
            "(ZENDESK_URL=http://127.0.0.1:...); add --dry-run to rehearse against this account"
        )
    log.warning(
        "CLOCK OVERRIDDEN: the worker believes it is the time in now", now=fixed.isoformat()
    )
    return lambda: fixed


@main.command()
@click.argument("ticket_id")
@click.option(
    "--now", "now", default=None, help="Explain as of this moment (ISO-8601 with offset)."
)
@click.pass_context
def explain(ctx: click.Context, ticket_id: str, now: str | None) -> None:
    """Where a ticket stands and what the worker would do next, and why (pt-BR). Reads only."""
    from worker.explain import explain as explain_ticket

    config, path = _load(ctx.obj["config_path"])
    admin = _connect(config, ctx.obj["state_dir"])
    clock = _clock(now, loopback=True, dry_run=True)  # it never writes, any clock is safe
    # A dry run never calls the contract system, so its secret is not needed here.
    app = bootstrap(config, admin=admin, clock=clock, config_path=path, contract=None, dry_run=True)
    try:
        click.echo(explain_ticket(app.worker, ticket_id, app.clock()))
    except HelpdeskError as problem:
        raise click.ClickException(f"{config.helpdesk}: {problem}") from None


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.pass_context
def setup(ctx: click.Context, dry_run: bool) -> None:
    """Create in the helpdesk what the worker needs: statuses, fields, macros, views, and the
    webhook with its trigger when webhooks.public_url is set."""
    config, _ = _load(ctx.obj["config_path"])
    admin = _connect(config, ctx.obj["state_dir"])
    try:
        admin.setup(dry_run=dry_run, out=sys.stdout)
    except HelpdeskError as problem:
        raise click.ClickException(f"{config.helpdesk}: {problem}") from None


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check configuration, credentials, names, permissions, the notification trigger and
    the webhook."""
    config, path = _load(ctx.obj["config_path"])
    state_dir: Path = ctx.obj["state_dir"]
    renderer = Renderer(config.resolved_templates_dir(path))
    problems = [f"templates: {p}" for p in check_templates(renderer)]
    problems += setup_problems(config.helpdesk, config.webhooks.public_url, os.environ)
    checked: tuple[str, ...] = ()
    try:
        contract_system(config, os.environ)
    except ContractSecretMissing as missing:
        problems.append(str(missing))
    try:
        admin = connect(config, state_dir=state_dir)
        problems.extend(admin.check())
        checked = admin.checked
    except HelpdeskError as failure:
        problems.append(f"{config.helpdesk}: {failure}")
    if problems:
        for problem in problems:
            click.echo(f"PROBLEM  {logs.shown(problem)}", err=True)
        raise click.ClickException(f"{len(problems)} problem(s); fix each as it says")
    paused = Guard(config.safety, state_dir / PAUSE_FILE, wall_clock).paused_reason()
    if paused is not None:
        click.echo(f"PAUSED: the worker writes nothing while {logs.shown(paused)}")
    click.echo(f"OK: {config.helpdesk} is ready for the worker; checked:")
    for item in (
        f"configuration {path}",
        f"templates in {config.resolved_templates_dir(path)} render with sample data",
        *checked,
        *_optional_checked(config),
        f"state directory {state_dir}: "
        + ("PAUSED" if paused else f"not paused (no {PAUSE_FILE} file, safety.paused false)"),
    ):
        click.echo(f"  - {item}")


def _optional_checked(config: Config) -> list[str]:
    """What an OK covered of the optional parts, when configured: an operator who set up push or
    the contract endpoint reads that they were looked at, and how far."""
    items = []
    if (url := config.webhooks.public_url) != "":
        helpdesk = config.helpdesk
        items.append(
            f"push: {secret_env(helpdesk)} is set and webhooks.public_url ({logs.shown(url)}) ends"
            f" with /webhooks/{helpdesk}"
            + ("; the webhook calls it and its trigger is active" if helpdesk == "zendesk" else "")
        )
    contract = config.contract_cancellation
    if contract.mode == "http" and contract.http is not None:
        items.append(
            f"contract cancellation over HTTP: {contract.http.secret_env} is set (the endpoint"
            " itself is not called)"
        )
    return items


@main.command("evaluate-reading")
@click.option(
    "--split",
    type=click.Choice(["held", "dev", "all"]),
    default="held",
    show_default=True,
    help="The part of the corpus: held (measure), dev (tune) or all.",
)
@click.option(
    "--corpus",
    "corpus",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="A folder with your own detection.yaml and answers.yaml (default: the shipped corpus).",
)
@click.pass_context
def evaluate_reading(ctx: click.Context, split: str, corpus: Path | None) -> None:
    """How detection and the reading of partners' answers score on the labelled corpus:
    precision, recall, confusion table and every error. Fails when a gate does not hold."""
    from worker.reading.corpus import CorpusError
    from worker.reading.evaluate import evaluate

    config, _ = _load(ctx.obj["config_path"])
    try:
        lines, ok = evaluate(config, split, corpus)
    except CorpusError as problem:
        raise click.ClickException(f"corpus: {problem}") from None
    click.echo("\n".join(lines))
    if not ok:
        raise click.ClickException("the reading gates do not hold")


_DAY = click.DateTime(formats=["%Y-%m-%d"])


@main.command()
@click.option("--since", required=True, type=_DAY, help="First day, YYYY-MM-DD (São Paulo).")
@click.option("--until", required=True, type=_DAY, help="Last day, included, YYYY-MM-DD.")
@_out_option("./report", "the report")
@click.pass_context
def report(ctx: click.Context, since: datetime, until: datetime, out: Path) -> None:
    """What happened to the period's cancellation tickets: a page with charts and a CSV.
    Reads only, paced like a poll."""
    from worker.core.calendar import SAO_PAULO
    from worker.report import Period, rows_of, summary_lines, write_report
    from worker.report.read import tickets_created

    if until < since:
        raise click.BadParameter("--until is before --since", param_hint="--until")
    config, _ = _load(ctx.obj["config_path"])
    helpdesk = _connect(config, ctx.obj["state_dir"]).helpdesk
    start = since.replace(tzinfo=SAO_PAULO)
    end = until.replace(tzinfo=SAO_PAULO) + timedelta(days=1)
    try:
        tickets = tickets_created(helpdesk, start, end)
    except HelpdeskError as problem:
        raise click.ClickException(f"{config.helpdesk}: {problem}") from None
    rows = rows_of(tickets, logs.shown)
    period = Period(since.date(), until.date())
    page = write_report(rows, period, wall_clock(), out)
    for line in summary_lines(rows, period):
        click.echo(line)
    click.echo(f"Relatório: {page.resolve()} · planilha: {page.with_name('outcomes.csv')}")


@main.command()
@click.option(
    "--update",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Rewrite the generated part of this page (docs/procedure.md) instead of printing.",
)
def procedure(update: Path | None) -> None:
    """Print the procedure as the worker enforces it (its transition table: for each situation,
    when, what the worker does, which e-mail, which status, which §), as pt-BR markdown for a
    support lead. Needs no configuration and reads no helpdesk."""
    from worker.procedure_page import markdown, spliced

    if update is None:
        click.echo(markdown(), nl=False)
        return
    update.write_text(spliced(update.read_text(encoding="utf-8"), markdown()), encoding="utf-8")
    click.echo(f"{update}: the generated part now matches the table")


main.add_command(sandbox_command, "sandbox")


if __name__ == "__main__":  # pragma: no cover
    main()
