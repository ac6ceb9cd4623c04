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
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Split = Literal["dev", "held"]
DetectionLabel = Literal["request", "maybe", "not"]
AnswerLabel = Literal["confirm", "refuse", "agent"]

DETECTION_FILE = "detection.yaml"
ANSWERS_FILE = "answers.yaml"


class CorpusError(ValueError):
    """A corpus file that cannot be read, named with the item and field at fault."""


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


_File = TypeVar("_File", bound=BaseModel)


def _read(model: type[_File], name: str, folder: Path | None) -> _File:
    """A company writing its own examples gets the file, item and field at fault, not a trace."""
    try:
        if folder is not None:
            text = (folder / name).read_text(encoding="utf-8")
        else:
            text = resources.files("worker.reading").joinpath("corpus", name).read_text("utf-8")
        return model.model_validate(yaml.safe_load(text))
    except OSError as problem:
        raise CorpusError(f"{name}: {problem.strerror or problem}") from None
    except yaml.YAMLError as problem:
        raise CorpusError(f"{name}: not valid YAML ({problem})") from None
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CorpusError(f"{name}: {where}: {first['msg']}") from None


def detection_items(folder: Path | None = None) -> list[DetectionItem]:
    """The detection e-mails: the packaged corpus, or `folder`'s detection.yaml."""
    items = _read(_DetectionFile, DETECTION_FILE, folder).items
    _unique(DETECTION_FILE, (item.id for item in items))
    return items


def answer_items(folder: Path | None = None) -> list[AnswerItem]:
    """The partners' answers: the packaged corpus, or `folder`'s answers.yaml."""
    items = _read(_AnswersFile, ANSWERS_FILE, folder).items
    _unique(ANSWERS_FILE, (item.id for item in items))
    return items


def _unique(name: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise CorpusError(f"{name}: id repeated: {item_id}")
        seen.add(item_id)
