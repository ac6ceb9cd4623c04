"""Which tickets are cancellation requests (PROCEDURE.md §1), judged by what is being ended.

The tag is the customer's own choice on a form, so it is trusted on any channel. Words are a
guess, read only where customers write (e-mail, web form by default), and a verb such as
*cancelar* says nothing by itself: people cancel bank slips, invoices, accesses and meetings far
more often than contracts. So a verb of ending counts by the words right after it: our contract,
plan or services make a request; anything else makes a look-alike. A request worded as a
condition, a threat, a question about the terms or about one service of several is only a
*maybe*: starting the procedure on a customer who never asked is the harm to avoid, so an agent
decides those from a short note that names the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from worker.core.replies import answer_text
from worker.core.settings import DetectionSettings
from worker.core.text import normalize

Where = Literal["subject", "first_message"]
Outcome = Literal["request", "maybe"]
ObjectKind = Literal["request", "bare", "other"]

_PLACES: dict[Where, str] = {"subject": "no assunto", "first_message": "na primeira mensagem"}

# How many words after a verb of ending may name what is ended ("o cancelamento definitivo do
# nosso contrato"): further away, a noun belongs to another clause.
OBJECT_REACH = 5

_SENTENCE_END = re.compile(r"[.!?;:]+(?:\s|$)|\n|\s-\s")
_WORD_START = re.compile(r"(?<![\w/-])\w")
# "não quero cancelar", "não cancelem": a verb of ending under a negation asks for nothing.
_NEGATED = re.compile(
    r"\b(nao|nem|nunca|n) ((quero|queremos|vou|vamos|pretendo|pretendemos|desejo|desejamos"
    r"|deve|devem|e para|precisa|precisam) )?$"
)
# "o cadastro e o contrato": an object of ours coordinated after someone else's still counts.
_AND = re.compile(r"^.{0,40}?\be (o |a |os |as |meu |minha |nosso |nossa )?")


@dataclass(frozen=True)
class DetectionResult:
    by_tag: bool
    matched: str | None = None  # the words that decided, as found in the normalized text
    where: Where | None = None
    tag: str = "cancelamento"
    outcome: Outcome = "request"
    doubt: str | None = None  # for a maybe: the words that made it only possible
    by_agent: str | None = None  # the agent who typed #iniciar-cancelamento

    def describe(self) -> str:
        """How the ticket was detected, for the first note, so an agent can judge a false hit."""
        if self.by_agent is not None:
            return f"#iniciar-cancelamento de {self.by_agent}"
        if self.by_tag or self.matched is None or self.where is None:
            return f"tag {self.tag}"
        return f'palavras "{self.matched}" {_PLACES[self.where]}'


@dataclass(frozen=True)
class _Finding:
    kind: Literal["request", "bare", "other", "maybe"]
    words: str
    where: Where
    doubt: str | None = None


def keywords_refused(channel: str, detection: DetectionSettings) -> str:
    """Why the words of this ticket are not read for a request, in pt-BR ("" when they are):
    the one gate `detect` applies, which `explain` quotes."""
    if not detection.keywords_enabled:
        return "palavras-chave desligadas"
    if channel not in detection.channels:
        return f"palavras-chave não valem no canal {channel}"
    return ""


def detect(
    subject: str,
    first_message: str,
    channel: str,
    tags: frozenset[str],
    cancellation_tag: str,
    detection: DetectionSettings,
) -> DetectionResult | None:
    """A request, a maybe, or None (not a request: nothing is done)."""
    if cancellation_tag in tags:
        return DetectionResult(by_tag=True, tag=cancellation_tag)
    if keywords_refused(channel, detection):
        return None
    texts: tuple[tuple[Where, str], ...] = (
        ("subject", normalize(subject)),
        ("first_message", normalize_lines(answer_text(first_message))),
    )
    rules = _rules(detection)
    read = [
        (where, sentence) for where, text in texts for sentence in sentences(text, rules.ignore)
    ]
    findings = [
        finding for where, sentence in read for finding in _read_sentence(sentence, where, rules)
    ]
    return _verdict(findings, " ".join(sentence for _, sentence in read), rules, cancellation_tag)


def normalize_lines(text: str) -> str:
    """Normalized, but with line breaks kept: a line often ends a sentence in e-mail."""
    return "\n".join(normalize(line) for line in text.splitlines())


def sentences(text: str, ignore: tuple[re.Pattern[str], ...] = ()) -> list[str]:
    """The sentences of a normalized text up to the first disclaimer: boilerplate comes last,
    and its later sentences ("se a recebeu por engano, favor cancelar...") are not the
    customer's words either."""
    kept: list[str] = []
    for part in (part.strip() for part in _SENTENCE_END.split(text)):
        if any(pattern.search(part) for pattern in ignore):
            break
        if part:
            kept.append(part)
    return kept


