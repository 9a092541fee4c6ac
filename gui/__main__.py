"""`python -m gui` is `tlfif gui`."""

import sys

from gui.app import run

sys.exit(run())
