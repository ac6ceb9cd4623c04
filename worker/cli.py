"""`python -m worker …`, also installed as the `cancelamento-worker` script (CONTRACT.md)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from worker import logs
from worker.config import DEFAULT_CONFIG_PATH, PROJECT_ROOT, Config, ConfigError, load_config
from worker.render import Renderer


def _load(config_path: Path) -> tuple[Config, Path]:
    path = config_path
    if not path.is_absolute() and not path.exists() and (PROJECT_ROOT / path).exists():
        path = PROJECT_ROOT / path
    try:
        config = load_config(path)
    except ConfigError as problem:
        raise click.ClickException(str(problem)) from None
    return config, path


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    help="Cursor, journal and lock (env WORKER_STATE_DIR).",
)
@click.option(
    "--log-format",
    envvar="WORKER_LOG_FORMAT",
    type=click.Choice(["json", "console"]),
    default=None,
    help="Log lines as JSON (default when not a terminal) or readable (env WORKER_LOG_FORMAT).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path, state_dir: Path, log_format: str | None) -> None:
    """cancelamento-worker: runs the cancellation procedure beside your helpdesk."""
    fmt = log_format or ("console" if sys.stderr.isatty() else "json")
    logs.configure("console" if fmt == "console" else "json")
    ctx.obj = {"config_path": config_path, "state_dir": state_dir}


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """The whole procedure on the embedded in-memory helpdesk: no account needed."""
    from worker.demo import print_report, run_demo

    config, path = _load(ctx.obj["config_path"])
    logs.configure("console", level=logging.WARNING)
    result = run_demo(config, Renderer(config.resolved_templates_dir(path)))
    print_report(result, sys.stdout)


@main.command()
@click.option("--once", is_flag=True, help="One poll and one deadline sweep, then exit.")
@click.option("--dry-run", is_flag=True, help="Decide and print; write nothing.")
@click.option("--now", "now", default=None, help="Clock override, ISO-8601 with offset.")
@click.pass_context
def run(ctx: click.Context, once: bool, dry_run: bool, now: str | None) -> None:
    """Poll the configured helpdesk and run the procedure (forever, or --once)."""
    config, _ = _load(ctx.obj["config_path"])
    raise click.ClickException(
        f"the {config.helpdesk} adapter is not available in this version yet; "
        "`python -m worker demo` runs the whole procedure on the embedded helpdesk"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
