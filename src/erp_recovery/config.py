"""Configuration: one TOML file (``erp-recovery.toml``) listing the store, companies and sources.

Secrets never live in the file: a secret setting is written as ``"${ODOO_PASSWORD}"`` (environment
variable) or ``"keyring:erp-recovery/odoo-main"`` (system keyring, service/username) and resolved
only when a connector needs it. ``${VAR}`` also works in plain settings such as URLs.

Engines read their own sections (``[matching]``, ``[risk]``, ``[dunning]``, ``[writeback]``...)
through :meth:`AppConfig.section`, each with its own pydantic model, so a bad value is reported with
its full key and the allowed values.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import core_schema

from erp_recovery.errors import ConfigError
from erp_recovery.logs import register_secret
from erp_recovery.model.records import Company

CONFIG_ENV = "ERP_RECOVERY_CONFIG"
DEFAULT_CONFIG_FILE = "erp-recovery.toml"

#: Top-level sections besides store/companies/sources, owned by the engines that read them.
ENGINE_SECTIONS = (
    "logging",
    "matching",
    "risk",
    "legal",
    "signals",
    "dunning",
    "smtp",
    "writeback",
    "approvals",
    "pipeline",
    "schedule",
    "workers",
    "reports",
)

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KEYRING_PREFIX = "keyring:"

SectionT = TypeVar("SectionT", bound=BaseModel)


class Secret:
    """A reference to a secret (``${ENV_VAR}`` or ``keyring:service/username``), resolved on use.

    Its ``repr`` and ``str`` never show the value; a literal secret in the file is refused.
    """

    def __init__(self, reference: str) -> None:
        self.reference = reference

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda secret: secret.reference),
        )

    @classmethod
    def _validate(cls, value: Any) -> Secret:
        if isinstance(value, Secret):
            return value
        if not isinstance(value, str):
            raise ValueError("a secret must be a string reference")
        if _ENV_REF.fullmatch(value) or value.startswith(_KEYRING_PREFIX):
            return cls(value)
        raise ValueError(
            "secrets must not be written in the configuration file: use an environment variable "
            '("${NAME}") or the system keyring ("keyring:service/username")'
        )

    def get(self) -> str:
        """The secret's value; raises ConfigError naming the variable or keyring entry if absent.

        The value is registered with :mod:`erp_recovery.logs` so that no log line can show it.
        """
        value = self._lookup()
        register_secret(value)
        return value

    def _lookup(self) -> str:
        match = _ENV_REF.fullmatch(self.reference)
        if match:
            value = os.environ.get(match.group(1))
            if value is None:
                raise ConfigError(f"environment variable {match.group(1)} is not set")
            return value
        service, _, username = self.reference[len(_KEYRING_PREFIX) :].partition("/")
        try:
            import keyring
            from keyring.errors import KeyringError

            try:
                value = keyring.get_password(service, username)
            except KeyringError as exc:
                raise ConfigError(f"cannot read keyring entry {service}/{username}: {exc}") from None
        except ImportError:  # pragma: no cover - keyring is a dependency
            raise ConfigError("the keyring package is not installed") from None
        if value is None:
            raise ConfigError(f"no keyring entry for service {service!r} and user {username!r}")
        return value

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__


def expand_env(value: str) -> str:
    """Replace ``${VAR}`` in a plain (non-secret) setting; an unset variable is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(replace, value)


class StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: SQLAlchemy URL or a file path (SQLite). A relative path is relative to the config file.
    url: str = "erp-recovery.sqlite"


