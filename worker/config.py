"""The worker's configuration: a YAML file validated at start, with a message that names the key.

Everything customer-specific (names in the helpdesk, deadlines, phrases) lives here as data.
Secrets never do: they come from the environment (README, "Connect to Zendesk/Freshdesk").
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from worker.core.settings import (
    DetectionSettings,
    EmailSettings,
    ProcedureNumbers,
    ProcedureSettings,
    Reason,
    ReplySettings,
    TagNames,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = Path("config/worker.yaml")


class ConfigError(Exception):
    """An invalid configuration; the message names the file, the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, data: Any) -> Any:
        """A section left empty (`procedure:` with every key commented out) reads as YAML null;
        it means the same as leaving the section out: every default."""
        return {} if data is None else data


NonEmpty = Annotated[str, Field(min_length=1)]


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    )


def _tag(value: str) -> str:
    if any(char.isspace() for char in value):
        raise ValueError(
            f"{value!r} contains a space; helpdesks split tags on spaces, use - or _ instead"
        )
    return value


def _phrase(value: str) -> str:
    """Phrases are compared without accents and case, so they are stored that way: "Não
    autorizo" written by an operator must still match."""
    if not value.strip():
        raise ValueError("is blank; a blank phrase would be found in every message")
    return _without_accents(value).lower()


def _pattern(value: str) -> str:
    """Patterns run against text without accents, so an accent in a pattern would never match."""
    value = _without_accents(value)
    try:
        compiled = re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
    if compiled.search("") is not None:
        raise ValueError(f"{value!r} matches empty text, so it would match every ticket")
    return value


Tag = Annotated[str, Field(min_length=1), AfterValidator(_tag)]
Phrase = Annotated[str, Field(min_length=1), AfterValidator(_phrase)]
Pattern = Annotated[str, AfterValidator(_pattern)]


class Tags(_Section):
    cancellation: Tag = "cancelamento"
    review: Tag = "cancelamento-revisar"
    execute_contract: Tag = "cancelamento-executar"
    retained: Tag = "cancelamento-revertido"
    cancelled: Tag = "cancelamento-cancelado"
    not_cancelled: Tag = "cancelamento-nao-cancelado"
    third_party: Tag = "cancelamento-terceiro"
    manual: Tag = "cancelamento-manual"
    linked: Tag = "cancelamento-vinculado"
    possible: Tag = "cancelamento-possivel"

    @model_validator(mode="after")
    def _distinct(self) -> Tags:
        seen: dict[str, str] = {}
        for name, value in self:
            if value in seen:
                raise ValueError(f"{name} and {seen[value]} are both {value!r}; each must differ")
            seen[value] = name
        return self


class Statuses(_Section):
    in_progress: NonEmpty = "Em atendimento"
    waiting_customer: NonEmpty = "Aguardando retorno do cliente"


class TicketFields(_Section):
    situation: NonEmpty = "Situação do cancelamento"
    attempts: NonEmpty = "Tentativas de ligação"
    reason: NonEmpty = "Motivo da insatisfação"
    outcome: NonEmpty = "Resultado do cancelamento"
    deadline: NonEmpty = "Prazo do retorno"


class FichaKeys(_Section):
    document: NonEmpty = "documento"
    registered_email: NonEmpty = "email_cadastro"
    holder: NonEmpty = "titular"
    managing_partner: NonEmpty = "socio_administrador"


class Procedure(_Section):
    max_call_attempts: int = Field(default=3, ge=1, le=10)
    customer_deadline_business_days: int = Field(default=2, ge=1, le=30)
    partners_deadline_business_days: int = Field(default=2, ge=1, le=30)
    third_party_max_replies: int = Field(default=3, ge=0, le=20)
    third_party_window_days: int = Field(default=30, ge=1, le=365)
    first_run_lookback_days: int = Field(default=30, ge=1, le=365)


_LEAP_YEAR = 2000  # a yearly "MM-DD" is valid when it exists in some year (02-29 included)
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_DAY_SLASH_MONTH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")


