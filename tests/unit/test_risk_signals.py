"""External signals: BODACC and recherche-entreprises clients, tested with ``responses``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
import responses

from erp_recovery.engines.signals.clients import (
    BODACC_URL,
    RECHERCHE_URL,
    SignalsService,
    SignalsSettings,
    parse_bodacc_record,
)
from erp_recovery.engines.signals.http import JsonClient, RateLimiter, TtlCache
from erp_recovery.errors import RemoteError, TransientError

SIREN = "833310592"

# Shapes of the records follow the BODACC "annonces-commerciales" dataset (legal-rules.md §6) and
# the field examples of the annuaire-entreprises BODACC client.
OPENING = {
    "id": "A202600512345",
    "publicationavis": "A",
    "parution": "20260112",
    "dateparution": "2026-06-10",
    "numeroannonce": 1234,
    "typeavis": "annonce",
    "typeavis_lib": "Avis initial",
    "familleavis": "collective",
    "familleavis_lib": "Procédures collectives",
    "registre": "833 310 592,833310592",
    "tribunal": "TRIBUNAL DE COMMERCE DE BORDEAUX",
    "commercant": "DJ BATIMENT",
    "jugement": json.dumps(
        {
            "type": "initial",
            "famille": "Jugement d'ouverture",
            "nature": "Jugement d'ouverture d'une procédure de redressement judiciaire",
            "date": "2026-06-02",
        }
    ),
}
CLOSED = {
    **OPENING,
    "id": "A202000233993",
    "dateparution": "2020-11-30",
    "jugement": json.dumps(
        {
            "date": "2020-11-19",
            "type": "initial",
            "famille": "Jugement de clôture",
            "nature": "Jugement de clôture pour insuffisance d'actif",
        }
    ),
}
COMPANY = {
    "siren": SIREN,
    "nom_complet": "DJ BATIMENT",
    "etat_administratif": "A",
    "date_creation": "2017-10-01",
    "date_fermeture": None,
    "categorie_entreprise": "PME",
    "nature_juridique": "5720",
    "activite_principale": "43.39Z",
    "statut_diffusion": "O",
}


def service(tmp_path, **overrides) -> tuple[SignalsService, list[float]]:
    slept: list[float] = []
    settings = SignalsSettings(enabled=True, cache_dir=str(tmp_path / "cache"), **overrides)
    return SignalsService(settings, sleep=slept.append, today=lambda: dt.date(2026, 6, 30)), slept


def test_off_by_default():
    assert SignalsSettings().enabled is False


def test_parse_bodacc_opening_and_closing_judgments():
    opening = parse_bodacc_record(OPENING, SIREN)
    assert opening is not None
    assert opening.kind == "redressement"
    assert opening.is_opening
    assert opening.judgment_date == dt.date(2026, 6, 2)
    # C. com. R622-24: two months from the BODACC publication to declare the claim
    assert opening.claim_deadline == dt.date(2026, 8, 10)
    closing = parse_bodacc_record(CLOSED, SIREN)
    assert closing is not None and closing.kind == "cloture" and not closing.is_opening
    assert parse_bodacc_record({**OPENING, "typeavis": "annulation"}, SIREN) is None
    assert parse_bodacc_record({**OPENING, "registre": ["412 345 670", "412345670"]}, SIREN) is None
    assert parse_bodacc_record({**OPENING, "registre": ["833 310 592", "833310592"]}, SIREN) is not None


@responses.activate
def test_signals_for_a_company_in_proceedings(tmp_path):
    responses.get(RECHERCHE_URL, json={"results": [COMPANY], "total_results": 1})
    bodacc = responses.get(BODACC_URL, json={"total_count": 2, "results": [CLOSED, OPENING]})
    signals_service, _ = service(tmp_path)
    signals = signals_service.signals_for(SIREN)
    assert signals.status is not None and signals.status.active
    assert signals.status.created_on == dt.date(2017, 10, 1)
    assert [p.published_on for p in signals.proceedings] == [dt.date(2026, 6, 10), dt.date(2020, 11, 30)]
    assert signals.open_proceeding is not None
    assert signals.open_proceeding.announcement_id == "A202600512345"
    query = bodacc.calls[0].request.url
    assert "familleavis%3D%22collective%22" in query
    assert "833310592" in query


@responses.activate
def test_restricted_company_is_not_stored(tmp_path):
    responses.get(RECHERCHE_URL, json={"results": [{**COMPANY, "statut_diffusion": "P"}]})
    bodacc = responses.get(BODACC_URL, json={"results": [OPENING]})
    signals_service, _ = service(tmp_path)
    signals = signals_service.signals_for(SIREN)
    assert signals.restricted
    assert signals.status is None and signals.proceedings == ()
    assert bodacc.call_count == 0
    cache_files = list((tmp_path / "cache").glob("*.json"))
    assert cache_files == []


@responses.activate
def test_answers_are_cached(tmp_path):
    company = responses.get(RECHERCHE_URL, json={"results": [COMPANY]})
    bodacc = responses.get(BODACC_URL, json={"results": []})
    first, _ = service(tmp_path)
    first.signals_for(SIREN)
    second, _ = service(tmp_path)  # a new run, same cache folder
    assert second.signals_for(SIREN).status is not None
    assert (company.call_count, bodacc.call_count) == (1, 1)


def test_cache_expires_after_ttl(tmp_path):
    now = [1000.0]
    cache = TtlCache(tmp_path, ttl_seconds=60, clock=lambda: now[0])
    cache.put("k", {"a": 1})
    now[0] += 59
    assert cache.get("k") == {"a": 1}
    now[0] += 2
    assert cache.get("k") is None


@responses.activate
def test_retries_5xx_and_honours_retry_after(tmp_path):
    responses.get(RECHERCHE_URL, status=503)
    responses.get(RECHERCHE_URL, status=429, headers={"Retry-After": "3"})
    responses.get(RECHERCHE_URL, json={"results": [COMPANY]})
    responses.get(BODACC_URL, body=requests.ConnectionError("connection reset"))
    responses.get(BODACC_URL, json={"results": []})
    signals_service, slept = service(tmp_path, backoff_seconds=0.5)
    signals = signals_service.signals_for(SIREN)
    assert signals.status is not None
    waits = [s for s in slept if s >= 0.5]
    assert 0.5 in waits and 3.0 in waits


@responses.activate
def test_gives_up_with_a_transient_error(tmp_path):
    responses.get(RECHERCHE_URL, status=502)
    signals_service, _ = service(tmp_path, retries=2)
    with pytest.raises(
        TransientError, match=r"recherche-entreprises .* unavailable after 3 attempts \(HTTP 502\)"
    ):
        signals_service.signals_for(SIREN)
    assert len(responses.calls) == 3


@responses.activate
def test_client_error_is_not_retried(tmp_path):
    responses.get(RECHERCHE_URL, status=400, json={"erreur": "bad query"})
    signals_service, _ = service(tmp_path)
    with pytest.raises(RemoteError, match="HTTP 400"):
        signals_service.signals_for(SIREN)
    assert len(responses.calls) == 1


@responses.activate
def test_failures_per_customer_are_reported_not_fatal(tmp_path):
    responses.get(RECHERCHE_URL, status=404)
    signals_service, _ = service(tmp_path, bodacc=False)
    found, problems = signals_service.signals_for_customers({"C1": SIREN})
    assert found == {}
    assert problems[0].startswith("C1 (833310592): recherche-entreprises")


@responses.activate
def test_timeout_is_passed_to_requests(tmp_path):
    responses.get(RECHERCHE_URL, json={"results": [COMPANY]})
    client = JsonClient(name="t", timeout=4.5, sleep=lambda _s: None)
    client.get(RECHERCHE_URL, {"q": SIREN})
    assert responses.calls[0].request.req_kwargs["timeout"] == 4.5


def test_rate_limiter_spaces_requests():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == [0.25, 0.25]


def test_a_later_closing_judgment_ends_the_proceeding():
    from erp_recovery.engines.signals import CompanySignals

    opening = parse_bodacc_record({**OPENING, "dateparution": "2019-01-10"}, SIREN)
    closing = parse_bodacc_record(CLOSED, SIREN)
    signals = CompanySignals(siren=SIREN, checked_on=dt.date(2026, 6, 30), proceedings=(closing, opening))
    assert signals.open_proceeding is None
    again = parse_bodacc_record(OPENING, SIREN)
    assert (
        CompanySignals(
            siren=SIREN, checked_on=dt.date(2026, 6, 30), proceedings=(closing, opening, again)
        ).open_proceeding
        == again
    )
