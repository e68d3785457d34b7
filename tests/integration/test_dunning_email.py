"""E-mails through a real SMTP server on 127.0.0.1 (aiosmtpd): the letter attached as PDF, the
trace, a second run the same day sending nothing, refusals and outages retried then reported,
STARTTLS and implicit TLS with a login whose password never reaches the logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

import pytest
from dunning_workspace import (
    Mailbox,
    Workspace,
    customer_row,
    free_port,
    invoice_row,
    self_signed,
    start_smtp,
)
from pypdf import PdfReader

from erp_recovery.cli.main import main
from erp_recovery.dunning_ops.service import email_hash


@pytest.fixture
def mailbox():
    box = Mailbox()
    port = free_port()
    controller = start_smtp(box, port)
    box.port = port  # type: ignore[attr-defined]
    box.controller = controller  # type: ignore[attr-defined]
    yield box
    box.controller.stop()  # type: ignore[attr-defined]


def make_workspace(tmp_path, port: int, smtp: str | None = None) -> Workspace:
    workspace = Workspace(tmp_path, db=f"sqlite:///{tmp_path / 'dunning.sqlite'}", smtp_port=port)
    workspace.write_books(
        [customer_row("C1", "Garage Lefèvre", "compta@garage.example")],
        [
            invoice_row("FA-1", "C1", "2026-09-01", "2026-10-01", "1200,00"),
            invoice_row("FA-2", "C1", "2026-09-02", "2026-10-02", "340,50"),
        ],
    )
    workspace.write_config(smtp=smtp)
    assert main(workspace.args("--quiet", "sync")) == 0
    return workspace


def run_json(capsys, workspace: Workspace, *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(workspace.args("--json", *args))
    return code, json.loads(capsys.readouterr().out)


def test_the_email_arrives_with_the_letter_attached_and_a_rerun_sends_nothing(tmp_path, mailbox, capsys):
    workspace = make_workspace(tmp_path, mailbox.port)
    code, result = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-07")
    assert code == 0
    assert result["counts"] == {"communications": 1, "skipped": 0, "tasks": 0, "deliveries_sent": 1}
    [message] = mailbox.messages
    assert message["To"] == "compta@garage.example"
    assert message["From"] == "Atelier Démo SAS <relances@atelier-demo.example>"
    assert message["Subject"] == "Relance : 2 factures impayées — Atelier Démo SAS"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "FA-1 du 01/09/2026, échue le 01/10/2026 : reste dû 1\u00a0200,00\u00a0€" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "C1-20261007.pdf"
    pdf = attachment.get_content()
    (tmp_path / "received.pdf").write_bytes(pdf)
    text = " ".join(page.extract_text() for page in PdfReader(str(tmp_path / "received.pdf")).pages)
    assert "Relance" in text and "FA-1" in text and "FA-2" in text and "Garage Lefèvre" in text
    # The trace: what, when, to whom, channel, content hash, result.
    code, history = run_json(capsys, workspace, "dunning", "history", "C1")
    [action] = [a for a in history["actions"] if a["channel"] == "email"]
    assert (action["to"], action["status"], action["attempts"], action["day"]) == (
        "compta@garage.example", "sent", 1, "2026-10-07"
    )  # fmt: skip
    assert action["delivered_at"] is not None
    expected_hash = email_hash(
        "compta@garage.example",
        message["Subject"],
        action_text(workspace, action["id"]),
        hashlib.sha256(pdf).hexdigest(),
    )
    assert action["content_sha256"] == expected_hash
    [communication] = history["communications"]
    assert communication["items"] == ["FA-1", "FA-2"] and communication["label"] == "Relance 1"
    # A second run the same day sends nothing.
    code, again = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-07")
    assert code == 0
    assert again["counts"] == {"communications": 0, "skipped": 0, "tasks": 0}
    assert len(mailbox.messages) == 1


def action_text(workspace: Workspace, action_id: int) -> str:
    from sqlalchemy import select

    from erp_recovery.store import Store
    from erp_recovery.store.dunning import dunning_actions

    store = Store(workspace.db)
    with store.connect() as connection:
        details = connection.execute(
            select(dunning_actions.c.details).where(dunning_actions.c.id == action_id)
        ).scalar()
    store.dispose()
    return str(details["text"])


def test_a_refused_recipient_is_retried_on_later_runs_then_reported(tmp_path, mailbox, capsys):
    workspace = make_workspace(tmp_path, mailbox.port)
    mailbox.refuse.add("compta@garage.example")
    code, first = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-07")
    assert code == 1
    [delivery] = first["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == (
        "failed",
        1,
    )  # a refusal is not retried within the run
    assert "550" in delivery["detail"] and "mailbox unavailable" in delivery["detail"]
    code, second = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-08")
    assert (second["deliveries"][0]["status"], second["deliveries"][0]["attempts"]) == ("failed", 2)
    code, third = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-09")
    assert (third["deliveries"][0]["status"], third["deliveries"][0]["attempts"]) == ("gave_up", 3)
    code, fourth = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-12")
    assert fourth["deliveries"] == []  # bounded: no fourth attempt
    code, tasks = run_json(capsys, workspace, "dunning", "tasks")
    [task] = [t for t in tasks if t["kind"] == "send_manually"]
    assert task["title"] == "E-mail to compta@garage.example failed 3 time(s): send it another way"
    assert "outbox" in task["detail"] and task["detail"].endswith("-email.pdf")
    assert mailbox.messages == []


def test_a_server_outage_is_retried_and_the_next_run_delivers(tmp_path, mailbox, capsys):
    workspace = make_workspace(tmp_path, mailbox.port)
    mailbox.controller.stop()
    code, first = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-07")
    assert code == 1
    [delivery] = first["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 2)  # attempts_per_run = 2
    assert "Connection refused" in delivery["detail"] or "ConnectionRefusedError" in delivery["detail"]
    mailbox.controller = start_smtp(mailbox, mailbox.port)
    code, second = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-08")
    assert code == 0
    assert [(d["status"], d["attempts"]) for d in second["deliveries"]] == [("sent", 3)]
    assert len(mailbox.messages) == 1 and mailbox.messages[0]["Subject"].startswith("Relance")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login_with_the_password_from_the_environment(tmp_path, monkeypatch, capsys, caplog, mode):
    pytest.importorskip("cryptography")
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, _key, context = self_signed(tmp_path)

    def authenticator(server, session, envelope, mechanism, auth_data):
        def text(value):
            return value.decode() if isinstance(value, bytes) else value

        ok = isinstance(auth_data, LoginPassword) and (text(auth_data.login), text(auth_data.password)) == (
            "relances@atelier-demo.example", "s3cret-Pa55word"
        )  # fmt: skip
        return AuthResult(success=ok, handled=False)

    box = Mailbox()
    port = free_port()
    options = (
        {"tls_context": context, "require_starttls": True}
        if mode == "starttls"
        # aiosmtpd only counts STARTTLS as TLS for AUTH; on implicit TLS the channel is encrypted anyway.
        else {"ssl_context": context, "auth_require_tls": False}
    )
    controller = start_smtp(box, port, authenticator=authenticator, auth_required=True, **options)
    try:
        smtp = (
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "{mode}"\nusername = "relances@atelier-demo.example"\n'
            f'password = "${{SMTP_TEST_PASSWORD}}"\nfrom_address = "relances@atelier-demo.example"\nca_file = "{cert}"\n'
        )
        workspace = make_workspace(tmp_path, port, smtp=smtp)
        monkeypatch.setenv("SMTP_TEST_PASSWORD", "s3cret-Pa55word")
        caplog.set_level(logging.DEBUG)
        code, result = run_json(capsys, workspace, "-vv", "dunning", "run", "--as-of", "2026-10-07")
        assert code == 0, [d["detail"] for d in result["deliveries"]]
        assert [d["status"] for d in result["deliveries"]] == ["sent"]
        assert len(box.messages) == 1
        monkeypatch.setenv("SMTP_TEST_PASSWORD", "wrong-password")
        workspace.write_books(
            [
                customer_row("C1", "Garage Lefèvre", "compta@garage.example"),
                customer_row("C2", "Hôtel du Parc", "h@parc.example"),
            ],
            [
                invoice_row("FA-1", "C1", "2026-09-01", "2026-10-01", "1200,00"),
                invoice_row("FA-9", "C2", "2026-09-01", "2026-10-01", "99,00"),
            ],
        )
        assert main(workspace.args("--quiet", "sync")) == 0
        code, refused = run_json(capsys, workspace, "dunning", "run", "--as-of", "2026-10-08")
        assert code == 1
        assert any("refused the login" in note for note in refused["notes"])
        logged = caplog.text + capsys.readouterr().err
        assert "s3cret-Pa55word" not in logged and "wrong-password" not in logged
    finally:
        controller.stop()


def test_two_runs_at_once_send_one_email(tmp_path, mailbox):
    import threading

    from erp_recovery.config import load_config
    from erp_recovery.dunning_ops import service
    from erp_recovery.store import Store

    workspace = make_workspace(tmp_path, mailbox.port)
    config = load_config(workspace.config)
    reports = []

    def run() -> None:
        store = Store(workspace.db)
        setup_ = service.setup(store, config, "acme")
        reports.append(
            service.run_day(store, config, setup_, dt.date(2026, 10, 7), mailer=service.make_mailer(setup_))
        )
        store.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(len(report.communications) for report in reports) == [0, 1]
    assert len(mailbox.messages) == 1