def _holiday(value: Any) -> date | str:
    """One extra day off: a date (YYYY-MM-DD, one day) or "MM-DD" (the same day every year)."""
    if isinstance(value, datetime):
        raise ValueError(f"{value.isoformat(sep=' ')} has a time of day; write only YYYY-MM-DD")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f'{value!r} is not a day; write YYYY-MM-DD for one day or "MM-DD" for every year'
        )
    text = value.strip()
    if _FULL_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    month_day = _MONTH_DAY.fullmatch(text)
    if month_day:
        try:
            date(_LEAP_YEAR, int(month_day[1]), int(month_day[2]))
        except ValueError:
            raise ValueError(f"{value!r} is not a day of any year (MM-DD: month first)") from None
        return text
    hint = ""
    slashed = _DAY_SLASH_MONTH.fullmatch(text)
    if slashed:  # DD/MM or DD/MM/YYYY, as days are written in Brazil
        day, month, year = int(slashed[1]), int(slashed[2]), slashed[3]
        try:
            date(int(year or _LEAP_YEAR), month, day)
            hint = f"; for {text} write " + (
                f"{year}-{month:02d}-{day:02d}" if year else f'"{month:02d}-{day:02d}" (every year)'
            )
        except ValueError:
            pass
    raise ValueError(f"{value!r} is neither YYYY-MM-DD (one day) nor MM-DD (every year){hint}")


Holiday = Annotated[date | str, BeforeValidator(_holiday)]


class Calendar(_Section):
    state: str | None = None  # a Brazilian state's code (e.g. "SP") for its holidays
    include_optional: bool = False  # Carnaval, Corpus Christi, "ponto facultativo" days
    extra_holidays: list[Holiday] = Field(default_factory=list)  # YYYY-MM-DD or MM-DD yearly

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str | None) -> str | None:
        """Returns the `holidays` library's own spelling: "sp" is "SP", "São Paulo" is "SP",
        and "são paulo capital" (the city's own holidays) is "São Paulo Capital"."""
        if value is None:
            return None
        from holidays.countries.brazil import Brazil

        known: tuple[str, ...] = Brazil.subdivisions
        spellings = {code.casefold(): code for code in known}
        for name, code in Brazil.subdivisions_aliases.items():
            spellings.setdefault(name.casefold(), code)
        found = spellings.get(value.strip().casefold())
        if found is None:
            codes = [code for code in known if len(code) == 2]
            others = "".join(f", or {code!r}" for code in known if len(code) != 2)
            raise ValueError(
                f"unknown state {value!r}; use one of {', '.join(codes)}{others}"
                " (or null for national holidays only)"
            )
        return found


Channel = Literal["email", "web", "api", "chat", "phone", "other"]


def _default_channels() -> list[Channel]:
    return ["email", "web"]


