"""Who really wrote it (issue 14): the gate between reading a message and acting on it.

The adapters say what the helpdesk itself doubts about a message's sender (`Comment.doubt`,
`RelatedTicket.doubt`); this module adds what only the procedure knows (is the author one of
the account's people?) and decides what a doubted message may still do. The rule: it can stop
or hold a cancellation, never advance it. A refusal still stops (the caller checks it first);
anything else is noted for an agent with the reason, marked for review, nothing sent, and while
the worker waits for an answer the deadline is lifted. The reply classifier is not involved: this
gates what any classification is allowed to do.
"""

from __future__ import annotations

from worker.core import messages as msg
from worker.core.effects import FieldKey
from worker.core.model import Comment, Person, Situation
from worker.core.procedure.run import At, Move
from worker.core.replies import excerpt
from worker.core.state import Phase, StepKind


def distrust(at: At, comment: Comment) -> str:
    """Why `comment` cannot advance the procedure ("" when it can): the helpdesk's doubt, or
    an author who is neither the requester nor one of the account's people (a stranger may
    write, but never stands for the customer's answer)."""
    return doubt(comment, at.view.account_people())


def doubt(comment: Comment, people: tuple[str, ...]) -> str:
    """`distrust` given the account's people: what `explain` lists, word for word."""
    if comment.doubt:
        return comment.doubt
    if comment.author.key not in people:
        who = comment.author.key or comment.author.name or "quem escreveu"
        return f"{who} não é o solicitante nem uma pessoa da conta na ficha"
    return ""


def request_doubt(at: At) -> str:
    """The request is the ticket's first message; a doubted one makes nobody's confirmation
    count by itself (a web form where anyone can type a partner's address)."""
    return at.ticket.comments[0].doubt if at.ticket.comments else ""


def hold_for_agent(
    at: At, ref: str, author: Person, body: str, why: str, *, hold: bool, request: bool = False
) -> Move:
    """One note quoting the message and why it was not believed; review tag; nothing sent.
    `hold`: the message would have held a wait (a reply before the deadline), so it does."""
    state = at.state
    held = hold and state.phase is Phase.WAITING_CUSTOMER
    fields: tuple[tuple[FieldKey, str | None], ...] = ()
    if held:
        state = state.evolve(phase=Phase.CALLING, deadline=None, waiting_since=None)
        fields = ((FieldKey.DEADLINE, None),)
    partner = (
        at.situation() is Situation.PARTNER and at.view.partner_by_email(author.key) is not None
    )
    return Move(
        StepKind.UNTRUSTED_REQUEST if request else StepKind.UNTRUSTED_MESSAGE,
        msg.untrusted_message_note(
            at.facts(),
            {"nome": author.name or author.key, "email": author.key},
            excerpt(body),
            why,
            held=held,
            partner=partner,
            request=request,
        ),
        state,
        ref=ref,
        fields=fields,
        add_tags=at.view.tag_set(at.settings.tags.review),
    )
