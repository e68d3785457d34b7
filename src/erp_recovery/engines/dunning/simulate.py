"""Run the engine over a range of days in memory: what would have been sent, day by day.

Each day's communications become the history of the next days (levels reached, deadlines), its
tasks are created once, and promises found broken stay broken — as ``dunning run`` would record
them, without a store. Used by the demo (a dunning history for the demo company) and by tests
that walk a customer through every level; data that changes over time (a payment arriving) is
given by ``changes``: a function returning the input of a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import replace

from erp_recovery.engines.dunning.engine import DunningHistory, DunningInput, SentStep, plan_dunning
from erp_recovery.engines.dunning.holds import PromiseStatus
from erp_recovery.engines.dunning.plan import DunningPlan

ONE_DAY = dt.timedelta(days=1)


def simulate(
    data: DunningInput,
    start: dt.date,
    end: dt.date,
    *,
    changes: Callable[[dt.date, DunningInput], DunningInput] | None = None,
) -> Iterator[DunningPlan]:
    """The plan of every day from ``start`` to ``end`` (inclusive), each day's output feeding the next."""
    steps = list(data.history.steps)
    task_keys = set(data.history.task_keys)
    statuses: dict[str, PromiseStatus] = dict(data.promise_status)
    day = start
    while day <= end:
        today = changes(day, data) if changes is not None else data
        today = replace(
            today,
            history=DunningHistory(steps=tuple(steps), task_keys=frozenset(task_keys)),
            promise_status=dict(statuses),
        )
        plan = plan_dunning(today, day)
        for communication in plan.communications:
            steps.extend(
                SentStep(
                    customer_id=communication.customer_id,
                    item_key=item.key,
                    level=communication.level.code,
                    level_index=communication.level_index,
                    sent_on=day,
                    deadline=communication.deadline,
                )
                for item in communication.items
            )
        task_keys.update(task.key for task in plan.tasks)
        for update in plan.promise_updates:
            statuses[update.promise_id] = update.status
        yield plan
        day += ONE_DAY
