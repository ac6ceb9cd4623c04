"""The composition root: the one place that turns a configuration into a working application.

Everything the shell depends on is built here from the configuration and the environment: the
helpdesk the configuration names (with its vendor's `Admin`), the clock, the renderer, the
operator's guard, the metrics, the contract system, the poll's place in the state directory and
the read-ahead. The CLI takes the defaults; the demo, the tests' worlds and the benchmarks
override only what they fake (a helpdesk on a fake, a simulated clock, a contract stand-in), so
they run the application as it is wired for production, not a copy of its wiring that can
drift. No other module builds a `Worker` (a test walks the source).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from worker.config import Config
from worker.contract import contract_system
from worker.metrics import Metrics
from worker.ports import Admin, ContractSystem, Helpdesk
from worker.render import Renderer
from worker.safety import PAUSE_FILE, Guard
from worker.service import Worker
from worker.state_dir import PollPlaceFile

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class _Configured(Enum):
    CONFIGURED = "configured"


# The contract system the configuration and environment name (None in manual mode); a caller
# that fakes it passes its own, or None for none.
CONFIGURED = _Configured.CONFIGURED


@dataclass(frozen=True)
class App:
    """The wired application. `clock` is read once per run by whoever starts the run (the
    runner's jobs, the CLI, the tests' worlds) and the moment passed to the worker; `stop` is
    the one stop request the worker checks between steps and the runner sets on SIGTERM."""

    worker: Worker
    clock: Clock
    admin: Admin | None = None  # the vendor's, when the helpdesk is the configured one
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def metrics(self) -> Metrics:
        return self.worker.metrics


def connect(
    config: Config, env: Mapping[str, str] | None = None, *, state_dir: Path = Path("state")
) -> Admin:
    """The helpdesk `helpdesk:` names, from the credentials in the environment. Raises
    HelpdeskError with what to set when they are missing."""
    env = os.environ if env is None else env
    if config.helpdesk == "zendesk":
        from worker.adapters.zendesk.admin import ZendeskAdmin

        return ZendeskAdmin.connect(config, env, state_dir)
    from worker.adapters.freshdesk.admin import FreshdeskAdmin

    return FreshdeskAdmin.connect(config, env, state_dir)


def bootstrap(
    config: Config,
    *,
    helpdesk: Helpdesk | None = None,
    admin: Admin | None = None,
    env: Mapping[str, str] | None = None,
    clock: Clock = wall_clock,
    renderer: Renderer | None = None,
    config_path: Path | None = None,
    contract: ContractSystem | _Configured | None = CONFIGURED,
    state_dir: Path | None = None,
    place_file: PollPlaceFile | None = None,
    guard: Guard | None = None,
    lock_held: Callable[[], bool] | None = None,
    metrics: Metrics | None = None,
    read_ahead: int | None = None,
    dry_run: bool = False,
) -> App:
    """The application for `config`. Defaults are production's: the configured helpdesk (an
    `admin` already connected, else `connect`), the wall clock, the templates beside
    `config_path`, the configured contract system (ContractSecretMissing when its secret is not
    in the environment). With a `state_dir` the poll's place, the PAUSE file and the adapter's
    files live there; without one nothing outlives the process. A given `helpdesk` (a fake, or
    the tests' hooked adapter) replaces the configured one and comes with no `admin`."""
    env = os.environ if env is None else env
    if helpdesk is None:
        admin = admin or connect(config, env, state_dir=state_dir or Path("state"))
        helpdesk = admin.helpdesk
    if renderer is None:
        renderer = Renderer(config.resolved_templates_dir(config_path))
    if contract is CONFIGURED:
        contract = contract_system(config, env)
    if place_file is None and state_dir is not None:
        place_file = PollPlaceFile.in_dir(state_dir, config.helpdesk)
    if guard is None:
        pause = state_dir / PAUSE_FILE if state_dir is not None else None
        guard = Guard(config.safety, pause, clock, lock_held)
    if metrics is None:
        metrics = Metrics(helpdesk=config.helpdesk, dry_run=dry_run)
    if read_ahead is None:
        read_ahead = admin.read_ahead if admin is not None else 0
    stop = threading.Event()
    worker = Worker(
        helpdesk,
        config,
        renderer,
        guard=guard,
        dry_run=dry_run,
        place_file=place_file,
        stop_requested=stop.is_set,
        metrics=metrics,
        contract=contract,
        read_ahead=read_ahead,
    )
    return App(worker, clock, admin, stop)
