"""Sage and FEC connectors.

- :mod:`.fec_format`, :mod:`.fec_reader`: the legal FEC (article A47 A-1 of the Livre des procédures
  fiscales) read and validated in one streaming pass;
- :mod:`.fec_rules`, :mod:`.fec_derive`: which journals and accounts mean what, and the derivation of
  customers, invoices, credit notes, payments and allocations (from lettrage) out of the ledger;
- :mod:`.sage100_exports`: Sage 100 (FR) tiers, échéancier and balance âgée exports read through
  the declarative mappings of ``mappings/``;
- :mod:`.format_sage`: the Sage 100 "format Sage" flat file (``#MPCT`` customer records) read and
  written for write-back;
- :mod:`.sage50`, :mod:`.sage50_ledger`, :mod:`.sage50_customers`: Sage 50 (UK) customer records
  and audit trail CSV through mappings, the derivation of invoices, receipts and allocations, and
  the customer records CSV written back;
- :mod:`.drafts`: record drafts of a derivation, validated in batches.
"""