class SourceConfig(BaseModel):
    """A ``[[sources]]`` entry. ``settings`` is validated by the connector's own settings model."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    company: str
    connector: str
    enabled: bool = True
    #: Cron expression for ``erp-recovery schedule`` (None = only on demand).
    schedule: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    #: Folder that relative paths in settings are resolved against (the config file's folder).
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    def resolve_path(self, value: str | Path) -> Path:
        path = Path(expand_env(str(value))).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()


class AppConfig(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid")

    store: StoreConfig = Field(default_factory=StoreConfig)
    companies: list[Company] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    sections: dict[str, dict[str, Any]] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return sources

    @model_validator(mode="after")
    def _known_companies(self) -> AppConfig:
        codes = [company.code for company in self.companies]
        if len(codes) != len(set(codes)):
            raise ValueError("company codes must be unique")
        for source in self.sources:
            if source.company not in codes:
                allowed = ", ".join(codes) or "(no [[companies]] defined)"
                raise ValueError(
                    f"source {source.name!r} names unknown company {source.company!r}; known: {allowed}"
                )
        return self

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def company(self, code: str) -> Company:
        for company in self.companies:
            if company.code == code:
                return company
        known = ", ".join(c.code for c in self.companies) or "none"
        raise ConfigError(f"unknown company {code!r}; configured companies: {known}", key="companies")

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"unknown source {name!r}; configured sources: {known}", key="sources")

    def sources_of(self, company: str | None = None) -> list[SourceConfig]:
        return [s for s in self.sources if s.enabled and (company is None or s.company == company)]

    def section(self, name: str, model: type[SectionT]) -> SectionT:
        """The ``[name]`` section validated by ``model`` (defaults when the section is absent)."""
        if name not in ENGINE_SECTIONS:
            raise ValueError(f"section {name!r} is not declared in config.ENGINE_SECTIONS")
        raw = self.sections.get(name, {})
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise config_error_from_validation(exc, prefix=name, path=self.path, model=model) from None

    def store_url(self, override: str | None = None) -> str:
        url = override or os.environ.get("ERP_RECOVERY_DB") or expand_env(self.store.url)
        if "://" not in url:
            path = Path(url).expanduser()
            if not path.is_absolute():
                path = (Path.cwd() if override else self.base_dir) / path
            return f"sqlite:///{path}"
        return url


def config_error_from_validation(
    exc: ValidationError, *, prefix: str = "", path: Path | None = None, model: type[BaseModel] | None = None
) -> ConfigError:
    """The first validation error as a ConfigError naming its full key and what is allowed."""
    error = exc.errors()[0]
    parts = [prefix] if prefix else []
    parts += [str(part) for part in error["loc"]]
    key = ".".join(parts)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(model or _MODELS_BY_TITLE.get(exc.title), error["loc"][:-1])
        message = f"unknown key{'; allowed: ' + allowed if allowed else ''}"
    elif error["type"] == "literal_error" and "expected" in error.get("ctx", {}):
        message = f"invalid value {error.get('input')!r}; allowed: {error['ctx']['expected']}"
    return ConfigError(
        message.removeprefix("Value error, "), key=key or None, path=str(path) if path else None
    )


def _allowed_keys(model: type[BaseModel] | None, location: tuple[int | str, ...]) -> str:
    """Field names of the (nested) model at ``location``, to list what is allowed there."""
    current: Any = model
    for part in location:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        current = _model_in(field.annotation) if field else None
    if current is None or not (isinstance(current, type) and issubclass(current, BaseModel)):
        return ""
    return ", ".join(
        name for name, info in current.model_fields.items() if not info.exclude and name != "sections"
    )


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()) or ():
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _resolve_section_names(raw: dict[str, Any]) -> dict[str, Any]:
    known = {"store", "companies", "sources"}
    sections: dict[str, dict[str, Any]] = {}
    result: dict[str, Any] = {}
    for key, value in raw.items():
        if key in known:
            result[key] = value
        elif key in ENGINE_SECTIONS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"must be a table ([{key}])", key=key)
            sections[key] = dict(value)
        else:
            allowed = ", ".join([*sorted(known), *ENGINE_SECTIONS])
            raise ConfigError(f"unknown section; allowed: {allowed}", key=key)
    result["sections"] = sections
    return result


def load_config(path: str | Path | None = None) -> AppConfig:
    """Load and validate a configuration file (``--config``, $ERP_RECOVERY_CONFIG or ./erp-recovery.toml)."""
    candidate = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE).expanduser()
    if not candidate.exists():
        raise ConfigError(
            f"configuration file {candidate} not found (give --config PATH, set {CONFIG_ENV}, "
            "or run 'erp-recovery demo' to see a working example)"
        )
    try:
        raw = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(candidate)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=str(candidate)) from None
    return parse_config(raw, path=candidate.resolve())


def parse_config(raw: dict[str, Any], *, path: Path | None = None) -> AppConfig:
    try:
        data = _resolve_section_names(raw)
    except ConfigError as exc:
        raise ConfigError(exc.message, path=str(path) if path else None) from None
    base_dir = path.parent if path else Path.cwd()
    for source in data.get("sources", []) or []:
        if isinstance(source, dict):
            source.setdefault("base_dir", base_dir)
    try:
        config = AppConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error_from_validation(exc, path=path) from None
    config.path = path
    return config


_MODELS_BY_TITLE: dict[str, type[BaseModel]] = {
    model.__name__: model for model in (AppConfig, StoreConfig, SourceConfig)
}


def empty_config() -> AppConfig:
    """Configuration used when no file exists (commands that only need a database)."""
    return AppConfig()
