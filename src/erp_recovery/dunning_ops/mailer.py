"""Sending dunning e-mails over SMTP (``smtplib``): STARTTLS, implicit TLS or plain, with the letter
as a PDF attachment, bounded retries, and a result that says what the server answered.

- A **transient** failure (connection refused or dropped, timeout, a 4xx reply) is retried within
  the run, ``attempts_per_run`` times with a pause; the run records it and the next run retries
  again until ``max_attempts`` is reached, then it is reported and a task is created.
- A **refusal** (5xx: unknown recipient, mailbox full, message rejected — an immediate bounce) is
  not retried within the run; the next runs still try again up to ``max_attempts``.
- **Authentication** refused stops the sending of the run (every e-mail would fail the same way).

Credentials come from ``[smtp] password`` (``${ENV}`` or keyring) and are never logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from erp_recovery.dunning_ops.settings import SmtpSettings
from erp_recovery.errors import AuthenticationError, ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    #: Stable identity (the action key), used in the Message-ID.
    key: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    attempts: int
    detail: str
    #: The server refused the message (5xx): an immediate bounce.
    refused: bool = False
    message_id: str | None = None


class SmtpMailer:
    """Sends :class:`OutgoingEmail` through the ``[smtp]`` server."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        attempts_per_run: int = 2,
        retry_wait_seconds: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.configured:
            raise ConfigError("e-mail sending needs [smtp] host and from_address", key="smtp")
        self.settings = settings
        self.attempts_per_run = attempts_per_run
        self.retry_wait_seconds = retry_wait_seconds
        self.sleep = sleep

    def build(self, email: OutgoingEmail) -> EmailMessage:
        settings = self.settings
        message = EmailMessage()
        sender = settings.from_address or ""
        message["From"] = formataddr((settings.from_name, sender)) if settings.from_name else sender
        message["To"] = email.to
        if settings.reply_to:
            message["Reply-To"] = settings.reply_to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=True)
        domain = sender.rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(idstring=email.key.replace(":", ".") or None, domain=domain)
        message.set_content(email.text)
        for attachment in email.attachments:
            maintype, _, subtype = attachment.mime_type.partition("/")
            message.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        return message

    def _context(self) -> ssl.SSLContext:
        return (
            ssl.create_default_context(cafile=self.settings.ca_file)
            if self.settings.ca_file
            else ssl.create_default_context()
        )

    def _deliver(self, message: EmailMessage) -> None:
        settings = self.settings
        host = settings.host or ""
        port = settings.effective_port
        timeout = settings.timeout_seconds
        client: smtplib.SMTP
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=self._context(), local_hostname=settings.local_hostname
            )
        else:
            client = smtplib.SMTP(host, port, timeout=timeout, local_hostname=settings.local_hostname)
        with client:
            client.ehlo()
            if settings.security == "starttls":
                client.starttls(context=self._context())
                client.ehlo()
            if settings.username:
                if settings.password is None:
                    raise ConfigError("[smtp] username is set but no password reference", key="smtp.password")
                client.login(settings.username, settings.password.get())
            recipients = [message["To"]]
            if settings.bcc:
                recipients.append(settings.bcc)
            client.send_message(message, to_addrs=recipients)

    def send(self, email: OutgoingEmail) -> DeliveryResult:
        """Send with up to ``attempts_per_run`` attempts; raises AuthenticationError when refused."""
        message = self.build(email)
        message_id = str(message["Message-ID"])
        attempts = 0
        detail = ""
        while attempts < self.attempts_per_run:
            attempts += 1
            try:
                self._deliver(message)
                log.info("dunning e-mail %s sent to %s", email.key, email.to)
                return DeliveryResult(
                    ok=True, attempts=attempts, detail="accepted by the SMTP server", message_id=message_id
                )
            except smtplib.SMTPAuthenticationError as exc:
                raise AuthenticationError(
                    f"the SMTP server {self.settings.host} refused the login of {self.settings.username}: "
                    f"{exc.smtp_code} {_text(exc.smtp_error)} (check [smtp] username and the password variable)"
                ) from None
            except smtplib.SMTPRecipientsRefused as exc:
                refusals = "; ".join(
                    f"{addr}: {code} {_text(text)}" for addr, (code, text) in exc.recipients.items()
                )
                return DeliveryResult(
                    ok=False, attempts=attempts, detail=f"recipient refused: {refusals}", refused=True
                )
            except smtplib.SMTPResponseException as exc:
                detail = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                if 500 <= exc.smtp_code < 600:
                    return DeliveryResult(
                        ok=False, attempts=attempts, detail=f"refused: {detail}", refused=True
                    )
            except (TimeoutError, smtplib.SMTPException, OSError) as exc:
                detail = f"{type(exc).__name__}: {exc}".strip()
            log.warning(
                "dunning e-mail %s to %s: attempt %s failed: %s", email.key, email.to, attempts, detail
            )
            if attempts < self.attempts_per_run:
                self.sleep(self.retry_wait_seconds * attempts)
        return DeliveryResult(ok=False, attempts=attempts, detail=detail or "not sent")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
