"""TL-FIF as bench/peers/tlfif_worker.py runs it, with the watcher's JSON log lines at INFO
written to a file, as on the node: beside plain tlfif in the table, what the one
job_answered line per job costs (issue 15)."""

import sys

from bench.peers.tlfif_worker import main

if __name__ == "__main__":
    sys.exit(main(logged=True))
