"""`python -m watcher` runs the node's watcher (see watcher/main.py)."""

import sys

from watcher.main import main

sys.exit(main())
