"""The demo's risk stage: assess the demo company, save it, write the HTML report beside the database."""

from __future__ import annotations

from collections import Counter
from typing import Any

from erp_recovery.demo import StageContext
from erp_recovery.engines.risk import GRADES
from erp_recovery.reports.render import to_html
from erp_recovery.reports.service import run_assessment


def risk_stage(context: StageContext) -> dict[str, Any]:
    run = run_assessment(
        context.store, context.config, company_code=context.company, as_of=context.as_of, use_signals=False
    )
    assessment = run.assessment
    grades = Counter(item.score.grade for item in assessment.customers)
    flags = Counter(flag.code for item in assessment.customers for flag in item.flags)
    riskiest = sorted(assessment.customers, key=lambda item: item.score.score)[:3]
    html_path = None
    database = context.store.sqlite_path
    if database is not None:
        html_path = database.with_name(database.stem + "-risk.html")
        html_path.write_text(to_html(assessment, "risk", company_name=run.company.name), encoding="utf-8")
    proposals = assessment.proposals()
    summary = (
        "grades "
        + " ".join(f"{g}:{grades.get(g, 0)}" for g in GRADES)
        + f"; flags {dict(flags) or 'none'}; {len(proposals)} proposal(s) for the write-back plan; riskiest: "
        + ", ".join(f"{item.customer.name} {item.score.score} ({item.score.grade})" for item in riskiest)
        + (f"; HTML report {html_path}" if html_path else "")
        + "; explain one with: erp-recovery --config <demo config> assess --as-of "
        + f"{context.as_of.isoformat()} --explain {riskiest[0].customer_id if riskiest else 'CODE'}"
    )
    return {
        "summary": summary,
        "grades": dict(grades),
        "flags": dict(flags),
        "proposals": len(proposals),
        "riskiest": [
            {"customer": item.customer_id, "score": item.score.score, "grade": item.score.grade}
            for item in riskiest
        ],
        "html_report": str(html_path) if html_path else None,
        "saved_rows": run.saved_rows,
    }
