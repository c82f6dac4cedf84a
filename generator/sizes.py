"""The sizing matrix (``gen-tf sizes``): cloud x env x products -> nodes and database;
with ``--cost``, each cell's monthly on-demand estimate (:mod:`generator.cost`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .catalog import CLOUDS, PRODUCTS, Catalog, load_catalog
from .sizing import Sizing, size

if TYPE_CHECKING:
    from .cost import Estimate, Prices

COLUMNS = (
    ("cloud", "cloud"),
    ("env", "env"),
    ("products", "products"),
    ("node_type", "node type"),
    ("vcpu", "vCPU"),
    ("memory_gib", "memory GiB"),
    ("disk_gb", "disk GB"),
    ("nodes", "nodes (min-max)"),
    ("zones", "zones"),
    ("wandb_size", "W&B size"),
    ("db_class", "DB class"),
    ("db_disk_gb", "DB disk GB"),
)


def cells(clouds: Iterable[str] | None = None) -> Iterator[tuple[Catalog, str, str, Sizing]]:
    """Every cell of the matrix, in its order: (catalog, env, products, sizing)."""
    for cloud in clouds or CLOUDS:
        catalog = load_catalog(cloud)
        for env in ("dev", "prod"):
            for products in PRODUCTS:
                yield catalog, env, products, size(catalog, env, products)


def matrix(clouds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    rows = []
    for catalog, env, products, s in cells(clouds):
        cloud = catalog.cloud.cloud
        rows.append(
            {
                "cloud": cloud,
                "env": "dev/test" if env == "dev" else env,
                "products": products,
                "node_type": s.node.machine_type,
                "vcpu": s.node.vcpu,
                "memory_gib": s.node.memory_gib,
                "disk_gb": s.node.disk_gib,
                "nodes": f"{s.node.min_nodes}-{s.node.max_nodes}",
                "zones": s.node.zones,
                "wandb_size": s.capacity.preset,
                "db_class": s.db.machine_class,
                "db_disk_gb": s.db.disk_gib,
            }
        )
    return rows


def render_matrix(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    headers = [title for _, title in COLUMNS]
    cells = [[str(row[key]) for key, _ in COLUMNS] for row in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join(lines) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    fmt_row = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt_row.format(*headers), fmt_row.format(*("-" * w for w in widths))]
    lines += [fmt_row.format(*r) for r in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def cost_matrix(clouds: Iterable[str] | None, prices: Prices) -> list[Estimate]:
    """Each cell's monthly estimate, in the matrix's order, for the catalog's default region."""
    from .cost import estimate

    return [
        estimate(catalog, s, products, prices, region=catalog.cloud.defaults.region)
        for catalog, _, products, s in cells(clouds)
    ]