class Detection(_Section):
    """Detection of untagged tickets by what is being ended (PROCEDURE.md §1). Patterns are
    regular expressions matched case-insensitively against text without accents.

    A verb of ending (`verbs`, `weak_verbs`) is read with the words right after it: one of
    `objects` (the customer's relationship with us) makes a request, one of `other_objects` (a
    bank slip, an invoice, an access...) makes a look-alike. `maybe_cues` in the same sentence,
    or a `maybe_phrases` anywhere, make it only a possible request, for an agent to judge."""

    keywords_enabled: bool = True
    channels: list[Channel] = Field(default_factory=_default_channels)
    # Verbs that may stand without an object ("quero cancelar") when the e-mail names nothing else.
    verbs: list[Pattern] = Field(
        default_factory=lambda: [
            r"\bcancel(ar|o|a|as|am|e|em|emos|amos|amento|ando|aria|ariamos)\b",
            r"\bcanselar\b",
            r"\bencerr(ar|o|a|e|em|emos|amos|amento)\b",
            r"\brescind(ir|o|imos)\b",
            r"\bre(s)?cis(ao|oes)\b",
            r"\bdistrato\b(?! social)",
            r"\bcancel\b",
            r"\bd[ei]sist(ir|o|imos|encia)\b",
        ]
    )
    # Verbs that count only with one of `objects` right after them ("sair do plano").
    weak_verbs: list[Pattern] = Field(
        default_factory=lambda: [
            r"\bsair\b",
            r"\bdeixar( de ser)?\b",
            r"\bparar com\b",
            r"\binterromper\b",
            r"\bdesligamento\b",
            r"\bdesativar\b",
            r"\bfinalizar\b",
            r"\btermino\b",
            r"\bpor fim ao?\b",
            r"\bnao (quero|queremos|desejo|desejamos) (mais )?(continuar|seguir)?",
            r"\bnao (tenho|temos) mais interesse( em continuar)?( n[oa]| em)?",
            r"\bnao (vou|vamos|iremos) renovar\b|\binteresse em renovar\b",
        ]
    )
    # What the customer has with us: ending one of these is a request.
    objects: list[Pattern] = Field(
        default_factory=lambda: [
            r"(contrato|plano|assinatura|servico|conta)s?\b",
            r"(contabilidade|assessoria|mensalidade|pacote|parceria|vinculo|plataforma)\b",
            r"(escritorio|carteira|ser cliente|sistema)\b",
            r"(com|de) (voces|vcs)\b|tudo\b(?! (certo|bem|ok))",
            r"(our|my) (contract|plan|subscription|account)\b",
        ]
    )
    # Other things people cancel: ending one of these is not a request. Read before `objects`,
    # so "o contrato de aluguel" or "a assinatura dele" are someone else's.
    other_objects: list[Pattern] = Field(
        default_factory=lambda: [
            r"(contrato|plano|assinatura|conta|servico)s? (social|corrente|bancaria|poupanca"
            r"|eletronica|digital|dele|dela|deles|delas"
            r"|(com|de|do|da|no|na) (o |a |um |uma )?(fornecedor|empresa de|cliente|locador"
            r"|banco|escola|revista|jornal|streaming|software|aluguel|locacao"
            r"|trabalho|estagio|experiencia|leasing|saude|celular|internet|luz|agua|irpf))\b",
            r"(boleto|nota|nf|nfe|nfs|nfs-?e|nf-?e|ct-?e|fatura|pagamento|cobranca|compra)s?\b",
            r"(cadastro|acesso|login|usuario|senha|e-?mail|newsletter|informativo|alerta)s?\b",
            r"(reuniao|reunioes|visita|consulta|ligacao|call|agendamento|reserva|vaga)s?\b",
            r"(pedido|solicitacao)s?\b(?! de (cancelamento|rescisao|encerramento|distrato))",
            r"(venda|frete|entrega|matricula|inscricao|inscricoes|curso|evento)s?\b",
            r"(darf|gps|guia|declaracao|declaracoes|dctf|procuracao|certificado)s?\b",
            r"(debito|cartao|cartoes|transferencia|ted|pix|cheque|chave|ordem|titulo)s?\b",
            r"(revista|jornal|seguro|viagem|voo|linha|antivirus|renovacao automatica)s?\b",
            r"(parcelamento|protesto|multa|alvara|restituicao|per/dcomp|envio|relatorio)s?\b",
            r"(ferias|adiantamento|vale|folha|funcionari[oa]|colaborador|estagio|dependente)s?\b",
            r"(mei|cnpj|filial|exercicio|processo|chamado|recebimento|sms)s?\b",
            r"(segunda via|documento|extrato|arquivo|grupo|mensage(m|ns)|aluguel|leasing)s?\b",
            r"(banco|streaming|netflix|payment|insurance|policy|meeting|order|invoice)s?\b",
        ]
    )
    # In the sentence of a request, these make it only possible: a condition, a threat, a
    # question about the terms, doubt, or one service of several.
    maybe_cues: list[Pattern] = Field(
        default_factory=lambda: [
            r"\b(se|caso)\b",
            r"\b(multa|fidelidade|condicoes|proporcional|a qualquer momento)\b",
            r"\b(quanto tempo|como funciona|o que acontece|so quero entender|por enquanto)\b",
            r"\b(talvez|provavelmente|pensando em|penso em|avaliando|vou pensar|acabar)\b",
            r"\b(so|apenas|somente) (o|a|os|as)\b",
            r"\be (continuar|manter)\b|\bmanter (o|a)\b",
            r"\bou (voces|vcs)\b",
            r"\bmais (um|uma) (erro|problema|atraso|falha)\b|\b(de novo|outra vez|novamente)\b",
            r"\bnao (e|sao) (o|a|os|as) de (voces|vcs)\b",
        ]
    )
    # Possible requests without a verb of ending: a downgrade, a pause, a question about leaving.
    maybe_phrases: list[Pattern] = Field(
        default_factory=lambda: [
            r"\bplano (mais barato|menor|basico)\b",
            r"\b(reduzir|diminuir) (o |meu |nosso )?plano\b",
            r"\b(trocar de|mudar de|mudanca de) plano\b|\bdowngrade\b",
            r"\b(suspender|pausar|congelar) (o |meu |nosso )?(contrato|plano)\b",
            r"\bsuspensao d[oa] (contrato|plano)\b",
            r"\bmulta rescisoria\b",
            r"\b(avaliando|pensando) se (vamos|vou) continuar\b",
            r"\bnao (vamos|vou) mais precisar do servico\b",
            r"\btirar .{1,30} do contrato\b",
        ]
    )
    # Sentences that are not the customer's words: disclaimers, policies, signatures.
    ignore_sentences: list[Pattern] = Field(
        default_factory=lambda: [
            r"\b(confidencial|destinatario|aviso legal|politica de cancelamento)\b",
        ]
    )


