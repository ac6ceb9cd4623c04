"""Every message of `worker.core.messages` renders from the shipped templates, as the procedure
demands: protocol number, greeting, escaping, clean notes, and the key sentence of each e-mail."""

from __future__ import annotations

import html
import inspect
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from worker.core import messages
from worker.core.commands import CommandKind
from worker.core.effects import Message
from worker.core.messages import EMAIL_TEMPLATES, Partner, TicketFacts
from worker.render import RenderedEmail, Renderer, TemplateProblem, check_templates

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

FACTS = TicketFacts(
    protocol="48213",
    subject="Cancelamento do contrato",
    requester_name="Ana Souza",
    requester_email="ana.souza@exemplo.com.br",
    account_name="Padaria Bom Pão Ltda",
    document_label="CNPJ",
    situation_label="Situação 2 (sócio)",
    received_at="07/12/2026 09:10",
    signature="Equipe de Atendimento",
    phone="(11) 4000-1234",
    chat="https://www.exemplo.com.br/atendimento",
)
NO_CONTACTS = replace(FACTS, phone="", chat="")
CANCELLATION_PROTOCOL = "48190"
DEADLINE = "29/12/2026"

ANA: Partner = {"nome": "Ana Souza", "email": "ana.souza@exemplo.com.br"}
BRUNO: Partner = {"nome": "Bruno Lima", "email": "bruno.lima@exemplo.com.br"}
CARLA: Partner = {"nome": "Carla Dias", "email": "carla.dias@exemplo.com.br"}

Build = Callable[[TicketFacts], Message]

