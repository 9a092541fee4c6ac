"""`make bench`: side-by-side comparisons, each written to bench/results/<name>.json.

Performance claims come from here, never from timed assertions in tests: every figure is
a ratio of things measured in the same run, interleaved, because these machines are noisy.
"""
