"""Dunning operations on the store: the day's plan, running it (render, send, record, tasks),
escalation dossiers, SMTP sending, and the ``dunning`` write-back provider.

The engine (:mod:`erp_recovery.engines.dunning`) decides; this package carries its decisions out
and keeps the trace. See :mod:`.service` for the order of a run and why a rerun sends nothing.
"""
