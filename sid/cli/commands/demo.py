"""``sid demo``: write the synthetic SID 2022 demo wave (sid.demo.make_demo)."""

from __future__ import annotations

import argparse
import json

NAME = "demo"
HELP = "write a synthetic SID 2022 wave (register, sample, fieldwork .sav files, defects, truth)"
ORDER = 10


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``sid demo``."""
    parser.add_argument("--out", default="data/demo", help="output folder (replaced whole; default: data/demo)")
    parser.add_argument("--seed", type=int, default=2022, help="random seed (default: 2022)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the gross sample of 2,500 per origin group (default: 1; 50 for benchmarks)")


def run(args: argparse.Namespace) -> int:
    """Write the demo wave and print what was written."""
    from sid.demo import make_demo
    from sid.progress import step

    with step(f"demo wave (seed {args.seed}, scale {args.scale:g}) into {args.out}"):
        paths = make_demo(args.out, seed=args.seed, scale=args.scale)
    sizes = json.loads(paths["demo.json"].read_text(encoding="utf-8"))["sizes"]
    print(f"wrote {args.out}: gross sample {sizes['gross_sample']:,}, respondents {sizes['respondents']:,}")
    for name, path in paths.items():
        rows = f" ({sizes[name]:,} rows)" if name in sizes else ""
        print(f"  {path}{rows}")
    return 0
