"""What people read, masked: personal data (LGPD: CPF, CNPJ, e-mail addresses, phone numbers) and
credentials (the configured secrets by value; Authorization headers, Basic/Bearer schemes, URL
user info, secret parameters by pattern).

`shown` is the one road for any text a person reads: every log event (the last processor before
rendering, over every string, so no code path can forget it), every error the CLI prints, every
problem `check` lists. Helpdesks echo what they were sent in their error bodies, so the text of
an error is never trusted to be clean.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import structlog

# \w is Unicode here: accented local parts (josé.araújo@) and IDN domains (padaria-pão.com.br,
# or their xn-- form) are addresses too.
_EMAIL = re.compile(r"([\w%+-])[\w.%+'-]*@(?:[\w-]+\.)+[\w-]{2,}")
_CNPJ = re.compile(r"\b[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2}\b")
_CPF = re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b")
_PHONE = re.compile(r"(?<!\w)(\+?55\s?)?\(?\d{2}\)?\s?9?\d{4}[-\s]?\d{4}\b")

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]+@")
_AUTH_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,;}]+")
_AUTH_SCHEME = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{6,}")
_SECRET_PARAM = re.compile(
    r"(?i)\b((?:access_token|api_?key|api_token|password|secret|token)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"'&,;}]+"
)
HIDDEN = "***"

# Variables whose values are credentials, besides any named like one (_TOKEN, _SECRET, ...).
SECRET_VARIABLES = (
    "ZENDESK_API_TOKEN",
    "ZENDESK_OAUTH_TOKEN",
    "FRESHDESK_API_KEY",
    "ZENDESK_WEBHOOK_SECRET",
    "FRESHDESK_WEBHOOK_TOKEN",
)
_SECRET_NAME = re.compile(r"(?:TOKEN|SECRET|PASSWORD|API_KEY)$")
_URL_VARIABLES = ("ZENDESK_URL", "FRESHDESK_URL")
MIN_SECRET = 6  # a shorter value would hide ordinary words; patterns still catch its context
_secrets: set[str] = set()


def remember_secrets(env: Mapping[str, str], names: Iterable[str] = ()) -> None:
    """The configured credentials, hidden by value from then on (also as the Basic values the
    clients send, which an error body may echo); `names`: more variables that hold one."""
    known = {*SECRET_VARIABLES, *names}
    found = {
        value.strip() for name, value in env.items() if name in known or _SECRET_NAME.search(name)
    }
    for name in _URL_VARIABLES:
        password = urlsplit(env.get(name, "").strip()).password
        if password:
            found.update({password, unquote(password)})
    token, email, key = (
        env.get(name, "").strip()
        for name in ("ZENDESK_API_TOKEN", "ZENDESK_EMAIL", "FRESHDESK_API_KEY")
    )
    if token and email:
        found.add(base64.b64encode(f"{email}/token:{token}".encode()).decode())
    if key:
        found.add(base64.b64encode(f"{key}:X".encode()).decode())
    _secrets.update(value for value in found if len(value) >= MIN_SECRET)


def redact(text: str) -> str:
    """Credentials out of `text`: the remembered ones by value, any by pattern."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    text = _URL_USERINFO.sub(rf"\1{HIDDEN}@", text)
    text = _AUTH_HEADER.sub(rf"\1{HIDDEN}", text)
    text = _AUTH_SCHEME.sub(rf"\1 {HIDDEN}", text)
    return _SECRET_PARAM.sub(rf"\1{HIDDEN}", text)


def mask(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@***", text)
    text = _CNPJ.sub("**.***.***/****-**", text)
    text = _CPF.sub("***.***.***-**", text)
    return _PHONE.sub("(**) *****-****", text)


def shown(text: str) -> str:
    """Any text as a person may read it: credentials and personal data masked."""
    return mask(redact(text))


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_value(item) for item in value)
    return value


def mask_personal_data(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        event[key] = _mask_value(value)
    return event


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written (not when logging was configured), so a
    replaced stream (a test's capture, a daemon's redirect) never leaves a closed file behind."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(fmt: Literal["json", "console"] = "json", level: int = logging.INFO) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