class Replies(_Section):
    """How a partner's e-mail is read (PROCEDURE.md §4.5, CONTRACT 14). Phrases are compared
    without accents and case, as whole words; anything unclear goes to an agent."""

    # Present, unconditional agreements.
    affirm: list[Phrase] = Field(
        default_factory=lambda: [
            "confirmo",
            "confirmamos",
            "confirmado",
            "de acordo",
            "de pleno acordo",
            "autorizo",
            "autorizamos",
            "autoriso",
            "concordo",
            "concordamos",
            "pode cancelar",
            "podem cancelar",
            "favor cancelar",
            "pode prosseguir",
            "podem prosseguir",
            "pode seguir",
            "podem seguir",
            "pode encerrar",
            "podem encerrar",
            "pode dar andamento",
            "ok o cancelamento",
            "tudo certo",
            "sim",
            "aprovado",
            "afirmativo",
            "ratifico",
        ]
    )
    # Refusals anywhere in the answer: the cancellation stops and an agent decides.
    refuse: list[Phrase] = Field(
        default_factory=lambda: [
            "nao autorizo",
            "nao autorizamos",
            "nao autorizado",
            "n autorizo",
            "nao concordo",
            "nao concordamos",
            "nao confirmo",
            "nao confirmamos",
            "nao estou de acordo",
            "nao to de acordo",
            "nao cancelar",
            "nao cancele",
            "nao cancelem",
            "nao e para cancelar",
            "nao quero cancelar",
            "nao quero o cancelamento",
            "nao aceito",
            "discordo",
            "discordamos",
            "desautorizo",
            "sou contra",
            "somos contra",
        ]
    )
    # Sentences that refuse by themselves ("Não."), compared whole.
    refuse_alone: list[Phrase] = Field(default_factory=lambda: ["nao", "negativo", "nao obrigado"])
    # Words that, anywhere in an answer, make an agreement unclear: deferrals, conditions,
    # questions, doubt, acknowledgements, negations and other subjects. Then an agent reads it.
    hedges: list[Phrase] = Field(
        default_factory=lambda: [
            # negation
            "nao",
            "n",
            "nem",
            "nunca",
            "jamais",
            # conditions
            "se ",
            "caso",
            "desde que",
            "contanto",
            "mediante",
            "condicao",
            "somente",
            "apenas",
            "so",
            "quando",
            "a partir",
            "apos",
            "antes",
            "primeiro",
            "assim que",
            # objections and mixed messages
            "mas",
            "porem",
            "entretanto",
            "contudo",
            "so que",
            "quer dizer",
            "pensando bem",
            "melhor",
            "em parte",
            "depende",
            # deferrals
            "ainda",
            "depois",
            "amanha",
            "mais tarde",
            "semana que vem",
            "proxima semana",
            "em breve",
            "vou",
            "irei",
            "confirmarei",
            "retorno",
            "volto",
            "aguarde",
            "aguardem",
            "espere",
            "esperem",
            "pensar",
            "analisar",
            "verificar",
            "preciso",
            "por enquanto",
            "na volta",
            "ate o fim",
            "segunda",
            "terca",
            "quarta",
            "quinta",
            "sexta",
            "segunda-feira",
            "terca-feira",
            "quarta-feira",
            "quinta-feira",
            "sexta-feira",
            # questions and doubt
            "?",
            "quem",
            "qual",
            "por que",
            "posso",
            "queria saber",
            "talvez",
            "acho",
            "acredito",
            "provavelmente",
            "deveria",
            "devo",
            # acknowledgements: receiving the e-mail is not agreeing
            "recebimento",
            "recebi",
            "recebido",
            "acuso",
            "confirmo que",
            # agreement to something else
            "de acordo com a",
            "de acordo com as",
            "de acordo com os",
            "de acordo com o contrato",
            "de acordo com o que",
            "reuniao",
            "boleto",
            "segunda via",
            "dados",
            "e-mail",
            "ligar",
            "plano basico",
            "mudar",
            "desconto",
            "proposta",
            "decidir",
            "emissao",
        ]
    )
    # Sentences of courtesy ("Caso precisem, estou à disposição") whose words bend nothing.
    courtesies: list[Phrase] = Field(
        default_factory=lambda: [
            "a disposicao",
            "qualquer duvida",
            "caso precisem",
            "se precisarem",
            "se precisar",
        ]
    )
    # Regular expressions recognising auto-replies (same rules as detection patterns); an
    # auto-reply counts like any message from a third party and is never a confirmation.
    auto_reply_patterns: list[Pattern] = Field(
        default_factory=lambda: [
            r"resposta automatica",
            r"fora do escritorio",
            r"out of office",
            r"auto(matic)?[- ]?reply",
            r"estou ausente|estarei ausente|^ausente:",
            r"mensagem automatica",
            r"nao responda (a )?este e-?mail",
            r"em ferias",
            r"licenca (maternidade|paternidade|medica)",
        ]
    )


