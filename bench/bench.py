"""Benchmarks: prints figures, asserts nothing.

* one `gen-tf` run (a fresh process, as a user runs it), median of N;
* the floor our dependencies set: `python -c "import jinja2, click, pydantic"`;
* their ratio (target: within 1.3x);
* generating every cloud x env x products combination in one process.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def median_wall(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def gen_tf_command() -> list[str]:
    script = Path(sys.executable).with_name("gen-tf")
    if script.exists():
        return [str(script)]
    found = shutil.which("gen-tf")
    return [found] if found else [sys.executable, "-m", "generator"]


def all_combinations_in_process(rounds: int) -> tuple[float, int]:
    from generator.catalog import CLOUDS, PRODUCTS, load_catalog
    from generator.options import parse_options
    from generator.plan import build_plan
    from generator.render import render_single

    combos = [(c, e, p) for c in CLOUDS for e in ("dev", "test", "prod") for p in PRODUCTS]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for cloud, env, products in combos:
            plan = build_plan(parse_options({"cloud": cloud, "env": env, "products": products}), load_catalog(cloud))
            render_single(cloud, plan.context(), plan.command)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), len(combos)


PHASES = r"""
import time
t0 = time.perf_counter()
import jinja2, click, pydantic
t1 = time.perf_counter()
import generator.cli
from generator.catalog import load_catalog
from generator.options import parse_options
from generator.plan import build_plan
from generator.render import render_single
t2 = time.perf_counter()
catalog = load_catalog("aws")
plan = build_plan(parse_options({"cloud": "aws", "env": "prod", "products": "both"}), catalog)
t3 = time.perf_counter()
render_single("aws", plan.context(), plan.command)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def phases(runs: int) -> list[float]:
    """Median seconds of: dependency imports, gen-tf's own imports (incl. pydantic models), catalog+plan, render."""
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PHASES], capture_output=True, text=True, check=True).stdout
        samples.append([float(x) for x in out.split()])
    return [statistics.median(col) for col in zip(*samples, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    gen = gen_tf_command() + ["--cloud", "aws", "--env", "prod", "--products", "both"]
    floor = [sys.executable, "-c", "import jinja2, click, pydantic"]
    median_wall(gen, 2)  # warm the OS cache and gen-tf's template bytecode cache
    run = median_wall(gen, args.runs)
    base = median_wall(floor, args.runs)
    total, count = all_combinations_in_process(5)
    print(f"gen-tf run (median of {args.runs}):          {run * 1000:7.1f} ms   ({' '.join(gen[:1])})")
    print(f"import floor jinja2+click+pydantic:  {base * 1000:7.1f} ms")
    print(f"ratio gen-tf / floor:                {run / base:7.2f}x   (target <= 1.30x)")
    print(f"all {count} combinations in one process: {total * 1000:7.1f} ms   ({total / count * 1000:.1f} ms each)")
    deps, own, plan, render = phases(args.runs)
    print(
        f"in-process phases (median): deps {deps * 1000:.1f} ms, gen-tf imports {own * 1000:.1f} ms, "
        f"catalog+plan {plan * 1000:.1f} ms, render {render * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
