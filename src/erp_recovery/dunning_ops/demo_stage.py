"""The demo's dunning stage: the demo company's dunning plan and its letters, in a folder.

The demo data is a snapshot (no dunning was ever run on it), so the stage replays the engine in
memory from shortly before the oldest open due date up to the demo date — what dunning would
have sent had it run every day with today's data — and then writes, beside the demo database in
``<database>-dunning/``:

- ``plan-<date>.txt``: the plan of the demo date (what goes out, what is on hold and why, tasks,
  next steps) and the replayed history;
- the latest letter of each customer as PDF (reminders, second reminders, formal notices);
- the latest escalation's dossier (JSON + PDF).

The replayed communications are recorded as the demo company's dunning history (marked
``replayed``, without documents or deliveries) and every customer's case is saved, so that
``erp-recovery dunning history``, the next ``dunning run --as-of ...`` and the write-back stage
(dunning steps in the demo's outbox) continue from there. Nothing is sent; running the demo twice
records nothing new.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from erp_recovery.demo import StageContext
from erp_recovery.dunning_docs.context import communication_reference
from erp_recovery.dunning_docs.render import pdf_unavailable
from erp_recovery.dunning_ops import report, service
from erp_recovery.dunning_ops.escalation import dossier_data, write_dossier
from erp_recovery.engines.dunning import DunningHistory, DunningPlan, PlannedCommunication, simulate

#: The replay starts this many days before the oldest open due date (courtesy reminders first).
LEAD_DAYS = 10


def _sent_entries(history: list[PlannedCommunication], keys: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "date": c.send_on.isoformat(),
            "items": sorted(item.key for item in c.items if item.key in keys),
            "level": c.level.code,
            "label": c.level.label,
            "kind": c.level.kind,
            "channels": list(c.channels),
            "reference": communication_reference(c),
            "deadline": c.deadline.isoformat() if c.deadline else None,
            "document_sha256": None,
            "document_path": None,
            "deliveries": [],
            "posted": None,
        }
        for c in history
        if any(item.key in keys for item in c.items)
    ]


def dunning_stage(context: StageContext) -> dict[str, Any]:
    store, config = context.store, context.config
    setup_ = service.setup(store, config, context.company)
    prepared = service.prepare(store, config, setup_, context.as_of, use_signals=False)
    open_due = [
        invoice.due_date
        for invoice in prepared.data.invoices
        if invoice.is_open and invoice.kind == "invoice" and invoice.due_date is not None
    ]
    start = (min(open_due) if open_due else context.as_of) - dt.timedelta(days=LEAD_DAYS)
    # Replayed from the data alone (not from the history recorded by an earlier demo run), so
    # every run of the demo shows the same plan and letters.
    fresh = replace(prepared.data, history=DunningHistory())
    plans: list[DunningPlan] = list(simulate(fresh, start, context.as_of))
    today = plans[-1]
    history = [c for plan in plans for c in plan.communications]
    recorded = service.record_replay(store, setup_, history)
    service.save_standings(store, setup_, today)
    database = store.sqlite_path
    folder = (
        database.with_name(database.stem + "-dunning") if database else Path("erp-recovery-dunning")
    ).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    latest: dict[str, PlannedCommunication] = {}
    escalation: PlannedCommunication | None = None
    for communication in history:
        if communication.level.kind == "escalation":
            escalation = communication
        else:
            latest[communication.customer_id] = communication
    letters = []
    # The demo must run on a machine without Pango: then the letters are written as HTML.
    no_pdf = pdf_unavailable()
    if no_pdf:
        context.echo(f"warning: letters written as HTML, not PDF: {no_pdf}")
    for customer_id, communication in sorted(latest.items()):
        channel = "registered_letter" if "registered_letter" in communication.channels else "letter"
        stem = f"{customer_id}-{communication.send_on.isoformat()}-{communication.level.code}"
        if no_pdf:
            html, _ = setup_.renderer.letter_html(
                communication, setup_.company, channel=channel, policies=setup_.policies
            )
            path = folder / f"{stem}.html"
            path.write_text(html, encoding="utf-8")
        else:
            letter = setup_.renderer.letter(
                communication, setup_.company, channel=channel, policies=setup_.policies
            )
            path = folder / f"{stem}.pdf"
            path.write_bytes(letter.pdf)
        letters.append(
            {
                "customer": customer_id,
                "level": communication.level.code,
                "date": communication.send_on,
                "pdf": str(path),
            }
        )
    dossier = None
    if escalation is not None and not no_pdf:
        keys = {item.key for item in escalation.items}
        data = dossier_data(setup_, escalation, escalation.send_on, _sent_entries(history, keys))
        written = write_dossier(setup_, escalation, data, folder / f"dossier-{escalation.customer_id}")
        dossier = str(written.folder)
    replay = [
        f"{c.send_on.isoformat()} {c.customer_id} {c.level.label} ({', '.join(c.channels)}): "
        + ", ".join(item.number for item in c.items)
        for c in history
    ]
    plan_file = folder / f"plan-{context.as_of.isoformat()}.txt"
    plan_file.write_text(
        report.plan_text(today)
        + f"\nReplayed history from {start.isoformat()} (in memory, nothing recorded):\n"
        + "\n".join(replay)
        + "\n",
        encoding="utf-8",
    )
    (folder / f"plan-{context.as_of.isoformat()}.json").write_text(
        json.dumps(report.plan_json(today), default=str, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    levels: dict[str, int] = {}
    for standing in today.standings:
        if standing.level_label:
            levels[standing.level_label] = levels.get(standing.level_label, 0) + 1
    summary = (
        f"replayed {len(history)} communication(s) since {start.isoformat()}; today {len(today.communications)} to send, "
        f"{len(today.held)} on hold, {len(today.tasks)} task(s); cases by level {levels}; "
        f"{len(letters)} letter(s) and {'a dossier' if dossier else 'no dossier'} in {folder}; "
        f"try: erp-recovery --config <demo config> dunning plan --as-of {context.as_of.isoformat()}"
    )
    return {
        "summary": summary,
        "folder": str(folder),
        "plan": str(plan_file),
        "replayed": len(history),
        "recorded": recorded,
        "today": len(today.communications),
        "held": len(today.held),
        "letters": letters,
        "dossier": dossier,
    }
