"""What both helpdesks' layouts do alike when they turn the configured names into ids: find the
worker's two statuses and five ticket fields by the name agents see (the first one, exactly),
and fail once, naming everything missing, so one `setup` run fixes the account."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol, TypeVar

from worker.adapters.http import ApiError, Json
from worker.adapters.provisioning import field_titles
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus


class Labelled(Protocol):
    @property
    def label(self) -> str: ...


S = TypeVar("S", bound=Labelled)


class Lookup:
    def __init__(self, vendor: str, error: type[ApiError]) -> None:
        self.vendor = vendor
        self.error = error
        self.missing: list[str] = []

    def targets(
        self, statuses: Collection[S], config: Config, describe: Callable[[TargetStatus, str], str]
    ) -> dict[TargetStatus, S]:
        """The statuses the worker sets, by their configured label; `describe` names one
        missing."""
        wanted = {
            TargetStatus.IN_PROGRESS: config.statuses.in_progress,
            TargetStatus.WAITING_CUSTOMER: config.statuses.waiting_customer,
        }
        found: dict[TargetStatus, S] = {}
        for target, label in wanted.items():
            match = next((status for status in statuses if status.label == label), None)
            if match is None:
                self.missing.append(describe(target, label))
            else:
                found[target] = match
        return found

    def fields(
        self, fields: Collection[Json], config: Config, title_key: str
    ) -> dict[FieldKey, Json]:
        """The ticket fields by their configured title, read from `title_key`."""
        found: dict[FieldKey, Json] = {}
        for key, title in field_titles(config).items():
            match = next((f for f in fields if str(f.get(title_key)) == title), None)
            if match is None:
                self.missing.append(f'the ticket field "{title}"')
            else:
                found[key] = match
        return found

    def check(self) -> None:
        if self.missing:
            raise self.error(
                f"the {self.vendor} account is not set up for the worker: missing "
                + ", ".join(self.missing)
                + "; run `python -m worker setup` (then `python -m worker check`)"
            )
