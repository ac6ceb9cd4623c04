"""An e-mail that went out without its note: the one fact about the past the notes cannot hold.

A step that e-mails is written in two calls, the e-mail first and the note after it (on both
helpdesks), so a crash or a lost answer between them leaves an e-mail with no note. The ticket's
notes then say the step is still owed, and the engine decides it again. The adapter reports what
it saw (`Ticket.unnoted_email`: the step's key, or only its number) and this rule, not the
adapter's write, decides what that means, so `explain` and a dry run show it:

- the same step decided again: it is taken without its e-mail (the customer has it already);
- another step under that number (the ticket changed meanwhile): it never sends an e-mail
  either, since the customer already got one for this place in the procedure, and it goes to an
  agent with the review tag and a note saying an e-mail already went out.

When the helpdesk knows only the number, a step that e-mails is taken as the same one and a
step that does not as another: what the Zendesk adapter did on its own before this rule.
"""

from __future__ import annotations

from dataclasses import replace

from worker.core import messages as msg
from worker.core.effects import Step, TargetStatus
from worker.core.model import Ticket


def settle_unnoted_email(
    ticket: Ticket, steps: tuple[Step, ...], review_tag: str
) -> tuple[Step, ...]:
    """`steps` as decided, with the step that owns the unnoted e-mail's number settled."""
    unnoted = ticket.unnoted_email
    if unnoted is None:
        return steps
    number, _, kind = unnoted.partition(":")
    settled: list[Step] = []
    flagged = False
    for step in steps:
        step_number, _, step_kind = step.key.partition(":")
        if step_number == number:
            same = step_kind == kind if kind else step.email is not None
            step = replace(step, email=None)
            if not same:
                step = replace(
                    step,
                    note=msg.email_already_sent_note(step.note),
                    add_tags=step.add_tags | {review_tag},
                    remove_tags=step.remove_tags - {review_tag},
                )
                flagged = True
        elif review_tag in step.remove_tags:
            flagged = False
        if flagged and step.status is TargetStatus.SOLVED:
            # the ticket waits in the review view for an agent; resolving it would hide it
            step = replace(step, status=TargetStatus.IN_PROGRESS)
        settled.append(step)
    return tuple(settled)
