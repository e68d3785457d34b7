"""``python -m erp_recovery.cli`` = the ``erp-recovery`` command."""

import sys

from erp_recovery.cli.main import main

sys.exit(main())
