"""Renders the engine's `Message`s: e-mail bodies (plain text and HTML) and ficha notes.

Part of the imperative shell: it reads the Jinja2 templates under the templates folder
(`emails/NAME.txt.j2`, `emails/NAME.html.j2`, `notes/NAME.txt.j2`). Templates are strict: a value
a template uses that the message does not carry is an error (`TemplateProblem`), never a blank.
`check_templates` renders every message of `worker.core.messages` with sample values, so an edited
template is checked before it reaches a customer.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import escape

from worker.core import messages
from worker.core.effects import Message
from worker.core.messages import EMAIL_TEMPLATES, Partner, TicketFacts

TEXT_SUFFIX = ".txt.j2"
HTML_SUFFIX = ".html.j2"


class TemplateProblem(Exception):
    """A template is missing, broken, or uses a value its message does not provide."""

    def __init__(self, template: str, problem: str) -> None:
        super().__init__(f"template {template}: {problem}")
        self.template = template
        self.problem = problem


@dataclass(frozen=True)
class RenderedEmail:
    text: str
    html: str


def _environment(loader: jinja2.BaseLoader, *, autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=loader,
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _describe(exc: Exception, templates_dir: Path) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"file {exc.name} not found in {templates_dir}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.name or exc.filename or "?"
        return f"syntax error in {where}, line {exc.lineno}: {exc.message}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"uses a value the message does not provide ({exc.message})"
    return f"cannot be rendered ({type(exc).__name__}: {exc})"


class Renderer:
    """Two environments over the same folder: HTML autoescaped, plain text as written."""

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = templates_dir
        loader = jinja2.FileSystemLoader(templates_dir)
        self._html = _environment(loader, autoescape=True)
        self._text = _environment(loader, autoescape=False)

    def email(self, message: Message) -> RenderedEmail:
        """The e-mail `message.template` (e.g. "emails/third_party") as text and HTML."""
        text = self._render(self._text, message.template + TEXT_SUFFIX, message.context)
        html = self._render(self._html, message.template + HTML_SUFFIX, message.context)
        return RenderedEmail(text=text.strip(), html=html.strip())

    def note(self, message: Message) -> str:
        """The ficha note `message.template` (e.g. "notes/start") as plain text."""
        return self._render(self._text, message.template + TEXT_SUFFIX, message.context).strip()

    def load(self, name: str) -> None:
        """Compile one template file (a name relative to the folder); raise on any problem."""
        environment = self._html if name.endswith(HTML_SUFFIX) else self._text
        try:
            environment.get_template(name)
        except (jinja2.TemplateError, OSError, UnicodeDecodeError) as exc:
            raise TemplateProblem(name, _describe(exc, self.templates_dir)) from exc

    def _render(self, environment: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
        try:
            return environment.get_template(name).render(context)
        except (
            jinja2.TemplateError,
            OSError,
            UnicodeDecodeError,
            TypeError,
            ValueError,
            AttributeError,
            KeyError,
            IndexError,
        ) as exc:
            raise TemplateProblem(name, _describe(exc, self.templates_dir)) from exc


# --- checking every message ---------------------------------------------------------------

MessageFunction = Callable[..., Message]

_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_LEFTOVERS = ("{{", "}}", "{%", "%}", "{#", "#}")
_NOTE_PREFIX = "[Cancelamento]"

_SAMPLE_PARTNERS: list[Partner] = [
    {"nome": "Bruno Lima", "email": "bruno.lima@exemplo.com.br"},
    {"nome": "Carla Dias", "email": "carla.dias@exemplo.com.br"},
]
_SAMPLE_STRINGS = {
    "deadline": "29/12/2026",
    "cancelled_on": "30/12/2026",
    "cancellation_protocol": "48190",
    "agent": "Marina (Atendimento)",
    "author": "Ana Souza <ana.souza@exemplo.com.br>",
    "excerpt": "Bom dia,\nPodem me ligar amanhã à tarde?",
    "line": "#socio-confirmou fulano",
}
_SAMPLE_LISTS = {
    "tickets": ["#48250 – Dúvida sobre a fatura"],
    "recipients": ["ana.souza@exemplo.com.br", "bruno.lima@exemplo.com.br"],
    "valid_commands": ["#tentativa", "#manual", "#retomar"],
}


def message_functions() -> list[tuple[str, MessageFunction]]:
    """Every public function of `worker.core.messages` that returns a `Message`."""
    found: list[tuple[str, MessageFunction]] = []
    for name, function in inspect.getmembers(messages, inspect.isfunction):
        if name.startswith("_") or function.__module__ != messages.__name__:
            continue
        if typing.get_type_hints(function).get("return") is Message:
            found.append((name, function))
    return found


def sample_facts(*, full: bool = True) -> TicketFacts:
    """A ticket's facts; `full=False` leaves the optional ones empty (unknown account...)."""
    return TicketFacts(
        protocol="48213",
        subject="Cancelamento do contrato",
        requester_name="Ana Souza",
        requester_email="ana.souza@exemplo.com.br",
        account_name="Padaria Bom Pão Ltda" if full else "",
        document_label="CNPJ" if full else "",
        situation_label="Situação 2 (sócio)" if full else "",
        received_at="07/12/2026 09:10",
        signature="Equipe de Atendimento\nPadaria Bom Pão" if full else "Equipe de Atendimento",
        phone="(11) 4000-1234" if full else "",
        chat="https://www.exemplo.com.br/atendimento" if full else "",
    )


