"""``erp-recovery dunning run`` every day for three months on SQLite and PostgreSQL: the CSV books
change (a payment), people record a dispute and a promise with the CLI, and the store, the SMTP
server, the outbox and the dossiers end up with exactly what the policy says, day by day."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from dunning_workspace import Mailbox, Workspace, customer_row, free_port, invoice_row, start_smtp

from erp_recovery.cli.main import main

BOOKS = [
    invoice_row("FA-A", "C1", "2026-08-02", "2026-09-01", "1200,00"),
    invoice_row("FA-B", "C1", "2026-08-04", "2026-09-03", "800,00"),
    invoice_row("FA-C", "C1", "2026-08-05", "2026-09-04", "500,00"),
]
EXPECTED = [
    ("2026-08-27", "courtesy", ["FA-A", "FA-B", "FA-C"], ["email"]),
    ("2026-09-07", "reminder", ["FA-A", "FA-B"], ["email"]),
    ("2026-09-16", "second_reminder", ["FA-A", "FA-B"], ["email", "phone"]),
    ("2026-09-28", "formal_notice", ["FA-A"], ["registered_letter", "email"]),
    ("2026-10-16", "escalation", ["FA-A"], ["escalation"]),
    ("2026-10-19", "reminder", ["FA-C"], ["email"]),
    ("2026-10-26", "second_reminder", ["FA-C"], ["email", "phone"]),
    ("2026-11-02", "formal_notice", ["FA-C"], ["registered_letter", "email"]),
    ("2026-11-12", "escalation", ["FA-C"], ["escalation"]),
]


@pytest.fixture
def mailbox():
    box = Mailbox()
    port = free_port()
    controller = start_smtp(box, port)
    box.port = port  # type: ignore[attr-defined]
    yield box
    controller.stop()


def cli(capsys, workspace: Workspace, *args: str) -> str:
    capsys.readouterr()
    code = main(workspace.args(*args))
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_three_months_of_daily_runs(tmp_path, store_url, mailbox, capsys):
    workspace = Workspace(tmp_path, db=store_url, smtp_port=mailbox.port)
    workspace.write_books([customer_row("C1", "Garage Lefèvre", "compta@garage.example")], BOOKS)
    workspace.write_config()
    cli(capsys, workspace, "--quiet", "db", "upgrade")
    cli(capsys, workspace, "--quiet", "sync")
    events = {
        "2026-09-02": [("dunning", "dispute", "C1", "FA-C", "--reason", "livraison incomplète", "--until", "2026-10-15")],
        "2026-09-18": [("dunning", "promise", "Garage Lefèvre", "--date", "2026-09-23", "--amount", "1200.00",
                        "--invoice", "FA-A", "--note", "M. Lefèvre au téléphone")],
    }  # fmt: skip
    day = dt.date(2026, 8, 24)
    while day <= dt.date(2026, 11, 13):
        iso = day.isoformat()
        for command in events.get(iso, []):
            cli(capsys, workspace, "--quiet", *command, "--as-of", iso)
        if iso == "2026-09-21":  # the customer paid FA-B: the next export says so
            workspace.write_books(
                [customer_row("C1", "Garage Lefèvre", "compta@garage.example")],
                [BOOKS[0], invoice_row("FA-B", "C1", "2026-08-04", "2026-09-03", "800,00", "0,00"), BOOKS[2]],
            )
            cli(capsys, workspace, "--quiet", "sync")
        cli(capsys, workspace, "--quiet", "dunning", "run", "--as-of", iso)
        if iso == "2026-09-29":
            tasks = json.loads(cli(capsys, workspace, "--json", "dunning", "tasks"))
            post = next(t for t in tasks if t["kind"] == "post_letter")
            cli(
                capsys,
                workspace,
                "--quiet",
                "dunning",
                "done",
                str(post["id"]),
                "--note",
                "LRAR 1A 234 567 8901 2",
            )
        day += dt.timedelta(days=1)

    history = json.loads(cli(capsys, workspace, "--json", "dunning", "history", "C1"))
    assert [(c["day"], c["level"], c["items"], c["channels"]) for c in history["communications"]] == EXPECTED

    # E-mails: one per communication with an e-mail channel, each with its letter attached.
    emailed = [c for c in EXPECTED if "email" in c[3]]
    assert len(mailbox.messages) == len(emailed)
    for message, (iso, _level, _items, _channels) in zip(mailbox.messages, emailed, strict=True):
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == f"C1-{iso.replace('-', '')}.pdf"
        assert attachment.get_content().startswith(b"%PDF-")
    assert mailbox.messages[3]["Subject"] == "Mise en demeure de payer — Atelier Démo SAS — réf. C1-20260928"

    # Letters to post and dossiers in the outbox.
    outbox = tmp_path / "outbox" / "acme"
    assert (outbox / "2026-09-28" / "C1-formal_notice.pdf").read_bytes().startswith(b"%PDF-")
    assert (outbox / "2026-11-02" / "C1-formal_notice.pdf").is_file()
    dossier = json.loads((outbox / "escalations" / "C1-2026-10-16" / "dossier.json").read_text("utf-8"))
    assert dossier["route"] == "injonction_de_payer"
    assert dossier["debtor"]["siren"] == "745678904" and dossier["creditor"]["siren"] == "900000126"
    assert [i["number"] for i in dossier["invoices"]] == ["FA-A"]
    assert dossier["formal_notice"]["date"] == "2026-09-28"
    assert dossier["formal_notice"]["posted"] == {"status": "done", "note": "LRAR 1A 234 567 8901 2"}
    assert dossier["formal_notice"]["document_sha256"] is not None
    assert [c["label"] for c in dossier["communications"]] == [
        "Rappel avant échéance", "Relance 1", "Relance 2 et appel", "Mise en demeure"
    ]  # fmt: skip
    [claim] = dossier["claim"]
    assert claim["principal"] == "1200.00" and claim["fixed_fees"] == "40.00"
    assert (outbox / "escalations" / "C1-2026-10-16" / "dossier.pdf").read_bytes().startswith(b"%PDF-")

    # The trace: every delivery and task with its result.
    actions = history["actions"]
    assert sorted({(a["channel"], a["status"]) for a in actions}) == [
        ("dossier", "written"), ("email", "sent"), ("registered_letter", "written"), ("task", "done"), ("task", "open")
    ]  # fmt: skip
    tasks = json.loads(cli(capsys, workspace, "--json", "dunning", "tasks", "--all"))
    assert [(t["kind"], t["due_on"]) for t in tasks] == [
        ("phone_call", "2026-09-16"),
        ("post_letter", "2026-09-28"),
        ("escalation", "2026-10-16"),
        ("phone_call", "2026-10-26"),
        ("post_letter", "2026-11-02"),
        ("escalation", "2026-11-12"),
    ]
    assert [(p["status"], p["status_on"]) for p in history["promises"]] == [("broken", "2026-09-26")]
    assert [(p["kind"], p["invoice"], p["until"]) for p in history["pauses"]] == [
        ("dispute", "FA-C", "2026-10-15")
    ]

    # Rerunning any past day changes nothing; the case is what the write-back will say.
    cli(capsys, workspace, "--quiet", "dunning", "run", "--as-of", "2026-11-12")
    assert len(json.loads(cli(capsys, workspace, "--json", "dunning", "history"))["communications"]) == len(
        EXPECTED
    )
    plan = json.loads(cli(capsys, workspace, "--json", "dunning", "plan", "--as-of", "2026-11-13"))
    [case] = plan["cases"]
    assert (case["level"], case["state"], case["last_sent_on"]) == ("escalation", "active", "2026-11-12")
    assert plan["communications"] == []
