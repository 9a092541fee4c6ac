"""`python -m tlfif` is the `tlfif` command."""

import sys

from tlfif.cli import main

sys.exit(main())
