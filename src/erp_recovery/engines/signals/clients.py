"""Clients of the public French company APIs, and the ``[signals]`` configuration.

- BODACC on Opendatasoft (DILA), dataset ``annonces-commerciales``: collective proceedings of a
  SIREN (``familleavis = "collective"``), newest first. Fields used: ``id``, ``dateparution``,
  ``registre`` ("833 310 592,833310592" or a list), ``familleavis``, ``typeavis`` (an
  ``annulation`` notice is skipped), ``tribunal``, ``publicationavis``, ``numeroannonce`` and
  ``jugement``, a JSON text ``{"date", "famille", "nature", "complementJugement"}``.
  (shared/domain/legal-rules.md §6; annuaire-entreprises BODACC client for field examples.)
- API Recherche d'entreprises (``GET /search?q=SIREN``): ``siren``, ``nom_complet``,
  ``etat_administratif`` (A/C), ``date_creation``, ``date_fermeture``, ``categorie_entreprise``,
  ``nature_juridique``, ``activite_principale``, ``statut_diffusion``. A company whose
  ``statut_diffusion`` is not "O" restricts its data: we keep only that fact, never its details,
  and do not cache its answer.

Both are off by default (``[signals] enabled = false``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, Field

from erp_recovery.engines.signals.http import JsonClient, TtlCache
from erp_recovery.engines.signals.models import (
    CollectiveProceeding,
    CompanySignals,
    CompanyStatus,
    ProceedingKind,
)
from erp_recovery.errors import ErpRecoveryError, RemoteError

logger = logging.getLogger(__name__)

BODACC_URL = (
    "https://bodacc-datadila.opendatasoft.com/api/explore/v2.1/catalog/datasets/annonces-commerciales/records"
)
RECHERCHE_URL = "https://recherche-entreprises.api.gouv.fr/search"


class SignalsSettings(BaseModel):
    """The ``[signals]`` section of ``erp-recovery.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    bodacc: bool = True
    company_status: bool = True
    bodacc_url: str = BODACC_URL
    recherche_url: str = RECHERCHE_URL
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    #: recherche-entreprises allows 7 calls/s; stay below.
    recherche_per_second: float = Field(default=5.0, gt=0, le=7)
    bodacc_per_second: float = Field(default=2.0, gt=0, le=10)
    cache_ttl_hours: float = Field(default=24.0, ge=0)
    #: Where answers are cached; relative to the configuration file's folder.
    cache_dir: str = ".erp-recovery-cache/signals"


def _parse_date(value: Any) -> dt.date | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _kind(nature: str) -> ProceedingKind:
    text = nature.lower()
    if "clôture" in text or "cloture" in text:
        return "cloture"
    if "plan" in text:
        return "plan"
    if "liquidation" in text:
        return "liquidation"
    if "redressement" in text:
        return "redressement"
    if "sauvegarde" in text:
        return "sauvegarde"
    return "other"


def _registre_sirens(value: Any) -> set[str]:
    parts: Iterable[str] = value if isinstance(value, list) else str(value or "").split(",")
    return {part.replace(" ", "").strip() for part in parts if part}


def parse_bodacc_record(record: dict[str, Any], siren: str) -> CollectiveProceeding | None:
    """One BODACC record → a proceeding of ``siren`` (None when it is not one, or is cancelled)."""
    if record.get("familleavis") != "collective" or record.get("typeavis") == "annulation":
        return None
    if siren not in _registre_sirens(record.get("registre")):
        return None
    published = _parse_date(record.get("dateparution"))
    if published is None:
        return None
    judgment = record.get("jugement") or {}
    if isinstance(judgment, str):
        try:
            judgment = json.loads(judgment)
        except json.JSONDecodeError:
            judgment = {}
    nature = str(judgment.get("nature") or judgment.get("famille") or record.get("familleavis_lib") or "")
    return CollectiveProceeding(
        siren=siren,
        announcement_id=str(record.get("id") or f"{record.get('parution')}-{record.get('numeroannonce')}"),
        published_on=published,
        judgment_date=_parse_date(judgment.get("date")),
        nature=nature or "procédure collective",
        kind=_kind(nature),
        court=record.get("tribunal"),
        edition=record.get("publicationavis"),
        number=str(record["numeroannonce"]) if record.get("numeroannonce") is not None else None,
    )


