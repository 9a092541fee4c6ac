"""`tlfif`: the command line (console script `tlfif = "tlfif_cli:main"`)."""

from tlfif_cli.main import main

__all__ = ["main"]
