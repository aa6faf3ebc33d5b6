"""ftjobs' benchmarks, run from the repository root as ``python -m bench NAME [ARGS]``
(``python -m bench`` lists them; bench/README.md has their numbers). Kept empty: every timed
child process (``python -m bench.floor``...) imports this first."""
