"""Write-back policy: which fields erp-recovery owns, and how much one plan may change.

Read from the ``[writeback]`` section of the configuration, with per-source overrides::

    [writeback]
    owned_fields = ["credit_limit", "risk_flag", "dunning_step"]   # fields and actions we may touch
    max_share = 0.2            # a plan may change at most 20% of a source's customers (or invoices...)
    min_population = 20        # ...checked only once the source has at least this many records
    max_action_share = 1.0     # actions (dunning steps) are checked against this share instead

    [writeback.sources.odoo-main]
    owned_fields = ["credit_limit", "risk_flag", "dunning_step", "trust"]

Nothing is owned by default: a field must be declared before erp-recovery writes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from erp_recovery.errors import UnsafePlanError
from erp_recovery.writeback.plan import ActionChange, FieldChange


class SourcePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    owned_fields: tuple[str, ...] | None = None
    max_share: float | None = Field(default=None, gt=0, le=1)
    max_action_share: float | None = Field(default=None, gt=0, le=1)


class WritebackPolicy(BaseModel):
    """The ``[writeback]`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owned_fields: tuple[str, ...] = ()
    max_share: float = Field(default=0.2, gt=0, le=1)
    min_population: int = Field(default=20, ge=0)
    max_action_share: float = Field(default=1.0, gt=0, le=1)
    #: Targets per write call (one Odoo ``write`` on many ids when they get the same value).
    group_size: int = Field(default=200, ge=1, le=5000)
    sources: dict[str, SourcePolicy] = Field(default_factory=dict)

    def for_source(self, source: str) -> WritebackPolicy:
        override = self.sources.get(source)
        if override is None:
            return self
        return self.model_copy(
            update={
                key: value
                for key, value in (
                    ("owned_fields", override.owned_fields),
                    ("max_share", override.max_share),
                    ("max_action_share", override.max_action_share),
                )
                if value is not None
            }
        )

    def owns(self, change: FieldChange | ActionChange) -> bool:
        return change.name in self.owned_fields

    def check_share(
        self,
        changes: Sequence[FieldChange | ActionChange],
        population: Mapping[str, int],
        *,
        force: bool = False,
    ) -> list[str]:
        """Refuse (UnsafePlanError) a plan changing too large a share of a source's records.

        Returns the lines describing each share (shown by ``apply``); ``force`` only skips the refusal.
        """
        lines: list[str] = []
        problems: list[str] = []
        for kind, limit in (("field", self.max_share), ("action", self.max_action_share)):
            targets: Counter[str] = Counter()
            seen: set[tuple[str, str]] = set()
            for change in changes:
                is_action = isinstance(change, ActionChange)
                if (kind == "action") != is_action:
                    continue
                identity = (change.target.entity, change.target.external_id)
                if identity not in seen:
                    seen.add(identity)
                    targets[change.target.entity] += 1
            for entity, count in sorted(targets.items()):
                total = max(population.get(entity, 0), count)
                share = count / total if total else 0.0
                what = "changes" if kind == "field" else "acts on"
                line = f"{what} {count} of {total} {entity} records ({share:.0%}, limit {limit:.0%})"
                lines.append(line)
                if total >= self.min_population and share > limit:
                    problems.append(line)
        if problems and not force:
            raise UnsafePlanError(
                "the plan " + "; ".join(problems) + ": read it, then re-run with --force to apply it anyway",
                problems=problems,
            )
        return lines
