"""A week of requests and the report's rows of it, shared by the report's tests and its
browser check."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.fakes.world import MemoryWorld, person
from worker import logs
from worker.core.calendar import SAO_PAULO
from worker.report import Period, Row, rows_of
from worker.report.read import tickets_created

MARIA = person("Maria Souza", "maria@exemplo.com.br")
JOAO = person("João Lima", "joao@exemplo.com.br")
HELENA = person("Helena Dias", "helena.pessoal@exemplo.com.br")
RAFAEL = person("Rafael Costa", "rafael@exemplo.com.br")
WEEK = Period(date(2026, 12, 7), date(2026, 12, 11))
MONDAY = datetime(2026, 12, 7, tzinfo=SAO_PAULO)


def three_failed_calls(world: MemoryWorld, ticket: str) -> None:
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
        world.later(hours=1)
        world.poll()


def report_rows(world: MemoryWorld, since: datetime = MONDAY, days: int = 5) -> list[Row]:
    tickets = tickets_created(world.helpdesk, since, since + timedelta(days=days))
    return rows_of(tickets, logs.shown)


def a_week() -> MemoryWorld:
    """Four requests: one retained, one cancelled, one not cancelled for lack of answer, one
    still waiting for the customer."""
    world = MemoryWorld()
    for holder in (MARIA, JOAO, RAFAEL):
        world.pf(holder)
    world.pf(HELENA, registered="helena@exemplo.com.br")
    retained = world.opens(JOAO)
    cancelled = world.opens(MARIA)
    unanswered = world.opens(HELENA)
    world.poll()
    world.agent_says(retained, "#revertido motivo: Preço - desconto de 10%")
    world.agent_says(cancelled, "#cancelar motivo: não usa mais")
    world.poll()
    world.agent_says(cancelled, "#contrato-cancelado")
    three_failed_calls(world, unanswered)
    world.later(days=1)
    waiting = world.opens(RAFAEL)
    world.poll()
    three_failed_calls(world, waiting)
    world.at(datetime(2026, 12, 11, 18, tzinfo=SAO_PAULO))
    world.poll()
    return world