class BodaccClient:
    def __init__(self, http: JsonClient, url: str = BODACC_URL) -> None:
        self.http = http
        self.url = url

    def collective_proceedings(self, siren: str) -> list[CollectiveProceeding]:
        params = {
            "where": f'registre like "%{siren}%" and familleavis="collective"',
            "order_by": "dateparution desc",
            "limit": 20,
        }
        body = self.http.get(self.url, params)
        records = body.get("results", []) if isinstance(body, dict) else []
        proceedings = [
            p for p in (parse_bodacc_record(r, siren) for r in records if isinstance(r, dict)) if p
        ]
        return sorted(proceedings, key=lambda p: p.published_on, reverse=True)


class RechercheEntreprisesClient:
    def __init__(self, http: JsonClient, url: str = RECHERCHE_URL) -> None:
        self.http = http
        self.url = url

    def company(self, siren: str) -> tuple[CompanyStatus | None, bool]:
        """(status, restricted) of ``siren``; restricted companies come back as (None, True)."""
        params = {"q": siren, "page": 1, "per_page": 1}
        body = self.http.get(self.url, params)
        results = body.get("results", []) if isinstance(body, dict) else []
        match = next((r for r in results if isinstance(r, dict) and r.get("siren") == siren), None)
        if match is None:
            return None, False
        if match.get("statut_diffusion", "O") != "O":
            if self.http.cache is not None:
                self.http.cache.forget(self.http.cache.key(self.url, params))
            return None, True
        state = match.get("etat_administratif")
        if state not in ("A", "C"):
            raise RemoteError(f"recherche-entreprises: unexpected etat_administratif {state!r} for {siren}")
        return (
            CompanyStatus(
                siren=siren,
                name=match.get("nom_complet"),
                state=state,
                created_on=_parse_date(match.get("date_creation")),
                closed_on=_parse_date(match.get("date_fermeture")),
                category=match.get("categorie_entreprise"),
                legal_form=str(match["nature_juridique"]) if match.get("nature_juridique") else None,
                activity=match.get("activite_principale"),
            ),
            False,
        )


class SignalsService:
    """Fetch :class:`CompanySignals` for SIRENs with the configured clients."""

    def __init__(
        self,
        settings: SignalsSettings,
        *,
        base_dir: Path | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.settings = settings
        self.today = today
        cache_dir = Path(settings.cache_dir)
        if not cache_dir.is_absolute():
            cache_dir = (base_dir or Path.cwd()) / cache_dir
        cache = TtlCache(cache_dir, settings.cache_ttl_hours * 3600) if settings.cache_ttl_hours > 0 else None
        self.bodacc = BodaccClient(
            self._client("BODACC", settings.bodacc_per_second, session, cache, sleep), settings.bodacc_url
        )
        self.recherche = RechercheEntreprisesClient(
            self._client("recherche-entreprises", settings.recherche_per_second, session, cache, sleep),
            settings.recherche_url,
        )

    def _client(
        self,
        name: str,
        per_second: float,
        session: requests.Session | None,
        cache: TtlCache | None,
        sleep: Callable[[float], None] | None,
    ) -> JsonClient:
        return JsonClient(
            name=name,
            session=session,
            timeout=self.settings.timeout_seconds,
            retries=self.settings.retries,
            backoff=self.settings.backoff_seconds,
            per_second=per_second,
            cache=cache,
            sleep=sleep or time.sleep,
        )

    def signals_for(self, siren: str) -> CompanySignals:
        status, restricted = (None, False)
        if self.settings.company_status:
            status, restricted = self.recherche.company(siren)
        if restricted:
            return CompanySignals(siren=siren, checked_on=self.today(), restricted=True)
        proceedings = self.bodacc.collective_proceedings(siren) if self.settings.bodacc else []
        return CompanySignals(
            siren=siren, checked_on=self.today(), status=status, proceedings=tuple(proceedings)
        )

    def signals_for_customers(self, sirens: dict[str, str]) -> tuple[dict[str, CompanySignals], list[str]]:
        """Signals by customer id (``sirens``: customer id → SIREN); failures are reported, not fatal."""
        found: dict[str, CompanySignals] = {}
        problems: list[str] = []
        for customer_id, siren in sorted(sirens.items()):
            try:
                found[customer_id] = self.signals_for(siren)
            except ErpRecoveryError as exc:
                problems.append(f"{customer_id} ({siren}): {exc.message}")
        return found, problems
