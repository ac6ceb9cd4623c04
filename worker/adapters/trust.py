"""Who really wrote a message, in words every adapter shares (pt-BR, for the agent's note).

Each helpdesk has its own signals (Zendesk flags its comments; Freshdesk only shows who a
conversation is attributed to and the address it came from); what they mean for the procedure
is the same: the author shown may not be the author. The adapter turns its signals into one
`doubt` per message, and the core lets a doubted message stop or hold, never advance.
"""

from __future__ import annotations

from email.utils import parseaddr

from worker.core.model import Channel

CHANNEL_NAMES: dict[Channel, str] = {
    "email": "e-mail",
    "web": "formulário web",
    "api": "API",
    "chat": "chat",
    "phone": "telefone",
    "other": "um canal desconhecido",
}


def address(raw: object) -> str:
    """`Name <a@b>` or `a@b` as the bare address, lower-cased ("" when there is none)."""
    return parseaddr(str(raw or ""))[1].strip().lower()


def channel_doubt(channel: Channel) -> str:
    """Only an e-mail proves anything about its sender (the helpdesk checks it); on a form or
    through the API anyone can type anyone's address."""
    if channel == "email":
        return ""
    return (
        f"chegou por {CHANNEL_NAMES[channel]}, não por e-mail do próprio endereço: "
        "qualquer pessoa pode digitar o e-mail de outra"
    )


def sender_doubt(channel: Channel, author_email: str, sent_from: str) -> str:
    """A customer's message is believed only when it came by e-mail from the address of the
    person it is attributed to: the channel first, then the sender's address."""
    if channel != "email":
        return channel_doubt(channel)
    shown = author_email.strip().lower()
    if not sent_from:
        return "o helpdesk não mostra de que endereço veio o e-mail"
    if sent_from != shown:
        return f"o e-mail veio de {sent_from}, não do endereço de {shown or 'quem aparece'}"
    return ""


def joined(*doubts: str) -> str:
    return "; ".join(d for d in doubts if d)