class ContractHttp(_Section):
    url: NonEmpty
    secret_env: NonEmpty = "CONTRACT_API_SECRET"  # HMAC key, read from the environment
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=5, ge=1, le=20)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"{value!r} is not a full http(s) URL, e.g. https://contratos.example.com/cancelar"
            )
        return value

    @field_validator("secret_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        # The value is not repeated in the message: it may be the secret, pasted by mistake.
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(
                "must be the NAME of an environment variable (letters, digits and _),"
                " never the secret itself"
            )
        return value


class ContractCancellation(_Section):
    mode: Literal["manual", "http"] = "manual"
    http: ContractHttp | None = None

    @model_validator(mode="after")
    def _http_needs_endpoint(self) -> ContractCancellation:
        if self.mode == "http" and self.http is None:
            raise ValueError("mode is http, so the http section (at least its url) is required")
        return self


def _reason_value(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", value):
        raise ValueError(
            f"{value!r} may only use a-z, 0-9 and _ (the helpdesk stores it as a tag);"
            " accents and spaces go in the label"
        )
    return value


class ReasonOption(_Section):
    value: Annotated[str, AfterValidator(_reason_value)]
    label: NonEmpty


def _default_reasons() -> list[ReasonOption]:
    return [
        ReasonOption(value="preco", label="Preço"),
        ReasonOption(value="atendimento", label="Atendimento"),
        ReasonOption(value="qualidade", label="Qualidade do serviço"),
        ReasonOption(value="concorrente", label="Mudou para concorrente"),
        ReasonOption(value="encerramento_empresa", label="Encerramento da empresa"),
        ReasonOption(value="nao_utiliza", label="Não utiliza mais"),
        ReasonOption(value="outro", label="Outro"),
    ]


class Emails(_Section):
    """How the e-mails sign off and where customers reach us; the wording itself lives in the
    templates, which fall back to a generic "por telefone" / "pelo chat" when these are empty."""

    signature: NonEmpty = "Equipe de Atendimento"
    company_name: str = ""
    phone: str = ""  # the support phone as shown, e.g. "(11) 4000-1234"
    chat: str = ""  # where the chat is: a URL, or words after "pelo chat", e.g. "no nosso site"


class Freshdesk(_Section):
    """The account's API limits (helpdesk: freshdesk). Freshdesk meters every account per
    minute, by plan, with separate caps on a few endpoints (support.freshdesk.com article
    225439): Growth 200 a minute (Tickets List 20, Ticket Update 80, Contacts List 20), Pro 400
    (100, 160, 100), Enterprise 700 (200, 280, 200); trials 50. The defaults are Growth's, the
    smallest paid plan, so a worker configured by nobody is still polite."""

    requests_per_minute: int = Field(default=200, ge=10, le=10000)
    tickets_list_per_minute: int = Field(default=20, ge=1, le=1000)  # GET /tickets and filters
    ticket_updates_per_minute: int = Field(default=80, ge=1, le=1000)  # PUT /tickets/{id}
    contacts_list_per_minute: int = Field(default=20, ge=1, le=1000)  # GET /contacts
    share: float = Field(default=0.8, gt=0, le=1)
    timeout_seconds: float = Field(default=30.0, gt=0, le=120)
    max_attempts: int = Field(default=4, ge=1, le=10)  # per request, transient failures only
    max_retry_after_seconds: int = Field(default=60, ge=1, le=600)  # a longer 429 ends the poll


class Schedule(_Section):
    """How often `run` polls and sweeps. Missed runs (a long poll, a paused machine) are
    coalesced into one, and a run later than `grace_seconds` is skipped for the next."""

    poll_seconds: int = Field(default=60, ge=10, le=3600)
    sweep_seconds: int = Field(default=300, ge=30, le=86400)
    grace_seconds: int = Field(default=30, ge=1, le=3600)


class Webhooks(_Section):
    """Push: the helpdesk calls the worker when a ticket changes, the poll stays the reconciler.
    The endpoint itself is on (`/webhooks/<helpdesk>` on the metrics port) whenever its secret
    is in the environment (ZENDESK_WEBHOOK_SECRET, FRESHDESK_WEBHOOK_TOKEN); these say where
    the helpdesk reaches it and how much the poll may slow down while deliveries arrive."""

    public_url: str = ""  # e.g. https://worker.example.com/webhooks/zendesk; "" = no push
    poll_seconds_while_healthy: int = Field(default=300, ge=10, le=3600)
    healthy_seconds: int = Field(default=3600, ge=60, le=86400)  # since the last good delivery
    queue_size: int = Field(default=1000, ge=1, le=100000)  # tickets waiting; more: the poll

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError(
                f"{value!r} must be an https URL the helpdesk can reach, e.g."
                " https://worker.example.com/webhooks/zendesk (http only on loopback)"
            )
        if not parts.path.rstrip("/").endswith(("/webhooks/zendesk", "/webhooks/freshdesk")):
            raise ValueError(
                f"{value!r} must end with the worker's path, /webhooks/zendesk or"
                " /webhooks/freshdesk (a proxy may add a prefix before it)"
            )
        if parts.username or parts.password or parts.query:
            raise ValueError("must carry no user, password or query: the secret is a header")
        return value


class Safety(_Section):
    """Switches for a careful roll-out and against a runaway loop (docs/operations.md)."""

    paused: bool = False  # no writes at all (also: a file named PAUSE in the state directory)
    max_emails_per_run: int = Field(default=200, ge=1, le=100000)
    only_tickets: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    only_tags: list[Tag] = Field(default_factory=list)

    @property
    def allow_list(self) -> bool:
        return bool(self.only_tickets or self.only_tags)


class Zendesk(_Section):
    """The account's API limits. The worker paces itself to `share` of each, so agents' apps and
    integrations keep the rest (plans allow 200 to 2,500 requests a minute; Update Ticket is
    capped at 100 a minute per account, 300 with the High Volume add-on)."""

    requests_per_minute: int = Field(default=700, ge=10, le=10000)
    ticket_updates_per_minute: int = Field(default=100, ge=1, le=1000)
    share: float = Field(default=0.9, gt=0, le=1)  # 90 %: the drain goal, 10 % left to others
    timeout_seconds: float = Field(default=30.0, gt=0, le=120)
    max_attempts: int = Field(default=4, ge=1, le=10)  # per request, transient failures only
    max_retry_after_seconds: int = Field(default=60, ge=1, le=600)  # a longer 429 fails the poll
    # Comment flags (`metadata.flags`) that make the worker doubt who wrote a comment: 0 unsure,
    # 2 not part of the conversation, 3 not signed in, 14 possible spoofing, 17 an end user's
    # private comment, 20 Reply-to user suspended, 21 From and Reply-to differ, 22 address
    # not confirmed. A doubted message can stop or hold a cancellation, never advance it.
    untrusted_flags: list[Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: [0, 2, 3, 14, 17, 20, 21, 22]
    )


class Config(_Section):
    helpdesk: Literal["zendesk", "freshdesk"] = "zendesk"
    tags: Tags = Field(default_factory=Tags)
    statuses: Statuses = Field(default_factory=Statuses)
    fields: TicketFields = Field(default_factory=TicketFields)
    ficha: FichaKeys = Field(default_factory=FichaKeys)
    procedure: Procedure = Field(default_factory=Procedure)
    calendar: Calendar = Field(default_factory=Calendar)
    detection: Detection = Field(default_factory=Detection)
    replies: Replies = Field(default_factory=Replies)
    contract_cancellation: ContractCancellation = Field(default_factory=ContractCancellation)
    emails: Emails = Field(default_factory=Emails)
    zendesk: Zendesk = Field(default_factory=Zendesk)
    freshdesk: Freshdesk = Field(default_factory=Freshdesk)
    schedule: Schedule = Field(default_factory=Schedule)
    webhooks: Webhooks = Field(default_factory=Webhooks)
    safety: Safety = Field(default_factory=Safety)
    reasons: list[ReasonOption] = Field(default_factory=_default_reasons, min_length=1)
    templates_dir: Path = Path("templates")

    @field_validator("reasons")
    @classmethod
    def _distinct_reasons(cls, reasons: list[ReasonOption]) -> list[ReasonOption]:
        values = [reason.value for reason in reasons]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"value {', '.join(map(repr, repeated))} appears more than once")
        return reasons

    def resolved_templates_dir(self, config_file: Path | None = None) -> Path:
        """Relative paths resolve beside the config file, else from the project root."""
        if self.templates_dir.is_absolute():
            return self.templates_dir
        if config_file is not None:
            beside = config_file.parent / self.templates_dir
            if beside.is_dir():
                return beside
        return PROJECT_ROOT / self.templates_dir


# --- what the procedure reads: the core's own settings values ---------------------------------

_T = TypeVar("_T")


def procedure_settings(config: Config) -> ProcedureSettings:
    """The one place the configuration becomes what the core decides with (`core/settings.py`):
    the core never imports this module, its pydantic models nor YAML."""
    return ProcedureSettings(
        helpdesk=config.helpdesk,
        detection=detection_settings(config.detection),
        replies=reply_settings(config.replies),
        tags=_values(TagNames, config.tags),
        procedure=_values(ProcedureNumbers, config.procedure),
        emails=_values(EmailSettings, config.emails),
        reasons=tuple(Reason(option.value, option.label) for option in config.reasons),
        contract_mode=config.contract_cancellation.mode,
        deadline_field=config.fields.deadline,
    )


def detection_settings(detection: Detection) -> DetectionSettings:
    return _values(DetectionSettings, detection)


def reply_settings(replies: Replies) -> ReplySettings:
    return _values(ReplySettings, replies)


def _values(kind: type[_T], section: BaseModel) -> _T:
    """A core settings value from the section's fields of the same names (lists as tuples)."""
    names = [f.name for f in dataclasses.fields(kind)]  # type: ignore[arg-type]
    found = {name: getattr(section, name) for name in names}
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in found.items()})


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The section model inside a field's type (through `X | None`, `list[X]`, `Annotated`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _keys_at(location: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in location:
        if isinstance(part, int):  # an item of a list of sections
            continue
        field = model.model_fields.get(part)
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _unknown_key(location: tuple[int | str, ...]) -> str:
    key = str(location[-1])
    known = _keys_at(location[:-1])
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    homes = [
        name
        for name, field in Config.model_fields.items()
        if (section := _model_in(field.annotation)) is not None
        and key in section.model_fields
        and (name,) != location[:-1]
    ]
    if homes:
        return f"unknown key here; {key!r} belongs in the {homes[0]!r} section"
    if not known:
        return "unknown key (check its spelling and section)"
    return f"unknown key; the keys here are {', '.join(known)}"