# One entry per public function of messages.py, with realistic arguments.
CASES: dict[str, Build] = {
    # e-mails
    "contact_attempt_holder_email": lambda f: messages.contact_attempt_holder_email(f, 3, DEADLINE),
    "contact_attempt_partners_email": lambda f: messages.contact_attempt_partners_email(
        f, 3, DEADLINE, [ANA, BRUNO, CARLA]
    ),
    "partners_confirmation_request_email": lambda f: messages.partners_confirmation_request_email(
        f, DEADLINE, [BRUNO, CARLA], CANCELLATION_PROTOCOL
    ),
    "partners_last_notice_email": lambda f: messages.partners_last_notice_email(
        f, [ANA, BRUNO], [CARLA]
    ),
    "cancellation_confirmation_email": lambda f: messages.cancellation_confirmation_email(
        f, "30/12/2026"
    ),
    "not_cancelled_unconfirmed_email": lambda f: messages.not_cancelled_unconfirmed_email(
        f, DEADLINE
    ),
    "third_party_email": messages.third_party_email,
    "worker_error_note": lambda f: messages.worker_error_note("KeyError"),
    "third_party_reinforcement_email": messages.third_party_reinforcement_email,
    "retained_email": messages.retained_email,
    # notes
    "start_note": lambda f: messages.start_note(
        f,
        "tag cancelamento",
        "e-mail",
        "ligar para o cliente (até 3 tentativas)",
        [ANA, BRUNO, CARLA],
        [BRUNO, CARLA],
        3,
    ),
    "possible_request_note": lambda f: messages.possible_request_note(
        f,
        'palavras "cancelar o contrato" na primeira mensagem',
        "multa",
        "cancelamento-possivel",
    ),
    "review_note": lambda f: messages.review_note(
        f,
        ["a conta não tem CNPJ válido na ficha", "nenhum sócio-administrador cadastrado"],
        "palavra-chave: cancelar",
    ),
    "in_progress_note": lambda f: messages.in_progress_note(
        f, "resposta pública de um agente em 05/12/2026 14:02"
    ),
    "third_party_replied_note": lambda f: messages.third_party_replied_note(
        f, "palavra-chave: quero cancelar"
    ),
    "third_party_reinforced_note": lambda f: messages.third_party_reinforced_note(f, 2, 3),
    "third_party_loop_note": lambda f: messages.third_party_loop_note(f, 3),
    "attempt_note": lambda f: messages.attempt_note(f, 2, 3, "Marina Alves"),
    "contact_email_sent_note": lambda f: messages.contact_email_sent_note(
        f, 3, DEADLINE, [ANA, BRUNO]
    ),
    "customer_replied_note": lambda f: messages.customer_replied_note(
        f, "Ana Souza", "Bom dia,\n\nPodem me ligar amanhã às 10h?"
    ),
    "retained_note": lambda f: messages.retained_note(
        f, "Preço: aceitou 20% de desconto por 6 meses", "Marina Alves"
    ),
    "cancel_pending_note": lambda f: messages.cancel_pending_note(
        f, "o cliente confirmou por telefone", "Mudou para concorrente", True
    ),
    "cancelled_note": lambda f: messages.cancelled_note(
        f, "Marina Alves", ["ana.souza@exemplo.com.br", "bruno.lima@exemplo.com.br"]
    ),
    "not_cancelled_note": lambda f: messages.not_cancelled_note(f, DEADLINE),
    "contract_system_cancelled_note": lambda f: messages.contract_system_cancelled_note(
        f, "zendesk-48213-7"
    ),
    "contract_system_failed_note": lambda f: messages.contract_system_failed_note(
        f, "zendesk-48213-7", False, 503, "Service Unavailable", 5
    ),
    "partners_requested_note": lambda f: messages.partners_requested_note(
        f, "Encerramento da empresa", DEADLINE, [BRUNO, CARLA], "Marina Alves"
    ),
    "partner_confirmed_note": lambda f: messages.partner_confirmed_note(
        f, BRUNO, "por e-mail neste ticket", [ANA, BRUNO], [CARLA]
    ),
    "partner_needs_agent_note": lambda f: messages.partner_needs_agent_note(
        f,
        CARLA,
        "Confirmo, mas só depois de falar com o contador.",
        "Confirmo, mas só depois de falar com o contador.",
        '"mas": prazo, condição, pergunta, dúvida ou outro assunto',
    ),
    "refused_note": lambda f: messages.refused_note(f, CARLA, "Não autorizo o cancelamento.", True),
    "untrusted_message_note": lambda f: messages.untrusted_message_note(
        f,
        CARLA,
        "Confirmo o cancelamento.",
        "o Zendesk indica que a mensagem pode não ter sido enviada por carla.dias@exemplo.com.br",
        held=False,
        partner=True,
    ),
    "partners_deadline_note": lambda f: messages.partners_deadline_note(
        f, DEADLINE, [ANA, BRUNO], [CARLA]
    ),
    "identity_confirmed_note": lambda f: messages.identity_confirmed_note(f, "Marina Alves"),
    "manual_note": lambda f: messages.manual_note(f, "Marina Alves"),
    "email_already_sent_note": lambda f: messages.email_already_sent_note(
        messages.manual_note(f, "Marina Alves")
    ),
    "resumed_note": lambda f: messages.resumed_note(
        f, "Marina Alves", "aguardando retorno do cliente (prazo reiniciado)"
    ),
    "command_rejected_note": lambda f: messages.command_rejected_note(
        f,
        "#socio-confirmou joao@exemplo.com.br",
        "joao@exemplo.com.br não é sócio-administrador desta conta",
        ["#tentativa", "#socio-confirmou <email>", "#manual"],
    ),
    "related_tickets_note": lambda f: messages.related_tickets_note(
        f, ["#48250 – Re: Cancelamento", "#48251 – Dúvida sobre a fatura"], DEADLINE
    ),
    "linked_note": lambda f: messages.linked_note(f, "48200", "Encerramento do contrato"),
    "customer_message_note": lambda f: messages.customer_message_note(
        f, "Maria Souza", "Resposta automática: estou fora do escritório."
    ),
    "other_ticket_message_note": lambda f: messages.other_ticket_message_note(
        f, "48260", "ana@padaria.com.br", "Por favor, me liguem às 14h."
    ),
    "situation_set_by_agent_note": lambda f: messages.situation_set_by_agent_note(
        f, "ligar para o titular (até 3 tentativas)"
    ),
    "message_after_close_note": lambda f: messages.message_after_close_note(
        f, "Ana Souza", "Obrigada! Mas ainda quero cancelar."
    ),
    "deadline_out_of_range_note": lambda f: messages.deadline_out_of_range_note(
        f, "Prazo do retorno", "31/12/9999 (sexta-feira)", DEADLINE
    ),
}

