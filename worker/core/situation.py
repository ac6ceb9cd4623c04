"""Who is asking (PROCEDURE.md §2, CONTRACT 2 and 15), decided from the ficha, never from the text.

Missing or ambiguous data never becomes a guess: it becomes a list of problems for an agent.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.core.documents import AccountKind
from worker.core.model import Account, Ficha, Member, Person, Situation


@dataclass(frozen=True)
class Identification:
    situation: Situation | None
    account: Account | None
    problems: tuple[str, ...] = ()
    from_registered_email: bool = False

    @property
    def partners(self) -> tuple[Member, ...]:
        return self.account.partners if self.account else ()


def _same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a.strip().lower() == b.strip().lower()


def identify(requester: Person, ficha: Ficha) -> Identification:
    accounts = {account.id: account for account in ficha.accounts}
    if not accounts:
        return Identification(
            None,
            None,
            (
                f"o solicitante ({requester.email}) não pertence a nenhuma conta e não é o e-mail "
                "de cadastro de nenhuma",
            ),
        )
    if len(accounts) > 1:
        names = ", ".join(sorted(account.name for account in accounts.values()))
        return Identification(
            None, None, (f"o solicitante pertence a mais de uma conta ({names})",)
        )
    account = next(iter(accounts.values()))
    return _within(requester, account)


def _within(requester: Person, account: Account) -> Identification:
    problems: list[str] = []
    document = account.parsed_document
    if account.document is None or not account.document.strip():
        problems.append(f"a conta {account.name} não tem CPF/CNPJ na ficha")
    elif document is None:
        problems.append(f"o CPF/CNPJ da conta {account.name} na ficha é inválido")
    if not account.registered_email:
        problems.append(f"a conta {account.name} não tem e-mail de cadastro na ficha")
    from_registered = _same(requester.email, account.registered_email)
    if document is not None and document.kind is AccountKind.PJ:
        partners = account.partners
        if not partners:
            problems.append(
                f"a conta {account.name} (CNPJ) não tem sócios-administradores na ficha"
            )
        for partner in partners:
            if partner.account_count > 1:
                problems.append(
                    f"o sócio-administrador {partner.person.name} pertence a mais de uma conta"
                )
    if problems:
        return Identification(None, account, tuple(problems), from_registered)
    assert document is not None
    requester_member = next(
        (m for m in account.members if _same(m.person.email, requester.email)), None
    )
    if document.kind is AccountKind.PF:
        holder = from_registered or (requester_member is not None and requester_member.holder)
        situation = Situation.HOLDER if holder else Situation.THIRD_PARTY
        return Identification(situation, account, (), from_registered)
    is_partner = requester_member is not None and requester_member.managing_partner
    if is_partner or from_registered:
        single = len(account.partners) == 1
        situation = Situation.HOLDER if single else Situation.PARTNER
        return Identification(situation, account, (), from_registered)
    return Identification(Situation.THIRD_PARTY, account, (), from_registered)
