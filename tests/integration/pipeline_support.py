"""What the pipeline tests share: generated CSV companies, configurations, brokers, worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

HERE = Path(__file__).parent
WORKER_SCRIPT = HERE / "pipeline_worker.py"
REDIS_URL = os.environ.get("ERP_RECOVERY_TEST_REDIS", "redis://127.0.0.1:6379/11")
RABBITMQ_URL = os.environ.get("ERP_RECOVERY_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")

CUSTOMERS_HEADER = (
    "code;name;parent_code;siren;vat;iban;email;phone;street;postal_code;city;country;terms_days;"
    "terms_method;credit_limit;risk_code;consumer;segment;language"
)
INVOICES_HEADER = (
    "number;type;customer_code;issue_date;due_date;currency;total;residual;status;disputed;"
    "payment_reference;customer_reference"
)


def write_company(folder: Path, *, invoices: int = 600, customers: int = 20, seed: int = 1) -> Path:
    """customers.csv and invoices.csv of a generated company (some customers late, some over limit)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [CUSTOMERS_HEADER]
    for n in range(customers):
        limit = f"{5000 + 1000 * ((n * 7 + seed) % 10)},00"
        rows.append(
            f"C{n:03d};Client {seed}-{n} SARL;;;;;compta{n}@client.example;;1 rue du Port;69002;Lyon;FR;30;net;"
            f"{limit};;non;retail;fr"
        )
    (folder / "customers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows = [INVOICES_HEADER]
    for n in range(1, invoices + 1):
        customer = (n * 31 + seed) % customers
        month = 1 + n % 6
        day = 1 + n % 27
        total = 100 + (n * 37 + seed) % 2900
        # Customers with a low index pay late: their old invoices stay open.
        residual = f"{total},00" if (customer < customers // 3 or month >= 5) else "0,00"
        status = "open" if residual != "0,00" else "paid"
        rows.append(
            f"F{seed:03d}-{n:06d};FA;C{customer:03d};2026-{month:02d}-{day:02d};2026-{month + 1:02d}-{day:02d};EUR;"
            f"{total},00;{residual};{status};non;F{seed:03d}-{n:06d};"
        )
    (folder / "invoices.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def company_toml(code: str, folder: Path, *, source: str | None = None, writeback: bool = True) -> str:
    source = source or f"{code}-books"
    text_ = f"""
[[companies]]
code = "{code}"
name = "Company {code}"
base_currency = "EUR"
jurisdiction = "FR"

[[sources]]
name = "{source}"
company = "{code}"
connector = "csv"
[sources.settings.streams.customers]
path = "{folder / "customers.csv"}"
mapping = "csv_customers"
snapshot = true
[sources.settings.streams.invoices]
path = "{folder / "invoices.csv"}"
mapping = "csv_invoices"
snapshot = true
"""
    if writeback:
        text_ += f"""[sources.settings.writeback]
stream = "customers"
output = "{folder / "outbox" / "customers-import.csv"}"
actions_output = "{folder / "outbox" / "dunning-steps.csv"}"
[sources.settings.writeback.columns]
credit_limit = "credit_limit"
risk_flag = "risk_code"
"""
    return text_


def config_text(
    store_url: str,
    companies: str,
    *,
    broker: str | None = None,
    stages: tuple[str, ...] = ("sync", "match", "assess", "writeback_plan", "apply", "report"),
    approvals: str | None = None,
    workers: dict[str, Any] | None = None,
    pipeline: dict[str, Any] | None = None,
) -> str:
    stage_list = ", ".join(f'"{stage}"' for stage in stages)
    text_ = f"""
[store]
url = "{store_url}"
{companies}
[writeback]
owned_fields = ["credit_limit", "risk_flag", "dunning_step"]
max_share = 1.0

[pipeline]
stages = [{stage_list}]
retry_wait_seconds = 0.2
retry_max_wait_seconds = 2
"""
    for key, value in (pipeline or {}).items():
        text_ += f"{key} = {_toml(value)}\n"
    text_ += approvals if approvals is not None else AUTO_APPROVALS
    if broker:
        text_ += f'\n[workers]\nbroker_url = "{broker}"\nqueue_prefix = "t{uuid.uuid4().hex[:10]}"\n'
        for key, value in (workers or {}).items():
            text_ += f"{key} = {_toml(value)}\n"
    return text_


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


#: Every change applies by itself (the fault tests check what is written, not who approves it).
AUTO_APPROVALS = """
[approvals]
auto = ["credit_limit", "risk_flag", "dunning_step"]
wait_values = {}
[approvals.credit_limit]
max_auto_cut = 1.0
first_limit = "auto"
"""


# -- services ------------------------------------------------------------------------------------


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def broker_or_skip(kind: str) -> str:
    """The broker URL of ``kind`` (redis or rabbitmq), or skip the test with the reason."""
    url = REDIS_URL if kind == "redis" else RABBITMQ_URL
    host_port = url.split("@")[-1].split("//", 1)[-1].split("/")[0]
    host, _, port = host_port.partition(":")
    port_number = int(port or (6379 if kind == "redis" else 5672))
    if not _port_open(host or "127.0.0.1", port_number):
        pytest.skip(f"{kind} broker not reachable at {host}:{port_number}")
    try:
        import celery  # noqa: F401
    except ImportError:
        pytest.skip("celery is not installed (pip install 'erp-recovery[workers]')")
    if kind == "redis":
        import redis

        redis.Redis.from_url(url).flushdb()
    return url


class Worker:
    """An ``erp-recovery worker`` process (through :mod:`pipeline_worker`), in its own process group."""

    def __init__(self, config: Path, *, name: str, log: Path, env: dict[str, str] | None = None,
                 concurrency: int = 1) -> None:  # fmt: skip
        self.log_path = log
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), str(config), name, str(concurrency)],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole group: the worker and its pool processes die like a machine losing power."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # the database may be restarting
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()


def run_row(url: str) -> Any:
    rows = query(url, "SELECT * FROM pipeline_runs ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else None


def finished_run(url: str, *, timeout: float) -> Any:
    return wait_for(
        lambda: (lambda row: row if row is not None and row.status != "running" else None)(run_row(url)),
        timeout=timeout,
        what="the pipeline run to finish",
    )
