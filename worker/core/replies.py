"""Reading a customer's or partner's e-mail (PROCEDURE.md §4.5, CONTRACT 14).

Only the person's own words count: the quoted history below an answer usually holds our own
e-mail, which asks them to "confirmar", so reading it would confirm on their behalf. And the
reading leans to "unclear": wrongly asking an agent costs minutes; a wrong cancellation costs a
customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from worker.core.settings import ReplySettings
from worker.core.text import normalize

Confirmation = Literal["affirm", "refuse", "unclear"]

_REPLY_HEADER = re.compile(r"(em|on|el|le) .+ (escreveu|wrote|escribio|a ecrit) ?:")
_SEPARATOR = re.compile(
    r"-{2,} ?(mensagem original|original message|mensagem encaminhada|forwarded message) ?-{2,}"
    r"|(inicio da mensagem encaminhada|begin forwarded message) ?:|_{10,}"
)
_HEADER_FROM = re.compile(r"(de|from) ?:")
_HEADER_WHEN = re.compile(r"(enviad[oa]( em)?|sent|data|date) ?:")
_HEADER_BLOCK_LINES = 4
_SIGN_OFF = re.compile(r"enviad[oa] (do|de|pelo|via) .+|sent from .+|(obter|get) (o )?outlook .+")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")


def answer_text(body: str) -> str:
    """The text above the first quoted-history marker, without signature or client sign-off."""
    lines = body.splitlines()
    keep = lines[: _first_quote(lines)]
    while keep and (not keep[-1].strip() or _SIGN_OFF.fullmatch(_header_key(keep[-1]))):
        keep.pop()
    return "\n".join(keep).strip()


def _header_key(line: str) -> str:
    # Mail clients turning HTML into text write bold header names as "*De:*".
    return normalize(line.replace("*", ""))


def _first_quote(lines: list[str]) -> int:
    keys = [_header_key(line) for line in lines]
    for index, key in enumerate(keys):
        if (
            lines[index].lstrip().startswith(">")
            or lines[index].rstrip() == "--"
            or _SEPARATOR.fullmatch(key)
            or _REPLY_HEADER.fullmatch(key)
            or _wrapped_reply_header(keys, index)
            or _outlook_block(keys, index)
        ):
            return index
    return len(lines)


def _wrapped_reply_header(keys: list[str], index: int) -> bool:
    """Gmail wraps a long "Em <date>, <name> <address> escreveu:" over two lines; the date's
    digits tell it from an answer that merely starts with "Em"."""
    if index + 1 >= len(keys) or _REPLY_HEADER.fullmatch(keys[index + 1]):
        return False
    first = keys[index]
    return (
        first.startswith(("em ", "on "))
        and any(char.isdigit() for char in first)
        and _REPLY_HEADER.fullmatch(f"{first} {keys[index + 1]}") is not None
    )


def _outlook_block(keys: list[str], index: int) -> bool:
    if _HEADER_FROM.match(keys[index]) is None:
        return False
    following = keys[index + 1 : index + 1 + _HEADER_BLOCK_LINES]
    return any(_HEADER_WHEN.match(key) for key in following)


def excerpt(body: str, limit: int = 280) -> str:
    """The answer on one line, short enough to quote in a note."""
    text = " ".join(answer_text(body).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def is_auto_reply(subject: str, body: str, replies: ReplySettings) -> bool:
    """An out-of-office answer counts like any message (CONTRACT 4) but says nothing about the
    request. The body is read above its quoted history: that holds other people's words."""
    texts = (normalize(subject), normalize(answer_text(body)))
    return any(
        re.search(pattern, text, re.IGNORECASE)
        for pattern in replies.auto_reply_patterns
        for text in texts
    )


@dataclass(frozen=True)
class Reading:
    """What an answer says and the sentence that decided it, quoted to the agent as written."""

    verdict: Confirmation
    why: str  # pt-BR, for the note
    sentence: str


def classify_confirmation(body: str, replies: ReplySettings) -> Confirmation:
    return read_answer(body, replies).verdict


def read_answer(body: str, replies: ReplySettings) -> Reading:
    """A yes only when every sentence is a present, unconditional agreement or says nothing
    that bends it: one deferral, condition, question, acknowledgement, other subject or doubt
    anywhere sends the answer to an agent, because a partner's yes ends a customer's contract.
    Any refusal wins over everything (it only stops the procedure, which is safe)."""
    pairs = [
        (original.strip(), normalize(original))
        for original in _SENTENCE_END.split(answer_text(body))
        if normalize(original)
    ]
    if not pairs:
        return Reading("unclear", "resposta sem texto próprio (só o histórico citado)", "")
    whole = " ".join(text for _, text in pairs)
    if any(re.search(p, whole, re.IGNORECASE) for p in replies.auto_reply_patterns):
        return Reading("unclear", "resposta automática", pairs[0][0])
    alone = {phrase.strip() for phrase in replies.refuse_alone}
    for original, text in pairs:
        phrase = _found(replies.refuse, text)
        if phrase is None and text.strip(" .!,") in alone:
            phrase = text.strip(" .!,")
        if phrase is not None:
            return Reading("refuse", f'recusa: "{phrase}"', original)
    agreements = [(o, p) for o, t in pairs if (p := _found(replies.affirm, t)) is not None]
    if not agreements:
        return Reading("unclear", "nenhuma concordância clara", pairs[0][0])
    for original, text in pairs:
        if _found(replies.courtesies, text) is not None:
            continue
        hedge = _found(replies.hedges, text)
        if hedge is not None:
            return Reading(
                "unclear",
                f'"{hedge}": prazo, condição, pergunta, dúvida ou outro assunto',
                original,
            )
    original, phrase = agreements[0]
    return Reading("affirm", f'concordância: "{phrase}"', original)


def _found(phrases: tuple[str, ...], text: str) -> str | None:
    """The phrase found first in the text (the one a reader meets first), if any."""
    matches = [m for p in _patterns(phrases) if (m := p.search(text)) is not None]
    return min(matches, key=lambda m: (m.start(), -m.end())).group(0) if matches else None


@lru_cache(maxsize=64)
def _patterns(phrases: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Whole-word patterns, so that "se" is not found in "sexta" nor "mas" in "mascara"; a phrase
    edge that is not a word character ("?") matches literally."""
    compiled = []
    for phrase in filter(None, map(normalize, phrases)):
        head = r"(?<!\w)" if re.match(r"\w", phrase[0]) else ""
        tail = r"(?!\w)" if re.match(r"\w", phrase[-1]) else ""
        compiled.append(re.compile(head + re.escape(phrase) + tail))
    return tuple(compiled)