# Extra variants that take the other branches of some notes.
VARIANTS: dict[str, Build] = {
    "attempt_note_last": lambda f: messages.attempt_note(f, 3, 3, "Marina Alves"),
    "attempt_note_past_limit": lambda f: messages.attempt_note(f, 4, 3, "Marina Alves"),
    "cancel_pending_note_http": lambda f: messages.cancel_pending_note(
        f, "todos os sócios confirmaram", "", False, "zendesk-48213-7"
    ),
    "contract_system_failed_note_refused": lambda f: messages.contract_system_failed_note(
        f, "zendesk-48213-7", True, 422, "contrato não encontrado", 1
    ),
    "contact_email_sent_note_holder": lambda f: messages.contact_email_sent_note(
        f, 3, DEADLINE, []
    ),
    "partner_confirmed_note_last": lambda f: messages.partner_confirmed_note(
        f, CARLA, "registrado por Marina Alves", [ANA, BRUNO, CARLA], []
    ),
    "refused_note_holder": lambda f: messages.refused_note(
        f, CARLA, "Desisti, não quero mais cancelar.", False
    ),
    "deadline_out_of_range_note_no_wait": lambda f: messages.deadline_out_of_range_note(
        f, "Prazo do retorno", "31/12/9999 (sexta-feira)", ""
    ),
    "refused_note_doubted": lambda f: messages.refused_note(
        f, CARLA, "Não autorizo.", True, "o e-mail veio de golpe@outro.com"
    ),
    "untrusted_message_note_held": lambda f: messages.untrusted_message_note(
        f, CARLA, "Respondo depois.", "chegou por formulário web", held=True, partner=False
    ),
    "untrusted_message_note_request": lambda f: messages.untrusted_message_note(
        f,
        CARLA,
        "Quero cancelar.",
        "chegou por formulário web",
        held=False,
        partner=True,
        request=True,
    ),
    "start_note_holder": lambda f: messages.start_note(
        replace(f, account_name="", document_label="", situation_label=""),
        "palavra-chave: cancelar",
        "formulário web",
        "ligar para o titular",
        [],
        [],
        3,
    ),
}

ALL_CASES = {**CASES, **VARIANTS}
COMMON_KEYS = set(FACTS.as_context())


def _public_functions() -> set[str]:
    return {
        name
        for name, function in inspect.getmembers(messages, inspect.isfunction)
        if not name.startswith("_") and function.__module__ == messages.__name__
    }


def _build(name: str, facts: TicketFacts = FACTS) -> Message:
    return ALL_CASES[name](facts)


def _is_email(name: str) -> bool:
    return _build(name).template.startswith("emails/")


EMAIL_CASES = sorted(name for name in ALL_CASES if _is_email(name))
NOTE_CASES = sorted(name for name in ALL_CASES if not _is_email(name))


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def _email(renderer: Renderer, name: str, facts: TicketFacts = FACTS) -> RenderedEmail:
    return renderer.email(_build(name, facts))


