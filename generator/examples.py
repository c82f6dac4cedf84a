"""Regenerate (or check) the committed examples: examples/<cloud>-<env>-<products>/main.tf
and the application layer as a module directory, examples/app-<cloud>-prod-both/.

    python -m generator.examples            # write them
    python -m generator.examples --check    # exit 1 and list the stale ones
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .catalog import CLOUDS, PRODUCTS, TIERS, load_catalog
from .cli import module_files
from .options import parse_options
from .outdir import Module
from .plan import build_plan
from .render import render_single

EXAMPLE_OPTIONS = {"domain": "wandb.example.com", "dns_zone": "example.com"}


def examples() -> dict[str, str]:
    """Every example's relative path and content."""
    found: dict[str, str] = {}
    for cloud in CLOUDS:
        catalog = load_catalog(cloud)
        for env in TIERS:
            for products in PRODUCTS:
                opts = parse_options({"cloud": cloud, "env": env, "products": products, **EXAMPLE_OPTIONS})
                plan = build_plan(opts, catalog)
                found[f"{cloud}-{env}-{products}/main.tf"] = render_single(plan)
        # The application layer, as a module directory (it ships a local chart).
        app = build_plan(parse_options({"cloud": cloud, "env": "prod", "products": "both", "layer": "app", "domain": EXAMPLE_OPTIONS["domain"]}), catalog)
        module = Module(layer=app.layer, cloud=app.cloud, command=app.command, files=module_files(app))
        for path, text in module.all_files().items():
            found[f"app-{cloud}-prod-both/{path}"] = text
    return found


def stale(root: Path) -> list[str]:
    """Examples under ``root`` that differ from what gen-tf generates now (or are missing/extra)."""
    wanted = examples()
    problems = [path for path, text in wanted.items() if not (root / path).is_file() or (root / path).read_text() != text]
    extra = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and str(p.relative_to(root)) not in wanted
    )
    return sorted(problems) + extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.examples")
    parser.add_argument("--dir", default="examples", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if any example is stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.dir)
        for path in bad:
            print(f"stale: {args.dir / path}", file=sys.stderr)
        if bad:
            print("examples are stale: run 'make examples' and commit", file=sys.stderr)
        return 1 if bad else 0
    wanted = examples()
    for path, text in wanted.items():
        target = args.dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    print(f"wrote {len(wanted)} example files under {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
