"""The labelled e-mails that measure detection and the reading of partners' answers.

The corpus ships inside the package (`worker/reading/corpus/*.yaml`, declared as package data) so
`evaluate-reading` gives the same numbers from an installed wheel as from a checkout. Each item
carries a fixed `split`: rules are tuned on `dev` and judged on `held`, so a number reported on
`held` was not fitted to it. A company adds its own examples in the same format (`--corpus DIR`).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

Split = Literal["dev", "held"]
DetectionLabel = Literal["request", "maybe", "not"]
AnswerLabel = Literal["confirm", "refuse", "agent"]

DETECTION_FILE = "detection.yaml"
ANSWERS_FILE = "answers.yaml"


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    split: Split
    note: str = Field(min_length=1)


class DetectionItem(_Item):
    label: DetectionLabel
    subject: str
    body: str


class AnswerItem(_Item):
    label: AnswerLabel
    kind: str = Field(min_length=1)
    body: str


class _DetectionFile(BaseModel):
    items: list[DetectionItem]


class _AnswersFile(BaseModel):
    items: list[AnswerItem]


def _read(name: str, folder: Path | None) -> object:
    if folder is not None:
        return yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    packaged = resources.files("worker.reading").joinpath("corpus", name)
    return yaml.safe_load(packaged.read_text(encoding="utf-8"))


def detection_items(folder: Path | None = None) -> list[DetectionItem]:
    """The detection e-mails: the packaged corpus, or `folder`'s detection.yaml."""
    items = _DetectionFile.model_validate(_read(DETECTION_FILE, folder)).items
    _unique(item.id for item in items)
    return items


def answer_items(folder: Path | None = None) -> list[AnswerItem]:
    """The partners' answers: the packaged corpus, or `folder`'s answers.yaml."""
    items = _AnswersFile.model_validate(_read(ANSWERS_FILE, folder)).items
    _unique(item.id for item in items)
    return items


def _unique(ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"corpus id repeated: {item_id}")
        seen.add(item_id)
