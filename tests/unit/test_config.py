"""The configuration file: the shipped one is exactly the defaults, and a wrong one stops the
worker with a message that names the key and says what is wrong."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from worker.config import (
    DEFAULT_CONFIG_PATH,
    PROJECT_ROOT,
    Config,
    ConfigError,
    ContractHttp,
    load_config,
    parse_config,
)

SHIPPED = PROJECT_ROOT / DEFAULT_CONFIG_PATH


def _write(tmp_path: Path, text: str, name: str = "worker.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load_text(tmp_path: Path, text: str) -> Config:
    return load_config(_write(tmp_path, text))


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load_text(tmp_path, text)
    return str(caught.value)


# --- the shipped file ------------------------------------------------------------------------


def test_shipped_file_equals_the_defaults() -> None:
    assert load_config(SHIPPED) == Config()


def test_shipped_file_loads_by_its_documented_relative_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    assert load_config(Path("config/worker.yaml")) == Config()


def test_shipped_file_loads_from_another_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(SHIPPED)
    assert config.resolved_templates_dir(SHIPPED) == PROJECT_ROOT / "templates"


def _model_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def test_shipped_file_lists_every_key_in_the_models_order() -> None:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert list(data) == _model_keys(Config)
    defaults = Config()
    for name in Config.model_fields:
        value = getattr(defaults, name)
        if isinstance(value, BaseModel):
            assert list(data[name]) == _model_keys(type(value)), name
    for reason in data["reasons"]:
        assert list(reason) == ["value", "label"]


def test_shipped_file_documents_the_http_endpoint_keys() -> None:
    """`contract_cancellation.http` is null by default, so its keys are a commented example."""
    text = SHIPPED.read_text(encoding="utf-8")
    for key in ContractHttp.model_fields:
        assert re.search(rf"^\s*#\s+{key}: ", text, re.MULTILINE), key


def test_shipped_file_comments_every_key() -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        key = re.match(r"^\s*([a-z_]+):", line)
        if key is None:
            continue
        commented = "#" in line or lines[number - 1].lstrip().startswith("#")
        assert commented, f"line {number + 1}: {key[1]} has no comment"


def test_shipped_file_says_where_secrets_come_from() -> None:
    header = SHIPPED.read_text(encoding="utf-8").split("\nhelpdesk:")[0]
    assert "never" in header.lower()
    for variable in (
        "ZENDESK_SUBDOMAIN",
        "ZENDESK_EMAIL",
        "ZENDESK_API_TOKEN",
        "ZENDESK_OAUTH_TOKEN",
        "ZENDESK_URL",
        "FRESHDESK_API_KEY",
        "FRESHDESK_DOMAIN",
        "FRESHDESK_URL",
    ):
        assert variable in header, variable
    assert "beside this file" in header
    assert "project root" in header


# --- files that mean "the defaults" ----------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_empty_file_is_the_defaults(tmp_path: Path, text: str) -> None:
    assert _load_text(tmp_path, text) == Config()


def test_partial_file_keeps_every_other_default(tmp_path: Path) -> None:
    config = _load_text(tmp_path, "procedure: {max_call_attempts: 5}\n")
    defaults = Config()
    assert config.procedure.max_call_attempts == 5
    assert config.procedure == defaults.procedure.model_copy(update={"max_call_attempts": 5})
    assert config.model_dump(exclude={"procedure"}) == defaults.model_dump(exclude={"procedure"})


def test_section_with_every_key_commented_out_is_the_defaults(tmp_path: Path) -> None:
    text = "procedure:\n  # max_call_attempts: 5\ncontract_cancellation:\n"
    assert _load_text(tmp_path, text) == Config()


# --- invalid files: each message names the key and the problem -------------------------------


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = _error(tmp_path, "procedure:\n  max_call_atempts: 5\n")
    assert "procedure.max_call_atempts: unknown key" in message
    assert "did you mean 'max_call_attempts'?" in message


def test_key_in_the_wrong_section_says_where_it_belongs(tmp_path: Path) -> None:
    message = _error(tmp_path, "max_call_attempts: 5\n")
    assert "max_call_attempts: unknown key here" in message
    assert "'procedure' section" in message


def test_unknown_key_without_a_close_match_lists_the_keys(tmp_path: Path) -> None:
    message = _error(tmp_path, "calendar:\n  xyz: 1\n")
    assert "calendar.xyz: unknown key" in message
    assert "state, include_optional, extra_holidays" in message


def test_wrong_type(tmp_path: Path) -> None:
    message = _error(tmp_path, "procedure:\n  max_call_attempts: three\n")
    assert "procedure.max_call_attempts:" in message
    assert "valid integer" in message
    assert "'three'" in message


def test_wrong_type_for_a_boolean(tmp_path: Path) -> None:
    message = _error(tmp_path, "detection:\n  keywords_enabled: sim\n")
    assert "detection.keywords_enabled: must be true or false, not 'sim'" in message


def test_scalar_where_a_section_goes(tmp_path: Path) -> None:
    message = _error(tmp_path, "procedure: 5\n")
    assert "procedure: must be a section" in message


def test_out_of_range(tmp_path: Path) -> None:
    message = _error(tmp_path, "procedure:\n  max_call_attempts: 0\n")
    assert "procedure.max_call_attempts:" in message
    assert "greater than or equal to 1" in message
    assert "(got 0)" in message


def test_empty_value_says_it_is_empty(tmp_path: Path) -> None:
    message = _error(tmp_path, "procedure:\n  max_call_attempts:\n")
    assert "procedure.max_call_attempts:" in message
    assert "empty" in message


def test_empty_list_value_says_how_to_write_an_empty_list(tmp_path: Path) -> None:
    message = _error(tmp_path, "detection:\n  verbs:\n")
    assert "detection.verbs: is empty; write []" in message


def test_bad_regular_expression_names_the_item_and_the_pattern(tmp_path: Path) -> None:
    text = "detection:\n  verbs:\n    - '\\bcancelar\\b'\n    - '(cancel'\n"
    message = _error(tmp_path, text)
    assert "detection.verbs.1:" in message
    assert "'(cancel'" in message
    assert "not a valid regular expression" in message
    # The other patterns are not dumped into the message.
    assert "cancelar" not in message


def test_bad_regular_expression_in_auto_replies(tmp_path: Path) -> None:
    message = _error(tmp_path, "replies:\n  auto_reply_patterns: ['[ausente']\n")
    assert "replies.auto_reply_patterns.0:" in message
    assert "'[ausente'" in message


def test_pattern_matching_empty_text_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, "detection:\n  other_objects: ['boleto|']\n")
    assert "detection.other_objects.0:" in message
    assert "'boleto|' matches empty text" in message


def test_unknown_state(tmp_path: Path) -> None:
    message = _error(tmp_path, "calendar:\n  state: XY\n")
    assert "calendar.state: unknown state 'XY'" in message
    assert "SP" in message


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("SP", "SP"),
        ("sp", "SP"),
        ("Rio de Janeiro", "RJ"),
        ("são paulo capital", "São Paulo Capital"),
    ],
)
def test_state_spellings(tmp_path: Path, written: str, kept: str) -> None:
    assert _load_text(tmp_path, f"calendar:\n  state: {written}\n").calendar.state == kept


def test_bad_extra_holiday_day_first(tmp_path: Path) -> None:
    message = _error(tmp_path, 'calendar:\n  extra_holidays: ["31/12"]\n')
    assert "calendar.extra_holidays.0:" in message
    assert "'31/12'" in message
    assert "YYYY-MM-DD" in message
    assert 'write "12-31"' in message


@pytest.mark.parametrize("written", ['"02-30"', '"13-01"', '"2026-02-30"', '"Natal"', "1225"])
def test_extra_holiday_that_is_no_day(tmp_path: Path, written: str) -> None:
    message = _error(tmp_path, f"calendar:\n  extra_holidays: [{written}]\n")
    assert "calendar.extra_holidays.0:" in message


def test_unquoted_impossible_date_is_a_yaml_error_with_its_line(tmp_path: Path) -> None:
    message = _error(tmp_path, "calendar:\n  extra_holidays:\n    - 2026-02-30\n")
    assert "not a real date" in message
    assert "line 3" in message


def test_extra_holidays_accept_dates_quoted_or_not_and_yearly_days(tmp_path: Path) -> None:
    text = 'calendar:\n  extra_holidays: [2026-11-20, "2026-12-24", "01-25", "02-29"]\n'
    config = _load_text(tmp_path, text)
    assert config.calendar.extra_holidays == [
        date(2026, 11, 20),
        date(2026, 12, 24),
        "01-25",
        "02-29",
    ]


def test_contract_mode_email(tmp_path: Path) -> None:
    message = _error(tmp_path, "contract_cancellation:\n  mode: email\n")
    assert "contract_cancellation.mode:" in message
    assert "'manual' or 'http'" in message
    assert "'email'" in message


def test_contract_mode_http_needs_its_endpoint(tmp_path: Path) -> None:
    message = _error(tmp_path, "contract_cancellation:\n  mode: http\n")
    assert "contract_cancellation: mode is http, so the http section" in message


def test_contract_mode_http_with_its_endpoint_is_accepted(tmp_path: Path) -> None:
    text = "contract_cancellation:\n  mode: http\n  http:\n    url: https://contratos.test/c\n"
    contract = _load_text(tmp_path, text).contract_cancellation
    assert contract.mode == "http"
    assert contract.http == ContractHttp(url="https://contratos.test/c")


def test_contract_http_url_missing_or_partial(tmp_path: Path) -> None:
    message = _error(tmp_path, "contract_cancellation:\n  mode: http\n  http: {}\n")
    assert "contract_cancellation.http.url: required, but missing" in message
    message = _error(tmp_path, "contract_cancellation: {mode: http, http: {url: contratos.test}}")
    assert "contract_cancellation.http.url: 'contratos.test' is not a full http(s) URL" in message


def test_a_secret_pasted_as_secret_env_is_not_repeated(tmp_path: Path) -> None:
    text = (
        "contract_cancellation:\n  http:\n    url: https://c.test\n    secret_env: s3cr3t/K3y==\n"
    )
    message = _error(tmp_path, text)
    assert "contract_cancellation.http.secret_env:" in message
    assert "s3cr3t" not in message


def test_tags_without_spaces_and_all_different(tmp_path: Path) -> None:
    message = _error(tmp_path, "tags:\n  review: cancelamento revisar\n")
    assert "tags.review: 'cancelamento revisar' contains a space" in message
    message = _error(tmp_path, "tags:\n  review: cancelamento\n")
    assert "tags:" in message
    assert "'cancelamento'" in message


def test_reason_values(tmp_path: Path) -> None:
    message = _error(tmp_path, "reasons:\n  - {value: Preço, label: Preço}\n")
    assert "reasons.0.value: 'Preço' may only use a-z, 0-9 and _" in message
    text = "reasons:\n  - {value: preco, label: Preço}\n  - {value: preco, label: Valor}\n"
    assert "reasons: value 'preco' appears more than once" in _error(tmp_path, text)
    assert "reasons: needs at least 1 item" in _error(tmp_path, "reasons: []\n")


def test_phrases_are_kept_without_accents_or_case(tmp_path: Path) -> None:
    config = _load_text(tmp_path, "replies:\n  refuse: [Não Autorizo]\n")
    assert config.replies.refuse == ["nao autorizo"]
    message = _error(tmp_path, "replies:\n  affirm: ['   ']\n")
    assert "replies.affirm.0: is blank" in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    message = _error(tmp_path, "helpdesk: demo\nprocedure:\n  max_call_attempts: 0\n")
    assert message.splitlines()[0].endswith("is invalid:")
    assert "helpdesk: Input should be 'zendesk' or 'freshdesk' (got 'demo')" in message
    assert "procedure.max_call_attempts:" in message


def test_yaml_list_at_top_level(tmp_path: Path) -> None:
    message = _error(tmp_path, "- procedure\n- calendar\n")
    assert "top level must be a mapping" in message
    assert "not a list" in message


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "procedure:\n  max_call_attempts: [3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not valid YAML")
    assert f'in "{path}", line' in message


def test_tab_indentation_gets_a_hint(tmp_path: Path) -> None:
    message = _error(tmp_path, "procedure:\n\tmax_call_attempts: 3\n")
    assert "indent with spaces, not tabs" in message


def test_repeated_key_is_an_error_not_a_silent_replacement(tmp_path: Path) -> None:
    text = "procedure:\n  max_call_attempts: 5\nprocedure:\n  first_run_lookback_days: 10\n"
    message = _error(tmp_path, text)
    assert "found the key 'procedure' twice" in message
    assert "line 3" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match="no such configuration file") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder, not a configuration file"):
        load_config(tmp_path)


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "worker.yaml"
    path.write_bytes("emails:\n  signature: Equipe Só\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_templates_dir_that_does_not_exist(tmp_path: Path) -> None:
    message = _error(tmp_path, "templates_dir: modelos-que-nao-existem\n")
    assert "templates_dir: no folder" in message
    assert str(tmp_path / "modelos-que-nao-existem") in message
    assert str(PROJECT_ROOT / "modelos-que-nao-existem") in message


def test_templates_dir_beside_the_file_wins(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    path = _write(tmp_path, "")
    config = load_config(path)
    assert config.resolved_templates_dir(path) == tmp_path / "templates"


def test_absolute_templates_dir_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    message = _error(tmp_path, f"templates_dir: '{missing}'\n")
    assert f"templates_dir: no folder {missing}" in message


# --- parse_config on its own -----------------------------------------------------------------


@pytest.mark.parametrize("data", [None, {}])
def test_parse_nothing_is_the_defaults(data: Any) -> None:
    assert parse_config(data) == Config()


def test_parse_names_its_source() -> None:
    with pytest.raises(ConfigError, match=r"^WORKER_CONFIG: the top level must be a mapping"):
        parse_config("texto", "WORKER_CONFIG")
