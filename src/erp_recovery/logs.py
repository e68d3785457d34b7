"""Logging helpers: JSON lines for machines, and a filter that masks every secret we resolved.

Secrets are resolved only through :meth:`erp_recovery.config.Secret.get`, which registers the value
here; any log record that would contain it (a URL with a password, an echoed request) is masked
before it reaches a handler.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

_secrets: set[str] = set()
MASK = "***"


def register_secret(value: str) -> None:
    """Mask ``value`` in every log line from now on (values shorter than 4 characters are not)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def mask(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = mask(record.getMessage())
            record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra={...}`` fields."""

    _standard = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._standard and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)