def _sample_value(name: str, hint: Any, full: bool) -> Any:
    if hint is TicketFacts:
        return sample_facts(full=full)
    if hint is bool:
        return full
    if hint is int:
        return 3 if full else 1
    if hint is str:
        return _SAMPLE_STRINGS.get(name, f"exemplo de {name}")
    if hint == Partner:
        return dict(_SAMPLE_PARTNERS[0])
    if hint == list[Partner]:
        return [dict(p) for p in _SAMPLE_PARTNERS] if full else []
    if hint == list[str]:
        return list(_SAMPLE_LISTS.get(name, [f"exemplo de {name}"])) if full else []
    if hint is Message:  # a note wrapped in another (email_already_sent_note)
        return messages.attempt_note(sample_facts(full=full), 3, 3, _SAMPLE_STRINGS["agent"])
    raise TypeError(f"no sample value for parameter {name!r} of type {hint!r}")


def sample_arguments(function: MessageFunction, *, full: bool = True) -> dict[str, Any]:
    """Arguments for a message function, built from its type hints."""
    hints = typing.get_type_hints(function)
    return {
        name: _sample_value(name, hints.get(name), full)
        for name in inspect.signature(function).parameters
    }


def _email_problems(renderer: Renderer, message: Message) -> list[str]:
    rendered = renderer.email(message)
    problems: list[str] = []
    context = message.context
    for suffix, body, escaped in (
        (TEXT_SUFFIX, rendered.text, False),
        (HTML_SUFFIX, rendered.html, True),
    ):
        name = message.template + suffix

        def shown(value: Any, body: str = body, escaped: bool = escaped) -> bool:
            text = str(escape(value)) if escaped else str(value)
            return text in body

        for key, what in (
            ("protocolo", "the protocol number"),
            ("protocolo_cancelamento", "the cancellation ticket's protocol number"),
            ("solicitante_nome", "the requester's name"),
        ):
            if key in context and not shown(context[key]):
                problems.append(f"template {name}: does not show {what} ({{{{ {key} }}}})")
        signature = str(context.get("assinatura", "")).strip().splitlines()
        if signature and not shown(signature[-1]):
            problems.append(f"template {name}: does not show the signature ({{{{ assinatura }}}})")
        if any(mark in body for mark in _LEFTOVERS):
            problems.append(f"template {name}: template syntax left in the output")
    if _HTML_TAG.search(rendered.text):
        problems.append(
            f"template {message.template}{TEXT_SUFFIX}: HTML tags in a plain-text e-mail"
        )
    if re.search(r"<(html|head|body)\b", rendered.html, re.IGNORECASE):
        problems.append(
            f"template {message.template}{HTML_SUFFIX}: must be a fragment, without <html>/<head>"
        )
    return problems


def _note_problems(renderer: Renderer, message: Message) -> list[str]:
    note = renderer.note(message)
    name = message.template + TEXT_SUFFIX
    problems: list[str] = []
    if not note.startswith(_NOTE_PREFIX):
        problems.append(f"template {name}: the first line must start with {_NOTE_PREFIX!r}")
    if any(mark in note for mark in _LEFTOVERS):
        problems.append(f"template {name}: template syntax left in the output")
    if "\n\n\n\n" in note:
        problems.append(f"template {name}: three blank lines in a row")
    return problems


def _message_problems(renderer: Renderer, message: Message) -> list[str]:
    try:
        if message.template.startswith("emails/"):
            return _email_problems(renderer, message)
        if message.template.startswith("notes/"):
            return _note_problems(renderer, message)
    except TemplateProblem as exc:
        return [str(exc)]
    return [f"template {message.template}: neither emails/ nor notes/"]


def check_templates(renderer: Renderer) -> list[str]:
    """Problems found by compiling every template file and rendering every message of
    `worker.core.messages` with sample values (with and without optional data); [] when fine."""
    folder = renderer.templates_dir
    if not folder.is_dir():
        return [f"templates folder {folder} does not exist"]
    problems: list[str] = []
    for path in sorted(folder.rglob("*.j2")):
        try:
            renderer.load(path.relative_to(folder).as_posix())
        except TemplateProblem as exc:
            problems.append(str(exc))
    used: set[str] = set()
    for function_name, function in message_functions():
        for full in (True, False):
            try:
                message = function(**sample_arguments(function, full=full))
            except TypeError as exc:
                problems.append(f"messages.{function_name}: cannot be checked: {exc}")
                break
            used.add(message.template)
            problems.extend(_message_problems(renderer, message))
    for email in EMAIL_TEMPLATES:
        if f"emails/{email}" not in used:
            problems.append(f"emails/{email}: in EMAIL_TEMPLATES but no message function uses it")
    return list(dict.fromkeys(problems))
