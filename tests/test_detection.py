"""Which tickets start the procedure (§1): the tag, or keywords where customers write."""

from __future__ import annotations

import pytest

from worker.config import Config, Detection
from worker.core.detection import DetectionResult, detect

DETECTION = Config().detection
TAG = "cancelamento"
NO_TAGS: frozenset[str] = frozenset()


def by_email(
    subject: str, message: str = "", detection: Detection = DETECTION
) -> DetectionResult | None:
    return detect(subject, message, "email", NO_TAGS, TAG, detection)


def test_a_tagged_ticket_is_a_request_on_any_channel() -> None:
    result = detect("Ligação", "", "phone", frozenset({"vip", TAG}), TAG, DETECTION)
    assert result == DetectionResult(by_tag=True, tag=TAG)
    assert result.describe() == "tag cancelamento"


def test_a_configured_tag_name_is_the_one_described() -> None:
    result = detect("Oi", "", "email", frozenset({"cancel-req"}), "cancel-req", DETECTION)
    assert result is not None
    assert result.describe() == "tag cancel-req"


def test_asking_to_cancel_in_the_subject() -> None:
    result = by_email("Quero cancelar meu contrato", "Bom dia, segue meu pedido.")
    assert result == DetectionResult(by_tag=False, matched="cancelar", where="subject", tag=TAG)
    assert result.describe() == 'palavra-chave "cancelar" no assunto'


def test_asking_for_rescission_in_the_first_message() -> None:
    result = by_email("Contrato 2026", "Prezados,\n\nSolicito a rescisão do contrato.\n\nAtt,\nAna")
    assert result is not None
    assert (result.matched, result.where) == ("rescisao", "first_message")
    assert result.describe() == 'palavra-chave "rescisao" na primeira mensagem'


def test_closing_the_contract_reads_as_a_request() -> None:
    result = by_email("Encerrar o contrato")
    assert result is not None
    assert result.matched == "encerrar o contrato"


def test_cancelling_a_bill_or_an_invoice_is_not_cancelling_the_contract() -> None:
    assert (
        by_email("Cancelar boleto de dezembro", "Já paguei por PIX, podem cancelar o boleto.")
        is None
    )
    assert by_email("Cancelamento da nota fiscal 123", "A NF saiu com o CNPJ errado.") is None


def test_an_excluded_subject_does_not_hide_a_request_in_the_message() -> None:
    result = by_email("Cancelar boleto", "Na verdade quero cancelar o contrato todo.")
    assert result is not None
    assert result.where == "first_message"


def test_words_in_the_quoted_history_of_the_first_message_do_not_count() -> None:
    message = (
        "Recebi, obrigado.\n\n"
        "Em seg., 7 de dez. de 2026 às 09:00, ACME <avisos@acme.com.br> escreveu:\n"
        "> Para cancelar o recebimento destes avisos, responda SAIR."
    )
    assert by_email("RE: Aviso de manutenção", message) is None


def test_phone_tickets_are_not_read_for_keywords() -> None:
    assert detect("Quero cancelar", "Quero cancelar", "phone", NO_TAGS, TAG, DETECTION) is None


def test_keywords_disabled_leaves_only_the_tag() -> None:
    off = DETECTION.model_copy(update={"keywords_enabled": False})
    assert by_email("Quero cancelar meu contrato", detection=off) is None
    assert detect("Quero cancelar", "", "email", frozenset({TAG}), TAG, off) is not None


def test_an_unrelated_ticket_is_not_a_request() -> None:
    assert by_email("Dúvida sobre a fatura", "Qual o vencimento do próximo boleto?") is None


@pytest.mark.parametrize(
    "subject",
    [
        "Cancelamento de nota fiscal",
        "Cancelamento de boleto",
        "Cancelar os boletos",
        "Cancelar as notas fiscais",
        "Cancelar pagamento duplicado",
    ],
)
def test_articles_and_plurals_do_not_hide_a_billing_request(subject: str) -> None:
    assert by_email(subject) is None


@pytest.mark.parametrize("subject", ["Cancela meu plano", "Rescindo o contrato"])
def test_other_verb_forms_read_as_a_request(subject: str) -> None:
    assert by_email(subject) is not None
