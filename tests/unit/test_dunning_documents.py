"""Letters and e-mails: the French formal notice carries every mandatory mention (legal-rules.md
§5), rendered to PDF and read back; English and consumer variants; user templates override ours."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from dunning_builders import D, company, customer, data, invoice
from pypdf import PdfReader

from erp_recovery.dunning_docs.formatting import format_date, format_money, format_rate
from erp_recovery.dunning_docs.render import DocumentRenderer, export_templates, shipped_templates_dir
from erp_recovery.engines.dunning import (
    DunningHistory,
    PlannedCommunication,
    SentStep,
    load_policies,
    plan_dunning,
)
from erp_recovery.errors import ConfigError
from erp_recovery.model import Money

NOTICE_DAY = D(2026, 10, 5)


def _history(customer_id: str, items: list[str]) -> DunningHistory:
    steps = []
    for item in items:
        steps += [
            SentStep(
                customer_id=customer_id, item_key=item, level="reminder", level_index=1, sent_on=D(2026, 9, 7)
            ),
            SentStep(
                customer_id=customer_id,
                item_key=item,
                level="second_reminder",
                level_index=2,
                sent_on=D(2026, 9, 16),
            ),
        ]
    return DunningHistory(steps=tuple(steps))


def formal_notice(**customer_extra) -> PlannedCommunication:
    client = customer("C1", **customer_extra)
    source = data(
        [client],
        [
            invoice("FA2026-0101", "C1", D(2026, 9, 1), "1200.00", issue=D(2026, 8, 2)),
            invoice("FA2026-0102", "C1", D(2026, 9, 3), "834.50", issue=D(2026, 8, 4)),
        ],
        history=_history("C1", ["FA2026-0101", "FA2026-0102"]),
    )
    plan = plan_dunning(source, NOTICE_DAY)
    [communication] = plan.communications
    assert communication.level.code == "formal_notice"
    return communication


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


def test_the_french_formal_notice_has_every_mandatory_mention(tmp_path):
    communication = formal_notice()
    letter = DocumentRenderer().letter(
        communication, company(), channel="registered_letter", policies=load_policies()
    )
    assert letter.pdf.startswith(b"%PDF-")
    text = pdf_text(letter.pdf, tmp_path)
    first, second = communication.items
    interest = sum((item.charges.interest.amount for item in communication.items if item.charges), start=0)
    [totals] = communication.totals()

    def euros(amount) -> str:
        return format_money(amount, "fr", "EUR").replace("\u00a0", " ")

    mentions = {
        "the words 'mise en demeure'": ["MISE EN DEMEURE", "mettons en demeure"],
        "date": ["Lyon, le 05/10/2026"],
        "creditor identity": ["Atelier Démo SAS", "SIREN 900 000 126", "12 quai des Célestins", "69002 Lyon"],
        "debtor identity": ["Garage C1", "SIREN 745 678 904", "12 rue de la République", "38000 Grenoble"],
        "invoice numbers": ["FA2026-0101", "FA2026-0102"],
        "invoice dates": ["02/08/2026", "04/08/2026"],
        "due dates": ["01/09/2026", "03/09/2026"],
        "amounts": ["1 200,00 €", "834,50 €"],
        "principal": ["Principal restant dû", euros(totals.principal)],
        "late-payment interest rate and accrued amount": [
            "12,15 % l'an",
            "Pénalités de retard",
            euros(interest),
        ],
        "EUR 40 per invoice": ["Indemnité forfaitaire pour frais de recouvrement", "2 × 40,00 €", "80,00 €"],
        "total claimed": [euros(totals.total)],
        "unequivocal demand with a deadline": ["dans un délai de 8 jours", "au plus tard le 13/10/2026"],
        "payment details": ["IBAN FR76 3000 6000 0112 3456 7890 189", "BIC AGRIFRPP", "C1-20261005"],
        "legal basis": ["article 1344 du Code civil", "article L441-10 II du Code de commerce", "D441-5"],
        "consequences": ["injonction de payer", "procédure judiciaire de recouvrement"],
        "registered letter": [
            "Lettre recommandée avec accusé de réception".upper(),
            "lettre recommandée avec accusé de réception",
        ],
        "previous reminders": ["Malgré nos relances du 07/09/2026 et du 16/09/2026"],
    }
    missing = {what: [m for m in expected if m not in text] for what, expected in mentions.items()}
    assert {what: m for what, m in missing.items() if m} == {}
    assert first.charges is not None and second.charges is not None
    assert first.charges.fixed_fee == Money.of("40.00", "EUR")
    # The same HTML gives the same PDF bytes: the content hash recorded in the trace is stable.
    again = DocumentRenderer().letter(
        communication, company(), channel="registered_letter", policies=load_policies()
    )
    assert again.content_hash == letter.content_hash


def test_the_consumer_formal_notice_has_legal_interest_and_no_fixed_fee(tmp_path):
    person = customer("P1", is_consumer=True, siren=None, name="Jean Dupont")
    steps = tuple(
        SentStep(customer_id="P1", item_key="F1", level=level, level_index=index, sent_on=day)
        for level, index, day in (("reminder", 0, D(2026, 9, 8)), ("second_reminder", 1, D(2026, 9, 22)))
    )
    source = data(
        [person], [invoice("F1", "P1", D(2026, 9, 1), "444.00")], history=DunningHistory(steps=steps)
    )
    [communication] = plan_dunning(source, D(2026, 10, 12)).communications
    assert communication.level.code == "formal_notice" and communication.policy == "fr_consumer"
    text = pdf_text(
        DocumentRenderer().letter(communication, company(), channel="registered_letter").pdf, tmp_path
    )
    assert "intérêts au taux légal à compter de la réception de la présente mise en demeure" in text
    assert "dans un délai de 15 jours" in text
    assert "40,00" not in text and "Indemnité forfaitaire" not in text
    assert "petites créances" in text


def test_english_letters_and_emails(tmp_path):
    communication = formal_notice(language="en")
    assert communication.language == "en"
    renderer = DocumentRenderer()
    text = pdf_text(renderer.letter(communication, company(), channel="registered_letter").pdf, tmp_path)
    for expected in (
        "FORMAL NOTICE TO PAY",
        "formal notice",
        "within 8 days",
        "13 October 2026",
        "€1,200.00",
        "order for payment",
    ):
        assert expected in text
    email = renderer.email(communication, company())
    assert email.subject == "Formal notice to pay — Atelier Démo SAS — ref. C1-20261005"
    assert "FA2026-0101" in email.text and "by 13 October 2026" in email.text


def test_french_reminder_email_subject_and_body():
    source = data([customer("C1")], [invoice("FA-7", "C1", D(2026, 9, 1), "99.90")])
    [communication] = plan_dunning(source, D(2026, 9, 7)).communications
    email = DocumentRenderer().email(communication, company())
    assert email.subject == "Relance : facture FA-7 impayée — Atelier Démo SAS"
    assert "FA-7 du 02/08/2026, échue le 01/09/2026 : reste dû 99,90\u00a0€" in email.text
    assert "C1-20260907" in email.text


def test_user_templates_override_the_shipped_ones(tmp_path):
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "reminder.html.j2").write_text(
        '{% extends "base.html.j2" %}{% set subject = "Petit rappel" %}'
        "{% block body %}<p>Cher client {{ debtor.name }}, merci de régler {{ totals[0].total|money }}.</p>{% endblock %}",
        encoding="utf-8",
    )
    source = data([customer("C1")], [invoice("FA-7", "C1", D(2026, 9, 1), "100.00")])
    [communication] = plan_dunning(source, D(2026, 9, 7)).communications
    renderer = DocumentRenderer(tmp_path)
    html, subject = renderer.letter_html(communication, company())
    assert subject == "Petit rappel"
    assert "Cher client Garage C1" in html and "Atelier Démo SAS" in html  # base.html.j2 still shipped
    assert renderer.email(communication, company()).subject.startswith("Relance")  # e-mail not overridden
    (tmp_path / "fr" / "reminder.html.j2").write_text(
        "{% block body %}{{ unknown_name }}{% endblock %}", "utf-8"
    )
    with pytest.raises(ConfigError, match="template fr/reminder.html.j2: 'unknown_name' is undefined"):
        DocumentRenderer(tmp_path).letter_html(communication, company())
    with pytest.raises(ConfigError, match="templates folder .* does not exist"):
        DocumentRenderer(tmp_path / "absent")


def test_exported_templates_are_the_shipped_ones(tmp_path):
    written = export_templates(tmp_path / "letters")
    names = sorted(str(p.relative_to(tmp_path / "letters")) for p in written)
    assert "fr/formal_notice.html.j2" in names and "en/reminder.email.j2" in names and "base.html.j2" in names
    assert len(names) == len(list(shipped_templates_dir().rglob("*.j2")))
    with pytest.raises(ConfigError, match="already exists"):
        export_templates(tmp_path / "letters")


def test_formatting_per_language():
    assert format_money(Money.of("1234.5", "EUR"), "fr") == "1\u00a0234,50\u00a0€"
    assert format_money(Money.of("-1234.5", "EUR"), "en") == "-€1,234.50"
    assert format_money(Money.of("1000", "JPY"), "en") == "1,000\u00a0JPY"
    assert format_date(D(2026, 11, 20), "fr") == "20/11/2026"
    assert format_date(D(2026, 11, 20), "en") == "20 November 2026"
    assert format_rate(Decimal("12.15"), "fr") == "12,15\u00a0%"
