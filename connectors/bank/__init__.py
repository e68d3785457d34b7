"""Bank statement files: camt.052/053/054, MT940/MT942, OFX 1.x/2.x, CFONB 120, and ZIPs of them.

One module per format (``camt``, ``mt940``, ``ofx``, ``cfonb120``, ``archive``), each with
``identify_head(head)`` and ``read(infile, options)``; :mod:`.registry` offers ``identify(path)``
and ``extract(path)`` over all of them. Every reader yields canonical
:class:`~erp_recovery.model.BankTransaction` records followed by a
:class:`~.model.StatementSummary` per statement (balances and their check).
"""