def _verdict(
    findings: list[_Finding], whole: str, rules: _Rules, tag: str
) -> DetectionResult | None:
    """A clean request anywhere decides; then anything doubtful makes a maybe; a verb that
    names no object is judged by what the e-mail talks about."""

    def result(finding: _Finding, outcome: Outcome, doubt: str | None) -> DetectionResult:
        return DetectionResult(False, finding.words, finding.where, tag, outcome, doubt)

    for finding in findings:
        if finding.kind == "request" and finding.doubt is None:
            return result(finding, "request", None)
    for finding in findings:
        if finding.kind in ("request", "maybe", "bare") and finding.doubt is not None:
            return result(finding, "maybe", finding.doubt)
    bare = [f for f in findings if f.kind == "bare"]
    if not bare:
        return None
    ours = _first(rules.objects, whole) is not None
    others = _first(rules.others, whole) is not None
    if ours and not others:
        return result(bare[0], "request", None)
    if others and not ours:
        return None
    return result(bare[0], "maybe", "sem dizer o que termina")


def _read_sentence(sentence: str, where: Where, rules: _Rules) -> list[_Finding]:
    """Every verb of ending in the sentence with what it ends, and the sentence's own doubt: a
    condition three sentences away says nothing about this one."""
    found: list[_Finding] = []
    doubt = _first(rules.cues, sentence)
    for pattern in rules.maybe:
        match = pattern.search(sentence)
        if match is not None:
            found.append(_Finding("maybe", match.group(0), where, match.group(0)))
    for strong, patterns in ((True, rules.verbs), (False, rules.weak_verbs)):
        for pattern in patterns:
            for match in pattern.finditer(sentence):
                if strong and _NEGATED.search(sentence[: match.start()]):
                    continue
                kind, end = _object_of(sentence, match.end(), rules)
                words = sentence[match.start() : end].strip()
                if kind == "bare":
                    if not strong:
                        continue
                    kind, near = _nearest_object(sentence, match.start(), match.end(), rules)
                    words = f"{words} … {near}" if near else words
                found.append(_Finding(kind, words, where, doubt))
    return found


def _object_of(sentence: str, start: int, rules: _Rules) -> tuple[ObjectKind, int]:
    """What the verb ending at `start` is about: the first of our objects or of the others in the
    next few words, and where that object ends."""
    tail = sentence[start:]
    kinds: tuple[tuple[ObjectKind, tuple[re.Pattern[str], ...]], ...] = (
        ("other", rules.others),
        ("request", rules.objects),
    )
    for count, word in enumerate(_WORD_START.finditer(tail)):
        if count >= OBJECT_REACH:
            break
        rest = tail[word.start() :]
        for kind, patterns in kinds:
            for pattern in patterns:
                match = pattern.match(rest)
                if match is None:
                    continue
                end = start + word.start() + match.end()
                if kind == "other":
                    also = _AND.match(sentence[end:])
                    after = end + also.end() if also else end
                    if also and any(p.match(sentence[after:]) for p in rules.objects):
                        return "request", after
                return kind, end
    return "bare", start


def _nearest_object(
    sentence: str, verb_start: int, verb_end: int, rules: _Rules
) -> tuple[ObjectKind, str]:
    """A verb with nothing after it ("o darf veio errado, cancela") is about the object named
    nearest to it in its sentence, before or after; none named leaves it bare."""
    best: tuple[int, ObjectKind, str] | None = None
    kinds: tuple[tuple[ObjectKind, tuple[re.Pattern[str], ...]], ...] = (
        ("other", rules.others),
        ("request", rules.objects),
    )
    for kind, patterns in kinds:
        for pattern in patterns:
            for match in pattern.finditer(sentence):
                if (
                    verb_start <= match.start() < verb_end
                    or _WORD_START.match(sentence, match.start()) is None
                ):
                    continue
                distance = min(abs(match.start() - verb_end), abs(verb_start - match.end()))
                if best is None or distance < best[0]:
                    best = (distance, kind, match.group(0))
    return ("bare", "") if best is None else (best[1], best[2])


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match is not None:
            return match.group(0)
    return None


@dataclass(frozen=True)
class _Rules:
    verbs: tuple[re.Pattern[str], ...]
    weak_verbs: tuple[re.Pattern[str], ...]
    objects: tuple[re.Pattern[str], ...]
    others: tuple[re.Pattern[str], ...]
    cues: tuple[re.Pattern[str], ...]
    maybe: tuple[re.Pattern[str], ...]
    ignore: tuple[re.Pattern[str], ...]


def _rules(detection: DetectionSettings) -> _Rules:
    return _compiled(
        detection.verbs,
        detection.weak_verbs,
        detection.objects,
        detection.other_objects,
        detection.maybe_cues,
        detection.maybe_phrases,
        detection.ignore_sentences,
    )


@lru_cache(maxsize=8)
def _compiled(*lists: tuple[str, ...]) -> _Rules:
    return _Rules(*(tuple(re.compile(p, re.IGNORECASE) for p in patterns) for patterns in lists))
