"""``python -m benchmarks.stata_write``: the analysts' Stata file of a run folder written the
fast way (sid.io.stata_rows: the rows by numpy) and by pyreadstat alone, timed (issue 18).

The frame is the report stage's (sid.report.spss_file.wave_frame of the run folder, with
the replicate weights); the run folder is only read. Both files are written to a
temporary folder and compared byte for byte, apart from readstat's 17-byte creation time.
The fast way runs first, so the peak RSS printed after it is the frame's and its own.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.stata_write --run /tmp/O
    # --questionnaire questionnaires/sid2022.yaml, --repeats N, --no-slow
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _peak() -> str:
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"


def _masked(path: Path) -> bytes:
    from sid.io.stata_rows import _Sections

    b = path.read_bytes()
    ts = _Sections(b).timestamp
    return b[:ts.start] + b"\0" * (ts.stop - ts.start) + b[ts.stop:]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run folder (clean/, weight/, score/)")
    ap.add_argument("--questionnaire", type=Path, default=ROOT / "questionnaires" / "sid2022.yaml")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-slow", action="store_true", help="time the fast way only")
    args = ap.parse_args(argv)

    import sid.report.stata_file as stata_file
    from sid.io import stata_rows
    from sid.report.spss_file import wave_frame
    from sid.spec.questionnaire_parse import load_questionnaire

    frame, meta = wave_frame(args.run, load_questionnaire(args.questionnaire))
    print(f"frame: {frame.shape[0]:,} rows x {frame.shape[1]} columns; peak RSS {_peak()}")
    real = stata_rows.write_dta_rows
    ways = {"fast": real} if args.no_slow else {"fast": real, "pyreadstat": lambda *a, **k: False}
    with tempfile.TemporaryDirectory(prefix="sid-stata-") as tmp:
        for way, rows in ways.items():
            taken: list[bool] = []
            stata_file.write_dta_rows = lambda *a, _rows=rows, _taken=taken, **k: _taken.append(_rows(*a, **k)) \
                or _taken[-1]
            for _ in range(args.repeats):
                before = _load()
                t = time.perf_counter()
                stata_file.write_stata(frame, meta, Path(tmp) / f"{way}.dta")
                secs = time.perf_counter() - t
                print(f"{way}: {secs:.1f} s (numpy rows: {taken[-1]}; load {before} -> {_load()}), "
                      f"{(Path(tmp) / f'{way}.dta').stat().st_size / 1e6:.0f} MB; peak RSS so far {_peak()}")
        stata_file.write_dta_rows = real
        if not args.no_slow:
            same = _masked(Path(tmp) / "fast.dta") == _masked(Path(tmp) / "pyreadstat.dta")
            print(f"files equal byte for byte (creation time apart): {same}")


if __name__ == "__main__":
    main()
