#!/usr/bin/env python3
"""Run an ftjobs command under a CPU-time sampler and write where its CPU went.

On a shared machine a wall-clock profiler (pyinstrument, cProfile with the default timer)
mostly shows waiting: for the server, or for a core. This one samples on SIGPROF, which the
kernel sends per CPU time the process uses (user + system; every ~4 ms here, the kernel's
tick), and counts each frame on the stack once per sample: "inclusive" is the share of the
process's CPU spent in that function or below it, "leaf" the share spent in it itself. The
handler runs between bytecodes, so time inside a C call counts for the Python function that
made it. cProfile's deterministic hooks inflate Python-heavy code (the openai SDK, re.sub's
template callbacks) several times over; this does not.

    OPENAI_API_KEY=... OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 \\
        python -m bench sample-cpu -o bench/out/sync-cpu.txt -- --db bench/out/s.db sync
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import sys
from pathlib import Path
from types import FrameType


def frame_name(frame: FrameType) -> str:
    code = frame.f_code
    path = Path(code.co_filename)
    return f"{path.parent.name}/{path.name}:{code.co_name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--top", type=int, default=80)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="ftjobs' arguments, after --")
    args = parser.parse_args()
    ftjobs_args = args.args[1:] if args.args[:1] == ["--"] else args.args

    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    total = 0

    def sample(signum: int, frame: FrameType | None) -> None:
        nonlocal total
        total += 1
        if frame is not None:
            leaf[frame_name(frame)] += 1
        seen = set()
        while frame is not None:
            name = frame_name(frame)
            if name not in seen:
                seen.add(name)
                inclusive[name] += 1
            frame = frame.f_back

    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)
    sys.argv = ["ftjobs", *ftjobs_args]
    code = 0
    try:
        from ftjobs.cli import main as ftjobs_main

        ftjobs_main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        times = os.times()
        lines = [
            f"{total} samples; process CPU {times.user + times.system:.2f} s"
            f" ({(times.user + times.system) / max(total, 1) * 1000:.1f} ms a sample)",
            "",
            "inclusive:",
        ]
        lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in inclusive.most_common(args.top)]
        lines += ["", "leaf:"]
        lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in leaf.most_common(40)]
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
