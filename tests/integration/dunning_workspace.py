"""A company whose books are CSV exports, a configuration, and a local SMTP server (not a test module).

The CSV files use the shipped generic mappings (``csv_customers``, ``csv_invoices``...), so a
test changes the books by rewriting a file and running ``erp-recovery sync``, as a user would.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

CUSTOMER_HEADER = (
    "code;name;parent_code;siren;vat;iban;email;phone;street;postal_code;city;country;terms_days;terms_method;"
    "credit_limit;risk_code;consumer;segment;language"
)
INVOICE_HEADER = (
    "number;type;customer_code;issue_date;due_date;currency;total;residual;status;disputed;payment_reference;"
    "customer_reference"
)


def customer_row(code: str, name: str, email: str = "", siren: str = "745678904") -> str:
    return f"{code};{name};;{siren};;;{email};+33 4 76 00 00 01;12 rue de la République;38000;Grenoble;FR;30;net;;;non;;fr"


def invoice_row(
    number: str, customer: str, issue: str, due: str, total: str, residual: str | None = None
) -> str:
    left = total if residual is None else residual
    status = "paid" if left in ("0", "0,00") else "open"
    return f"{number};FA;{customer};{issue};{due};EUR;{total};{left};{status};non;{number};"


@dataclass
class Workspace:
    folder: Path
    db: str
    smtp_port: int | None = None
    smtp_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.folder / "erp-recovery.toml"

    def write_books(self, customers: list[str], invoices: list[str]) -> None:
        (self.folder / "customers.csv").write_text("\n".join([CUSTOMER_HEADER, *customers]) + "\n", "utf-8")
        (self.folder / "invoices.csv").write_text("\n".join([INVOICE_HEADER, *invoices]) + "\n", "utf-8")

    def write_config(self, dunning: str = "", smtp: str | None = None) -> None:
        smtp_section = smtp
        if smtp_section is None and self.smtp_port is not None:
            smtp_section = (
                f'[smtp]\nhost = "127.0.0.1"\nport = {self.smtp_port}\nsecurity = "none"\n'
                'from_address = "relances@atelier-demo.example"\nfrom_name = "Atelier Démo SAS"\ntimeout_seconds = 5\n'
            )
        text = f"""
[store]
url = "unused.sqlite"

[[companies]]
code = "acme"
name = "Atelier Démo SAS"
siren = "900000126"
iban = "FR7630006000011234567890189"
bic = "AGRIFRPP"
email = "recouvrement@atelier-demo.example"
address = {{ street = "12 quai des Célestins", postal_code = "69002", city = "Lyon", country = "FR" }}

[[sources]]
name = "books"
company = "acme"
connector = "csv"
[sources.settings.streams.customers]
path = "customers.csv"
mapping = "csv_customers"
snapshot = true
[sources.settings.streams.invoices]
path = "invoices.csv"
mapping = "csv_invoices"
snapshot = true

[dunning]
outbox_dir = "outbox"
retry_wait_seconds = 0
attempts_per_run = 2
max_attempts = 3
{dunning}
{smtp_section or ""}
"""
        self.config.write_text(text, "utf-8")

    def args(self, *command: str) -> list[str]:
        return ["--config", str(self.config), "--db", self.db, *command]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping every message; ``refuse`` lists recipients answered with 550."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def start_smtp(mailbox: Mailbox, port: int, **kwargs: Any) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


def self_signed(folder: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 (cryptography), its key, and the server's TLS context."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "smtp-cert.pem"
    key_path = folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_path), str(key_path))
    return cert_path, key_path, context
