"""Which tickets are cancellation requests (PROCEDURE.md §1).

The tag is the customer's own choice on a form, so it is trusted on any channel. Keywords are a
guess, so they are read only where customers write (e-mail, web form by default) and any
exclusion phrase ("cancelar boleto") vetoes them: a missed request is tagged by an agent, a false
one would start the procedure on a customer who never asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from worker.config import Detection
from worker.core.replies import answer_text
from worker.core.text import normalize

Where = Literal["subject", "first_message"]

_PLACES: dict[Where, str] = {"subject": "no assunto", "first_message": "na primeira mensagem"}


@dataclass(frozen=True)
class DetectionResult:
    by_tag: bool
    matched: str | None = None  # the keyword as found in the normalized text
    where: Where | None = None
    tag: str = "cancelamento"

    def describe(self) -> str:
        """How the ticket was detected, for the first note, so an agent can judge a false hit."""
        if self.by_tag or self.matched is None or self.where is None:
            return f"tag {self.tag}"
        return f'palavra-chave "{self.matched}" {_PLACES[self.where]}'


def detect(
    subject: str,
    first_message: str,
    channel: str,
    tags: frozenset[str],
    cancellation_tag: str,
    detection: Detection,
) -> DetectionResult | None:
    if cancellation_tag in tags:
        return DetectionResult(by_tag=True, tag=cancellation_tag)
    if not detection.keywords_enabled or channel not in detection.channels:
        return None
    texts: tuple[tuple[Where, str], ...] = (
        ("subject", subject),
        ("first_message", answer_text(first_message)),
    )
    for where, text in texts:
        matched = _keyword(normalize(text), detection)
        if matched is not None:
            return DetectionResult(by_tag=False, matched=matched, where=where, tag=cancellation_tag)
    return None


def _keyword(text: str, detection: Detection) -> str | None:
    if any(re.search(pattern, text, re.IGNORECASE) for pattern in detection.exclusions):
        return None
    for pattern in detection.patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match is not None:
            return match.group(0)
    return None
