"""`tlfif`: the command line (console script `tlfif = "tlfif.cli:main"`)."""

from tlfif.cli.main import main

__all__ = ["main"]
