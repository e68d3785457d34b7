"""The worker mode's schedule and routing, read from the same configuration as ``erp-recovery schedule``."""

from __future__ import annotations

import pytest

from erp_recovery.config import parse_config

celery = pytest.importorskip(
    "celery", reason="the worker mode needs celery (pip install 'erp-recovery[workers]')"
)


def _config():  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "companies": [{"code": "acme", "name": "Acme"}, {"code": "beta", "name": "Beta"}],
            "sources": [{"name": "bank", "company": "beta", "connector": "csv", "schedule": "*/5 * * * *"}],
            "schedule": {"default": "0 7-19 * * 1-5"},
            "workers": {"broker_url": "amqp://guest:guest@127.0.0.1:5672//", "queue_prefix": "erp"},
        }
    )


def test_beat_sends_a_start_run_per_job_with_its_cron():
    from erp_recovery.pipeline.tasks import START_RUN, beat_schedule

    entries = beat_schedule(_config())
    assert set(entries) == {"erp-recovery acme", "erp-recovery beta", "erp-recovery beta/bank"}
    acme = entries["erp-recovery acme"]
    assert acme["task"] == START_RUN and acme["options"] == {"queue": "erp.control"}
    assert acme["kwargs"] == {"company": "acme", "sources": None, "trigger": "beat"}
    assert acme["schedule"].hour == set(range(7, 20)) and acme["schedule"].day_of_week == {1, 2, 3, 4, 5}
    bank = entries["erp-recovery beta/bank"]
    assert bank["kwargs"]["sources"] == ["bank"] and bank["schedule"].minute == set(range(0, 60, 5))


def test_tasks_are_acknowledged_late_and_routed_to_their_queues():
    from erp_recovery.pipeline.tasks import RUN_STAGE, START_RUN, _queue_for, celery_app_for

    config = _config()
    app = celery_app_for(config)
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert {queue.name for queue in app.conf.task_queues} == {"erp.control", "erp.sync", "erp.stages"}
    assert {START_RUN, RUN_STAGE} <= set(app.tasks)
    assert _queue_for(config, "sync:bank") == "erp.sync"
    assert _queue_for(config, "assess") == "erp.stages"
