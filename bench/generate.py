"""Write N realistic OpenAI ``fine_tuning.job`` objects, deterministically: the generator itself
is tests/support/generate.py, shared with the tests; this runs it as ``python -m bench generate``.

    python -m bench generate --count 100000 --format jsonl --seed 1 -o bench/out/jobs.jsonl
    python -m bench generate --self-test --count 20000   # validate with ftjobs' pydantic model
"""

from __future__ import annotations

import sys

from tests.support.generate import main

if __name__ == "__main__":
    sys.exit(main())
