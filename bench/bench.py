"""Benchmarks: prints figures, asserts nothing.

* one `gen-tf` run (a fresh process, as a user runs it), median of N;
* the floor our dependencies set: `python -c "import jinja2, click, pydantic"`;
* their ratio (issue 2's target: within 1.3x);
* a run with gen-tf's caches off (GEN_TF_NO_CACHE=1): what the first run after
  installing or editing a catalog costs (pydantic + PyYAML validation, template
  compilation);
* generating every cloud x env x products combination in one process;
* where a run's time goes, in-process.

The gen-tf and floor samples alternate, so a change in machine load hits both.
gen-tf's own modules are compiled to bytecode first, as pip does when it
installs the wheel (an editable checkout under PYTHONDONTWRITEBYTECODE would
otherwise recompile them on every run).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def median_wall(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    return statistics.median(wall(cmd, env) for _ in range(runs))


def paired_medians(first: list[str], second: list[str], runs: int) -> tuple[float, float]:
    """Medians of two commands sampled in turn (first, second, first, ...)."""
    a, b = [], []
    for _ in range(runs):
        a.append(wall(first))
        b.append(wall(second))
    return statistics.median(a), statistics.median(b)


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
            render_single(plan)
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
render_single(plan)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def phases(runs: int) -> list[float]:
    """Median seconds of: dependency imports, gen-tf's own imports, catalog (cached) + plan, render."""
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PHASES], capture_output=True, text=True, check=True).stdout
        samples.append([float(x) for x in out.split()])
    return [statistics.median(col) for col in zip(*samples, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    import generator

    compileall.compile_dir(os.path.dirname(generator.__file__), quiet=1)
    gen = gen_tf_command() + ["--cloud", "aws", "--env", "prod", "--products", "both"]
    floor = [sys.executable, "-c", "import jinja2, click, pydantic"]
    median_wall(gen, 2)  # warm the OS cache and gen-tf's caches (validated catalogs, compiled templates)
    median_wall(floor, 2)
    run, base = paired_medians(gen, floor, args.runs)
    cold = median_wall(gen, max(5, args.runs // 3), env={**os.environ, "GEN_TF_NO_CACHE": "1"})
    total, count = all_combinations_in_process(5)
    print(f"gen-tf run (median of {args.runs}):          {run * 1000:7.1f} ms   ({' '.join(gen[:1])})")
    print(f"import floor jinja2+click+pydantic:  {base * 1000:7.1f} ms")
    print(f"ratio gen-tf / floor:                {run / base:7.2f}x   (target <= 1.30x)")
    print(f"gen-tf run, caches off:              {cold * 1000:7.1f} ms   ({cold / base:.2f}x; the first run after a catalog change)")
    print(f"all {count} combinations in one process: {total * 1000:7.1f} ms   ({total / count * 1000:.1f} ms each)")
    deps, own, plan, render = phases(args.runs)
    print(
        f"in-process phases (median): deps {deps * 1000:.1f} ms, gen-tf imports {own * 1000:.1f} ms, "
        f"catalog+plan {plan * 1000:.1f} ms, render {render * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
