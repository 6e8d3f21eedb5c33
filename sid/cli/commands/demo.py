"""``sid demo``: write a synthetic demo wave (sid.demo.DEMOS: sid2022, sid2017)."""

from __future__ import annotations

import argparse
import json

NAME = "demo"
HELP = "write a synthetic SID wave (register, sample, fieldwork .sav files, defects, truth)"
ORDER = 10


def register(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``sid demo``."""
    parser.add_argument("--wave", default="sid2022", metavar="NAME",
                        help="which demo: sid2022 (default) or sid2017 (clustered sample, three modes, "
                             "Dutch names)")
    parser.add_argument("--out", default=None,
                        help="output folder (replaced whole; default: data/demo, sid2017: data/demo-sid2017)")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: the wave's year, 2022 or 2017)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the gross sample (sid2022: 2,500 per origin group; sid2017: "
                             "11,000 in all) (default: 1; 50 for benchmarks)")


def run(args: argparse.Namespace) -> int:
    """Write the demo wave and print what was written."""
    from sid.demo import demo_maker, make_wave_demo
    from sid.progress import step

    demo = demo_maker(args.wave)  # an unknown name: one line naming the demos
    seed = demo.seed if args.seed is None else args.seed
    out = demo.folder if args.out is None else args.out
    with step(f"demo wave {args.wave} (seed {seed}, scale {args.scale:g}) into {out}"):
        paths = make_wave_demo(args.wave, out, seed=seed, scale=args.scale)
    sizes = json.loads(paths["demo.json"].read_text(encoding="utf-8"))["sizes"]
    print(f"wrote {out}: gross sample {sizes['gross_sample']:,}, respondents {sizes['respondents']:,}")
    for name, path in paths.items():
        rows = f" ({sizes[name]:,} rows)" if name in sizes else ""
        print(f"  {path}{rows}")
    return 0