def _visible(markup: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


# --- the table itself ---------------------------------------------------------------------


def test_table_covers_every_message_function() -> None:
    assert set(CASES) == _public_functions()


def test_email_templates_are_exactly_the_email_functions() -> None:
    templates = {_build(name).template for name in EMAIL_CASES}
    assert templates == {f"emails/{name}" for name in EMAIL_TEMPLATES}


def test_every_template_file_exists() -> None:
    for name in ALL_CASES:
        template = _build(name).template
        suffixes = (".txt.j2", ".html.j2") if template.startswith("emails/") else (".txt.j2",)
        for suffix in suffixes:
            assert (TEMPLATES / f"{template}{suffix}").is_file(), template + suffix


# --- e-mails --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EMAIL_CASES)
def test_email_shows_protocol_greeting_and_signature(renderer: Renderer, name: str) -> None:
    email = _email(renderer, name)
    for body in (email.text, _visible(email.html)):
        assert f"Protocolo: {FACTS.protocol}" in body
        assert f"Olá, {FACTS.requester_name}" in body
        assert body.rstrip().endswith(FACTS.signature)


@pytest.mark.parametrize("name", EMAIL_CASES)
def test_text_email_has_no_html_tags(renderer: Renderer, name: str) -> None:
    text = _email(renderer, name).text
    assert not re.search(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>", text)
    assert "&lt;" not in text and "&amp;" not in text
    assert "\n\n\n" not in text


@pytest.mark.parametrize("name", EMAIL_CASES)
def test_html_email_is_an_inline_fragment(renderer: Renderer, name: str) -> None:
    markup = _email(renderer, name).html
    assert markup.startswith("<div") and markup.endswith("</div>")
    assert not re.search(r"<(html|head|body|style|script|link|img)\b", markup, re.IGNORECASE)


@pytest.mark.parametrize("name", EMAIL_CASES)
def test_html_escapes_the_requester_name(renderer: Renderer, name: str) -> None:
    facts = replace(FACTS, requester_name="Ana <script>", account_name="Bar & Cia <b>")
    email = _email(renderer, name, facts)
    assert "Ana &lt;script&gt;" in email.html
    assert "<script>" not in email.html and "<b>" not in email.html
    assert "Ana <script>" in email.text  # the text version is not escaped


@pytest.mark.parametrize("name", EMAIL_CASES)
def test_no_template_leftovers_in_emails(renderer: Renderer, name: str) -> None:
    email = _email(renderer, name)
    for body in (email.text, email.html):
        assert not any(mark in body for mark in ("{{", "}}", "{%", "%}", "{#"))


def test_multiline_signature(renderer: Renderer) -> None:
    facts = replace(FACTS, signature="Equipe de Atendimento\nPadaria <Bom Pão>")
    email = _email(renderer, "third_party_email", facts)
    assert email.text.endswith("Equipe de Atendimento\nPadaria <Bom Pão>")
    assert "Equipe de Atendimento<br>Padaria &lt;Bom Pão&gt;" in email.html


# What the procedure demands of each e-mail (lower-case phrases) and what it must never say.
KEY_SENTENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "contact_attempt_holder_email": (
        ("tentamos falar com você por telefone 3 vezes", "responda a este e-mail", DEADLINE),
        ("foi cancelado", "confirmamos o cancelamento"),
    ),
    "contact_attempt_partners_email": (
        (
            "tentamos falar com você por telefone 3 vezes",
            "motivou o pedido de cancelamento",
            "todos os sócios-administradores",
            "respondendo a este e-mail",
            "bruno lima",
            "carla dias",
            DEADLINE,
        ),
        ("foi cancelado", "confirmamos o cancelamento"),
    ),
    "partners_confirmation_request_email": (
        (
            f"protocolo do cancelamento: {CANCELLATION_PROTOCOL}",
            "ana souza solicitou o cancelamento",
            "todos os sócios-administradores",
            "responda a este e-mail",
            "bruno lima",
            "carla dias",
            DEADLINE,
            "não será cancelado",
        ),
        ("foi cancelado", "confirmamos o cancelamento"),
    ),
    "partners_last_notice_email": (
        ("não foi cancelado", "todos os sócios-administradores", "carla dias"),
        ("cancelado com sucesso", "confirmamos o cancelamento", "foi cancelado com"),
    ),
    "cancellation_confirmation_email": (
        ("confirmamos o cancelamento", "30/12/2026"),
        ("não foi cancelado",),
    ),
    "not_cancelled_unconfirmed_email": (
        ("para a sua proteção", "o cancelamento não foi realizado", "ligar", "telefone"),
        (
            "cancelado com sucesso",
            "confirmamos o cancelamento",
            "você não respondeu",
            "você não atendeu",
        ),
    ),
    "third_party_email": (
        ("titular", "sócio-administrador", "telefone", "preferencialmente", "chat"),
        ("foi cancelado", "confirmamos o cancelamento"),
    ),
    "third_party_reinforcement_email": (
        (
            "por telefone, pela pessoa titular do contrato",
            "ligação é gravada",
            "não aceitamos pedidos de cancelamento por e-mail",
        ),
        ("foi cancelado", "será cancelado", "confirmamos o cancelamento", "cancelaremos"),
    ),
    "retained_email": (
        ("obrigado por continuar conosco", "continua ativo"),
        ("foi cancelado", "confirmamos o cancelamento"),
    ),
}


def test_key_sentences_cover_every_email() -> None:
    assert set(KEY_SENTENCES) == set(EMAIL_CASES)


@pytest.mark.parametrize("facts", [FACTS, NO_CONTACTS], ids=["contacts", "no-contacts"])
@pytest.mark.parametrize("name", sorted(KEY_SENTENCES))
def test_email_says_what_the_procedure_demands(
    renderer: Renderer, name: str, facts: TicketFacts
) -> None:
    required, forbidden = KEY_SENTENCES[name]
    email = _email(renderer, name, facts)
    for body in (email.text.lower(), _visible(email.html).lower()):
        flat = " ".join(body.split())
        for phrase in required:
            assert phrase in flat, f"{name}: missing {phrase!r}"
        for phrase in forbidden:
            assert phrase not in flat, f"{name}: must not say {phrase!r}"


# --- where customers reach us (emails.phone, emails.chat) -----------------------------------

# The e-mails that tell the customer to call or use the chat.
CONTACT_EMAILS = (
    "third_party_email",
    "third_party_reinforcement_email",
    "not_cancelled_unconfirmed_email",
    "contact_attempt_holder_email",
    "contact_attempt_partners_email",
    "partners_last_notice_email",
)
# Those that offer the chat too (the reinforcement and the not-cancelled e-mail ask for a call).
CHAT_EMAILS = tuple(
    name
    for name in CONTACT_EMAILS
    if name not in ("third_party_reinforcement_email", "not_cancelled_unconfirmed_email")
)


def _reads_well(body: str) -> None:
    """No gap left by an empty value: doubled spaces, a space before punctuation, "chat: ."."""
    assert not any("  " in line.strip() for line in body.splitlines()), body
    flat = " ".join(body.split())
    for bad in (" .", " ,", " :", "..", ",.", ":.", "( ", " )"):
        assert bad not in flat, f"{bad!r} in {flat!r}"


def _read(email: RenderedEmail) -> tuple[str, str]:
    """The text e-mail and what a reader sees of the HTML one (inline tags dropped in place)."""
    return email.text, _visible(re.sub(r"</?(strong|a)\b[^>]*>", "", email.html))


def test_third_party_email_shows_the_configured_phone_and_chat(renderer: Renderer) -> None:
    email = _email(renderer, "third_party_email")
    for body in _read(email):
        flat = " ".join(body.split())
        assert "preferencialmente pelo telefone (11) 4000-1234" in flat
        assert "pelo chat: https://www.exemplo.com.br/atendimento" in flat
        _reads_well(body)
    assert '<a href="https://www.exemplo.com.br/atendimento">' in email.html


def test_third_party_email_reads_well_without_phone_or_chat(renderer: Renderer) -> None:
    email = _email(renderer, "third_party_email", NO_CONTACTS)
    for body in _read(email):
        flat = " ".join(body.split())
        assert "entre em contato conosco preferencialmente por telefone ou pelo chat." in flat
        assert "pelo telefone" not in flat and "chat:" not in flat
        _reads_well(body)
    assert "<a " not in email.html


@pytest.mark.parametrize("name", CONTACT_EMAILS)
def test_contact_emails_show_the_configured_phone(renderer: Renderer, name: str) -> None:
    email = _email(renderer, name)
    for body in _read(email):
        assert "(11) 4000-1234" in body
        if name in CHAT_EMAILS:
            assert "pelo chat: https://www.exemplo.com.br/atendimento" in " ".join(body.split())
        _reads_well(body)


@pytest.mark.parametrize("name", CONTACT_EMAILS)
def test_contact_emails_read_well_without_phone_or_chat(renderer: Renderer, name: str) -> None:
    email = _email(renderer, name, NO_CONTACTS)
    for body in _read(email):
        flat = " ".join(body.split()).lower()
        assert "telefone" in flat or "ligar para a nossa central de atendimento" in flat
        assert "no número" not in flat and "chat:" not in flat and "pelo telefone" not in flat
        if name in CHAT_EMAILS:
            assert "por telefone ou pelo chat" in flat
        _reads_well(body)


def test_chat_given_in_words_follows_pelo_chat(renderer: Renderer) -> None:
    email = _email(renderer, "third_party_email", replace(FACTS, chat="no nosso site"))
    for body in _read(email):
        assert "ou pelo chat no nosso site." in " ".join(body.split())
    assert "<a " not in email.html


def test_phone_and_chat_are_escaped_in_html(renderer: Renderer) -> None:
    facts = replace(FACTS, phone="<b>4000</b>", chat='https://x.com/"><script>')
    email = _email(renderer, "third_party_email", facts)
    assert "<script>" not in email.html and "<b>" not in email.html
    assert "&lt;b&gt;4000&lt;/b&gt;" in email.html
    assert 'href="https://x.com/&#34;&gt;&lt;script&gt;"' in email.html
    assert "pelo telefone <b>4000</b>" in email.text  # the text version is not escaped
    scheme = _email(renderer, "third_party_email", replace(FACTS, chat="javascript:alert(1)"))
    assert "href" not in scheme.html  # only http(s) addresses become links


# --- notes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTE_CASES)
def test_note_is_clean_and_scannable(renderer: Renderer, name: str) -> None:
    note = renderer.note(_build(name))
    assert note.splitlines()[0].startswith("[Cancelamento] ")
    assert not any(mark in note for mark in ("{{", "}}", "{%", "%}", "{#"))
    assert "\n\n\n" not in note
    assert note == note.strip()
    assert all(line == line.rstrip() for line in note.splitlines())


RETAINED = "#revertido motivo: <texto>"
CANCEL = "#cancelar motivo: <texto>"
NOTE_COMMANDS: dict[str, tuple[str, ...]] = {
    "cancel_pending_note": ("#contrato-cancelado",),
    "contract_system_failed_note": ("#contrato-cancelado",),
    "contract_system_failed_note_refused": ("#contrato-cancelado",),
    "partner_needs_agent_note": ("#socio-confirmou carla.dias@exemplo.com.br",),
    "refused_note": (
        "#socio-confirmou carla.dias@exemplo.com.br",
        "#retomar",
        RETAINED,
        "#manual",
    ),
    "refused_note_holder": (CANCEL, RETAINED, "#manual"),
    "untrusted_message_note": ("#socio-confirmou carla.dias@exemplo.com.br", RETAINED),
    "untrusted_message_note_held": ("#identidade-confirmada", RETAINED),
    "partners_requested_note": ("#socio-confirmou <email>",),
    "in_progress_note": ("#retomar",),
    "manual_note": ("#retomar",),
    "deadline_out_of_range_note": ("#manual",),
    "review_note": ("#retomar",),
    "possible_request_note": ("#iniciar-cancelamento",),
    "related_tickets_note": ("#retomar",),
    "attempt_note": ("#tentativa", RETAINED, CANCEL),
    "start_note": ("#tentativa", RETAINED, CANCEL, "#socio-confirmou <email>"),
    "start_note_holder": ("#tentativa", RETAINED, CANCEL, "#identidade-confirmada"),
    "situation_set_by_agent_note": (RETAINED, CANCEL),
    "contact_email_sent_note": (RETAINED, CANCEL, "#socio-confirmou <email>"),
    "contact_email_sent_note_holder": (RETAINED, CANCEL, "#identidade-confirmada"),
    "customer_replied_note": (RETAINED, CANCEL, "#tentativa"),
}


@pytest.mark.parametrize("name", sorted(NOTE_COMMANDS))
def test_note_names_the_command_to_type(renderer: Renderer, name: str) -> None:
    note = renderer.note(_build(name))
    for command in NOTE_COMMANDS[name]:
        assert command in note, f"{name}: missing {command!r}"


def test_identity_command_only_where_it_matters(renderer: Renderer) -> None:
    """#identidade-confirmada only changes Situação 1 (no answer by the deadline)."""
    for name in ("start_note", "contact_email_sent_note", "situation_set_by_agent_note"):
        assert "#identidade-confirmada" not in renderer.note(_build(name)), name
    holder = replace(FACTS, situation_label="Situação 1 (titular)")
    note = renderer.note(_build("situation_set_by_agent_note", holder))
    assert "#identidade-confirmada" in note


@pytest.mark.parametrize("name", NOTE_CASES)
def test_notes_name_only_real_commands(renderer: Renderer, name: str) -> None:
    words = {kind.value for kind in CommandKind}
    for word in re.findall(r"#([^\W\d_][\w-]*)", renderer.note(_build(name))):
        assert word in words, f"{name}: #{word} is not a command"


def test_note_lists_are_dash_lines(renderer: Renderer) -> None:
    note = renderer.note(_build("partners_deadline_note"))
    assert "- Carla Dias <carla.dias@exemplo.com.br>" in note.splitlines()
    assert "NÃO cancelado" in note
    start = renderer.note(_build("start_note"))
    assert "- Bruno Lima <bruno.lima@exemplo.com.br> – confirmação pendente" in start
    assert "- Ana Souza <ana.souza@exemplo.com.br> – confirmado" in start
    rejected = renderer.note(_build("command_rejected_note")).splitlines()
    assert "- #socio-confirmou <email>" in rejected


def test_customer_text_is_quoted(renderer: Renderer) -> None:
    note = renderer.note(_build("customer_replied_note"))
    assert "> Bom dia," in note.splitlines()
    assert "> Podem me ligar amanhã às 10h?" in note.splitlines()


# --- strictness -----------------------------------------------------------------------------


def _own_keys() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name in sorted(CASES):
        context = _build(name).context
        pairs.extend((name, key) for key in sorted(set(context) - COMMON_KEYS))
        if name in EMAIL_CASES:
            pairs.extend((name, key) for key in ("protocolo", "saudacao_nome", "assinatura"))
    return pairs


@pytest.mark.parametrize(("name", "key"), _own_keys())
def test_missing_context_key_raises_naming_the_template(
    renderer: Renderer, name: str, key: str
) -> None:
    message = _build(name)
    broken = Message(message.template, {k: v for k, v in message.context.items() if k != key})
    render = renderer.email if message.template.startswith("emails/") else renderer.note
    with pytest.raises(TemplateProblem, match=re.escape(message.template)) as caught:
        render(broken)
    assert key in str(caught.value)


def test_missing_template_raises_naming_it(renderer: Renderer) -> None:
    with pytest.raises(TemplateProblem, match="emails/does_not_exist"):
        renderer.email(Message("emails/does_not_exist", FACTS.as_context()))
    with pytest.raises(TemplateProblem, match="notes/does_not_exist"):
        renderer.note(Message("notes/does_not_exist", FACTS.as_context()))


def test_syntax_error_raises_naming_the_template(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "broken.txt.j2").write_text("[Cancelamento] {% if %}\n", "utf-8")
    with pytest.raises(TemplateProblem, match=r"notes/broken\.txt\.j2.*line 1"):
        Renderer(tmp_path).note(Message("notes/broken", {}))


# --- check_templates ------------------------------------------------------------------------


def test_check_templates_passes_for_the_shipped_templates(renderer: Renderer) -> None:
    assert check_templates(renderer) == []


def test_check_templates_reports_an_empty_folder(tmp_path: Path) -> None:
    problems = check_templates(Renderer(tmp_path))
    assert any("emails/third_party.txt.j2" in problem for problem in problems)
    assert any("notes/start.txt.j2" in problem for problem in problems)


def test_check_templates_reports_a_missing_folder(tmp_path: Path) -> None:
    assert check_templates(Renderer(tmp_path / "nowhere")) != []


def test_check_templates_reports_a_broken_template(tmp_path: Path) -> None:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    email = copy / "emails" / "third_party.txt.j2"
    email.write_text(
        email.read_text("utf-8").replace(
            "{% endblock %}", "WhatsApp: {{ whatsapp }}\n{% endblock %}"
        ),
        "utf-8",
    )
    note = copy / "notes" / "manual.txt.j2"
    note.write_text(note.read_text("utf-8").replace("[Cancelamento] ", ""), "utf-8")
    (copy / "notes" / "unused.txt.j2").write_text("{% for %}", "utf-8")
    problems = check_templates(Renderer(copy))
    assert any("emails/third_party.txt.j2" in p and "whatsapp" in p for p in problems)
    assert any("notes/manual.txt.j2" in p and "[Cancelamento]" in p for p in problems)
    assert any("notes/unused.txt.j2" in p for p in problems)
    assert not any("emails/retained" in p for p in problems)


def test_check_templates_reports_an_email_without_protocol(tmp_path: Path) -> None:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    base = copy / "emails" / "_base.html.j2"
    base.write_text(base.read_text("utf-8").replace("Protocolo: {{ protocolo }}", ""), "utf-8")
    problems = check_templates(Renderer(copy))
    assert any("emails/retained.html.j2" in p and "protocol" in p for p in problems)


def test_a_typed_deadline_note_names_the_date_typed_and_the_deadline_kept(
    renderer: Renderer,
) -> None:
    kept = renderer.note(_build("deadline_out_of_range_note"))
    assert '31/12/9999 (sexta-feira) no campo "Prazo do retorno"' in kept
    assert f"continua seguindo o prazo registrado nas notas dele, até {DEADLINE}" in kept
    none = renderer.note(_build("deadline_out_of_range_note_no_wait"))
    assert "Não há nenhum prazo correndo neste ticket; o campo foi esvaziado." in none
    assert "até" not in none


# --- names and wording (issue 18: what a first reader noticed) ------------------------------

NO_NAME = replace(FACTS, requester_name="contato", requester_email="contato@padaria.example")


@pytest.mark.parametrize("name", sorted(EMAIL_CASES))
def test_a_person_the_helpdesk_knows_by_name_is_greeted_by_it(
    renderer: Renderer, name: str
) -> None:
    email = _email(renderer, name, FACTS)
    assert "Olá, Ana Souza" in email.text or "Olá, Bruno" in email.text


@pytest.mark.parametrize("name", sorted(EMAIL_CASES))
def test_an_address_without_a_name_gets_a_neutral_greeting_not_its_local_part(
    renderer: Renderer, name: str
) -> None:
    email = _email(renderer, name, NO_NAME)
    for body in (email.text, _visible(email.html)):
        assert "contato," not in body and "contato!" not in body
        assert "Olá!" in body or "Olá, Bruno" in body


def test_the_partners_email_shows_the_protocol_once_when_it_is_this_tickets(
    renderer: Renderer,
) -> None:
    message = messages.partners_confirmation_request_email(
        FACTS, DEADLINE, [BRUNO, CARLA], FACTS.protocol
    )
    email = renderer.email(message)
    for body in (email.text, _visible(email.html)):
        assert body.count(FACTS.protocol) == 1, body


def test_the_partners_email_names_another_tickets_cancellation_protocol(
    renderer: Renderer,
) -> None:
    email = _email(renderer, "partners_confirmation_request_email", FACTS)
    assert "Protocolo do cancelamento: 48190" in email.text
    assert email.text.count("48190") == 2  # the reference line and the sentence


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.endswith("_email")))
def test_no_email_assumes_the_readers_or_the_holders_gender(renderer: Renderer, name: str) -> None:
    """The holder is "a pessoa titular", never "o titular"/"a titular": the reader may be either."""
    email = _email(renderer, name, FACTS)
    for body in (email.text.lower(), _visible(email.html).lower()):
        flat = " ".join(body.split())
        for gendered in ("o titular", "a titular ", "próprio titular", "própria titular"):
            assert gendered not in flat.replace("pessoa titular", "")
