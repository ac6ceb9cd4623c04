"""CPF and CNPJ, validated by brutils (which knows the alphanumeric CNPJ issued from July 2026).

The kind of the account (PF or PJ) follows from its document: a CPF is a person, a CNPJ a company.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from brutils import is_valid_cnpj, is_valid_cpf

_PUNCTUATION = re.compile(r"[\s./-]")


class AccountKind(enum.Enum):
    PF = "PF"  # pessoa física, CPF
    PJ = "PJ"  # pessoa jurídica, CNPJ


@dataclass(frozen=True)
class Document:
    kind: AccountKind
    number: str  # digits (and, for the new CNPJ, upper-case letters) without punctuation

    @property
    def label(self) -> str:
        return "CPF" if self.kind is AccountKind.PF else "CNPJ"


def parse_document(raw: str | None) -> Document | None:
    """A valid CPF or CNPJ, or None when it is missing or malformed (never guessed)."""
    if raw is None:
        return None
    number = _PUNCTUATION.sub("", raw).upper()
    if len(number) == 11 and number.isdigit() and is_valid_cpf(number):
        return Document(AccountKind.PF, number)
    if len(number) == 14 and is_valid_cnpj(number):
        return Document(AccountKind.PJ, number)
    return None
