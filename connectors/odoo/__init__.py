"""Odoo connector (Odoo 16 to 19): incremental pull of receivables and write-back targets."""
