"""An Odoo 18 stand-in: a real HTTP server on 127.0.0.1 that answers like Odoo.

Built from the recordings of a real Odoo 18 server in ``recordings/18.0`` (copied from
``shared/odoo-recordings/18.0``; see its ``INDEX.md``): same field definitions (``fields_get``),
same data, same error payloads and quirks. Used by ``tests/unit/test_odoo_*`` and
``tests/integration/test_odoo_*``; nothing in ``connectors/odoo`` knows it exists.
"""

from .orm import StandinDatabase, User
from .seed import base_database, recorded_database
from .server import OdooStandin

__all__ = ["OdooStandin", "StandinDatabase", "User", "base_database", "recorded_database"]
