"""One script per queue system `python -m bench queues` compares: its worker and its
submitter, behind one command line (bench/peers/protocol.py).

Each runs in its system's own venv (bench/.work/venvs/<peer>, made by `make bench-setup`),
TL-FIF's and the floor's in the repo's .venv, so nothing here may import from outside
bench.peers at module level but the system it drives.
"""