def _shown(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_SECTION_ERRORS = ("model_type", "model_attributes_type", "dict_type")


def _describe(error: dict[str, Any]) -> str:
    location: tuple[int | str, ...] = tuple(error["loc"])
    where = ".".join(str(part) for part in location) or "(top level)"
    kind = str(error["type"])
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    if kind == "extra_forbidden":
        message = _unknown_key(location)
    elif kind == "missing":
        message = "required, but missing"
    elif kind == "invalid_key":
        message = f"a key must be a name, not {_shown(given)}"
    elif kind in _SECTION_ERRORS:
        message = f"must be a section (indented `key: value` lines), not {_shown(given)}"
    elif kind == "list_type" and given is None:
        message = "is empty; write [] for an empty list, or delete the key to use the default"
    elif kind == "list_type":
        message = f"must be a list (`- item` lines, or [a, b]), not {_shown(given)}"
    elif kind == "too_short" and isinstance(given, list):
        message = f"needs at least {error.get('ctx', {}).get('min_length', 1)} item(s), has none"
    elif kind in ("bool_parsing", "bool_type"):
        message = f"must be true or false, not {_shown(given)}"
    elif given is None and kind != "value_error":
        message = f"{message}, but it is empty (write a value, or delete the key for the default)"
    elif kind != "value_error":  # our own messages already quote what is wrong
        message = f"{message} (got {_shown(given)})"
    return f"{where}: {message}"


def parse_config(data: Any, source: str = "configuration") -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping of `key: value` lines,"
            f" not a {type(data).__name__} ({_shown(data)})"
        )
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  - {_describe(dict(e))}" for e in exc.errors())
        raise ConfigError(f"{source} is invalid:\n{problems}") from None


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML, but a repeated key is an error rather than a silent replacement (a second
    `procedure:` would otherwise discard the first), and a date that does not exist (2026-02-30)
    is a YAML error with its line rather than a bare ValueError."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice (the second would silently replace the first)",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)

    def construct_timestamp(self, node: yaml.ScalarNode) -> date:
        try:
            value: date = self.construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
            ) from None
        return value


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_timestamp)


def _read_yaml(text: str, path: Path) -> Any:
    loader = _StrictLoader(text)
    loader.name = str(path)  # so that marks read `in "config/worker.yaml", line 3`
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (looked from {Path.cwd()})"
        raise ConfigError(f"{path}: no such configuration file{where}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = _read_yaml(text, path)
    except yaml.YAMLError as exc:
        hint = ""
        if "character '\\t'" in str(exc):
            hint = " (indent with spaces, not tabs)"
        elif "<block end>" in str(exc):
            hint = " (check the indentation: keys of a section line up under each other)"
        raise ConfigError(f"{path}: not valid YAML{hint}:\n{exc}") from None
    config = parse_config(data, str(path))
    templates = config.resolved_templates_dir(path)
    if not templates.is_dir():
        if config.templates_dir.is_absolute():
            looked = str(templates)
        else:
            beside = path.parent / config.templates_dir
            looked = f"{beside} beside the file, nor {templates} in the project root"
        raise ConfigError(f"{path}: templates_dir: no folder {looked}")
    return config
