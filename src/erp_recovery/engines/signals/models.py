"""External risk signals about a French company, as read from public APIs.

- :class:`CollectiveProceeding`: a BODACC "procédure collective" notice (``familleavis =
  collective``): the judgment (nature, date) and the publication date, which starts the two-month
  deadline to declare a claim to the mandataire (C. com. L622-24, R622-24; legal-rules.md FR-K2).
- :class:`CompanyStatus`: the company as the "API Recherche d'entreprises" describes it (active or
  closed, creation date, category). A company whose ``statut_diffusion`` is not "O" has asked for
  its data not to be shown: only the fact that it is restricted is kept (:attr:`CompanySignals.restricted`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict


class _Signal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ProceedingKind = Literal["sauvegarde", "redressement", "liquidation", "plan", "cloture", "other"]


class CollectiveProceeding(_Signal):
    siren: str
    announcement_id: str
    published_on: dt.date
    judgment_date: dt.date | None = None
    #: The judgment as published ("Jugement d'ouverture d'une procédure de redressement judiciaire").
    nature: str
    kind: ProceedingKind = "other"
    court: str | None = None
    #: BODACC edition (A, B, C) and notice number, to find the paper.
    edition: str | None = None
    number: str | None = None

    @property
    def claim_deadline(self) -> dt.date:
        """Last day to declare a claim: two months from the BODACC publication (R622-24)."""
        return self.published_on + relativedelta(months=2)

    @property
    def is_opening(self) -> bool:
        """An opening judgment (or a conversion to liquidation): dunning must stop (L622-21)."""
        text = self.nature.lower()
        return "ouverture" in text or (
            "liquidation" in text and "clôture" not in text and "cloture" not in text
        )


class CompanyStatus(_Signal):
    siren: str
    name: str | None = None
    #: "A" active, "C" closed (cessée), as the API states ``etat_administratif``.
    state: Literal["A", "C"]
    created_on: dt.date | None = None
    closed_on: dt.date | None = None
    category: str | None = None
    legal_form: str | None = None
    activity: str | None = None

    @property
    def active(self) -> bool:
        return self.state == "A"


class CompanySignals(_Signal):
    """What the public sources said about one SIREN on ``checked_on``."""

    siren: str
    checked_on: dt.date
    status: CompanyStatus | None = None
    proceedings: tuple[CollectiveProceeding, ...] = ()
    #: The company restricts the publication of its data (statut_diffusion ≠ "O"): nothing stored.
    restricted: bool = False

    @property
    def open_proceeding(self) -> CollectiveProceeding | None:
        """The latest opening judgment not followed by a closing one (clôture), if any."""
        current: CollectiveProceeding | None = None
        for proceeding in sorted(self.proceedings, key=lambda p: p.published_on):
            if proceeding.is_opening:
                current = proceeding
            elif proceeding.kind == "cloture":
                current = None
        return current
