"""Run the fault matrix: ``python -m bench.faults [--cases 1 2 ...] [--repeat N]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.faults.cases import CASES, run_case
from bench.faults.matrix import Row, render_table, verdict
from bench.faults.rig import FaultBench, fault_bench


async def run_matrix(bench: FaultBench, cases: Sequence[int], *, repeat: int) -> list[Row]:
    """Run each case ``repeat`` times, in order; every row (progress on stderr)."""
    rows: list[Row] = []
    for number in cases:
        for round_ in range(1, repeat + 1):
            began = time.monotonic()
            print(f"case {number} ({CASES[number][0]}), round {round_} ...", file=sys.stderr)
            found = await run_case(bench, number, prefix=f"case{number}-round{round_}")
            for row in found:
                mark = "ok" if row.met else "MISSED"
                print(f"  {row.case} / {row.flow}: {mark}", file=sys.stderr)
            print(f"  took {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
            rows += found
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, run the chosen cases, print the table and the verdict.

    Real parts: a Prefect server (SQLite) shared by the rows, and per row a simulated cluster
    broken the way the flow mends it, the engine as ``runbooks up`` assembles it (in this
    process, or in a process of its own where it is SIGKILLed), a fake Slack, a real
    Alertmanager and a TCP proxy in front of the Kubernetes API where a row needs them. Each
    row injects its fault at a precise point, lets everything finish, and counts alerts lost,
    runs lost, actions done twice, runs left in a non-final state and the named state each run
    ended in. Target: 0 lost, 0 twice, 0 stuck, every run in a named state.
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--cases", type=int, nargs="+", choices=sorted(CASES), default=sorted(CASES)
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep logs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as scratch:
        workdir = args.workdir or Path(scratch)
        with fault_bench(workdir) as bench:
            rows = asyncio.run(run_matrix(bench, args.cases, repeat=args.repeat))
    print(render_table(rows))
    print(verdict(rows))


if __name__ == "__main__":
    main()
