"""Render dunning documents: Jinja2 templates → HTML → PDF (WeasyPrint), and e-mail texts.

Templates live in ``templates/<language>/`` of this package: ``<template>.html.j2`` is the letter
(one per level: courtesy, reminder, second_reminder, formal_notice) and ``<template>.email.j2`` the
e-mail that carries it (it sets ``subject`` and its output is the body). ``dossier.html.j2`` is the
escalation dossier. ``base.html.j2`` and ``macros.html.j2`` hold the layout and the tables.

Overriding: set ``[dunning] templates_dir`` to a folder with the same layout; a file found there
replaces the shipped one of the same path, anything else still comes from the package, so copying
one letter and editing it is enough (``erp-recovery dunning templates --export DIR`` copies them
all). Templates are sandboxed (no access to Python internals) and undefined names are errors.

PDF: WeasyPrint (Pango on Debian: ``libpango-1.0-0 libpangoft2-1.0-0``, fonts ``fonts-dejavu-core``).
Its output is byte-for-byte reproducible for the same HTML, so the content hash of a letter is stable.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from erp_recovery.dunning_docs.context import letter_context
from erp_recovery.dunning_docs.formatting import filters
from erp_recovery.engines.dunning.plan import PlannedCommunication
from erp_recovery.engines.dunning.policy import PolicySet
from erp_recovery.errors import ConfigError, FatalError
from erp_recovery.model.records import Company

LANGUAGES = ("fr", "en")


def shipped_templates_dir() -> Path:
    return Path(str(resources.files("erp_recovery.dunning_docs").joinpath("templates")))


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str


@dataclass(frozen=True)
class RenderedLetter:
    """A letter as HTML and PDF, with the hash of what was rendered."""

    html: str
    pdf: bytes
    subject: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


class DocumentRenderer:
    """Renders letters, e-mails and dossiers from the shipped templates and the user's overrides."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        if templates_dir is not None and not templates_dir.is_dir():
            raise ConfigError(f"templates folder {templates_dir} does not exist", key="dunning.templates_dir")
        self.templates_dir = templates_dir
        self._environments: dict[str, SandboxedEnvironment] = {}

    def environment(self, language: str) -> SandboxedEnvironment:
        if language not in LANGUAGES:
            raise ConfigError(f"no letters in language {language!r}; available: {', '.join(LANGUAGES)}")
        if language not in self._environments:
            loaders: list[Any] = []
            if self.templates_dir is not None:
                loaders.append(FileSystemLoader(str(self.templates_dir)))
            loaders.append(FileSystemLoader(str(shipped_templates_dir())))
            environment = SandboxedEnvironment(
                loader=ChoiceLoader(loaders),
                autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
            environment.filters.update(filters(language))
            self._environments[language] = environment
        return self._environments[language]

    def _render(self, language: str, name: str, context: dict[str, Any]) -> tuple[str, Any]:
        path = f"{language}/{name}"
        try:
            template = self.environment(language).get_template(path)
            module = template.make_module(context)
            return str(module), module
        except TemplateNotFound:
            where = f"{self.templates_dir} nor " if self.templates_dir else ""
            raise ConfigError(f"template {path} not found in {where}the shipped templates") from None
        except TemplateError as exc:
            raise ConfigError(f"template {path}: {exc}") from None

    def letter_html(
        self,
        communication: PlannedCommunication,
        company: Company,
        *,
        channel: str = "letter",
        policies: PolicySet | None = None,
    ) -> tuple[str, str]:
        """(HTML, subject) of the letter of ``communication``."""
        context = letter_context(communication, company, channel=channel, policies=policies)
        html, module = self._render(
            communication.language, f"{communication.level.template}.html.j2", context
        )
        return html, str(getattr(module, "subject", communication.level.label)).strip()

    def letter(
        self,
        communication: PlannedCommunication,
        company: Company,
        *,
        channel: str = "letter",
        policies: PolicySet | None = None,
    ) -> RenderedLetter:
        html, subject = self.letter_html(communication, company, channel=channel, policies=policies)
        return RenderedLetter(html=html, pdf=html_to_pdf(html), subject=subject)

    def email(
        self, communication: PlannedCommunication, company: Company, *, policies: PolicySet | None = None
    ) -> RenderedEmail:
        context = letter_context(communication, company, channel="email", policies=policies)
        text, module = self._render(
            communication.language, f"{communication.level.template}.email.j2", context
        )
        subject = " ".join(str(getattr(module, "subject", communication.level.label)).split())
        return RenderedEmail(subject=subject, text=text.strip() + "\n")

    def dossier_html(self, context: dict[str, Any], language: str = "fr") -> str:
        html, _ = self._render(language, "dossier.html.j2", context)
        return html


def export_templates(destination: Path) -> list[Path]:
    """Copy the shipped templates into ``destination`` (refuses to overwrite existing files)."""
    source = shipped_templates_dir()
    written = []
    for path in sorted(source.rglob("*.j2")):
        target = destination / path.relative_to(source)
        if target.exists():
            raise ConfigError(f"{target} already exists: export into an empty folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(target)
    return written


@lru_cache(maxsize=1)
def _weasyprint() -> Any:
    try:
        import weasyprint
    except OSError as exc:  # the Pango libraries are missing
        raise FatalError(
            f"WeasyPrint cannot load its system libraries ({exc}); on Debian/Ubuntu install "
            "libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
        ) from None
    except ImportError:
        raise FatalError("WeasyPrint is not installed: pip install weasyprint") from None
    return weasyprint


def pdf_unavailable() -> str | None:
    """Why PDFs cannot be rendered on this machine (WeasyPrint or its Pango libraries missing), or None."""
    try:
        _weasyprint()
    except FatalError as exc:
        return exc.message
    return None


def html_to_pdf(html: str) -> bytes:
    """A PDF of ``html`` (A4 pages as the template's CSS sets them)."""
    pdf: bytes = _weasyprint().HTML(string=html).write_pdf()
    return pdf
