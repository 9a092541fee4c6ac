"""`python -m tlfif_cli` is the `tlfif` command."""

import sys

from tlfif_cli.main import main

sys.exit(main())
