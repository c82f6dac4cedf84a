"""The version table (``gen-tf versions``): per cloud, each Kubernetes minor and MySQL version the catalog lists.

Each row gives the version's support window as the catalog states it, its
status judged as of the catalog's ``as_of`` date (never today's: the output
does not depend on the clock, like the generated module) with the list's
``create_in_extended_support`` exactly as :meth:`SupportWindow.status` judges
it, whether gen-tf accepts it for a new cluster or server
(:func:`generator.plan.accepted_versions`), and which one is the default. A
date the catalog leaves out (not announced on ``as_of``) is ``-`` in a table
and ``null`` in JSON.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .catalog import CLOUDS, Catalog, load_catalog, version_tuple
from .errors import OptionError

FORMATS = ("table", "json", "markdown")
# (row key, table heading), in column order.
COLUMNS = (
    ("cloud", "cloud"),
    ("kind", "kind"),
    ("version", "version"),
    ("engine_version", "engine version"),
    ("released", "released"),
    ("end_of_standard_support", "end of standard"),
    ("end_of_extended_support", "end of extended"),
    ("status", "status"),
    ("accepted", "accepted"),
    ("default", "default"),
)
# The catalog lists, by row kind: (catalog attribute, defaults key, heading in the per-cloud line).
KINDS = (
    ("kubernetes", "kubernetes_versions", "kubernetes_version", "Kubernetes"),
    ("mysql", "mysql_versions", "mysql_version", "MySQL"),
)


@dataclass(frozen=True)
class CloudVersions:
    """One cloud's version rows, and what they were judged with."""

    cloud: str
    as_of: datetime.date
    # kind -> (service name, the list's source URL).
    sources: dict[str, tuple[str, str]]
    rows: tuple[dict[str, Any], ...]


def cloud_versions(catalog: Catalog) -> CloudVersions:
    """Every version ``catalog`` lists, oldest first per kind, judged as of its ``as_of``."""
    from .plan import accepted_versions  # the generate path's own rule, so the two cannot disagree

    cat = catalog.cloud
    rows: list[dict[str, Any]] = []
    sources: dict[str, tuple[str, str]] = {}
    for kind, attribute, default_key, _ in KINDS:
        versions = getattr(cat, attribute)
        sources[kind] = (getattr(cat.services, kind), versions.source)
        accepted = set(accepted_versions(versions, cat.as_of))
        default = getattr(cat.defaults, default_key)
        for version in sorted(versions.versions, key=version_tuple):
            window = versions.versions[version]
            rows.append(
                {
                    "cloud": cat.cloud,
                    "kind": kind,
                    "version": version,
                    "engine_version": getattr(window, "engine_version", None),
                    "released": window.released,
                    "end_of_standard_support": window.end_of_standard_support,
                    "end_of_extended_support": window.end_of_extended_support,
                    "status": window.status(cat.as_of, versions.create_in_extended_support),
                    "accepted": version in accepted,
                    "default": version == default,
                    # The version's own page for its dates, when not the list's.
                    "dates_source": window.source,
                }
            )
    return CloudVersions(cat.cloud, cat.as_of, sources, tuple(rows))


def version_table(clouds: Iterable[str] | None = None) -> list[CloudVersions]:
    """The built-in catalogs' versions for ``clouds`` (default: every cloud), each cloud once."""
    return [cloud_versions(load_catalog(cloud)) for cloud in dict.fromkeys(clouds or CLOUDS)]


def render_versions(table: list[CloudVersions], fmt: str) -> str:
    """``table`` as an aligned text table, Markdown or JSON; a line per cloud (as_of, sources) after the rows."""
    if fmt not in FORMATS:
        raise OptionError("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "json":
        return _json(table)
    headers = [title for _, title in COLUMNS]
    cells = [[_cell(row[key]) for key, _ in COLUMNS] for entry in table for row in entry.rows]
    notes = [_cloud_line(entry) for entry in table]
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(r) + " |" for r in cells]
        # A list, so each cloud's line stays its own line when rendered.
        return "\n".join([*lines, "", *(f"- {note}" for note in notes)]) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    fmt_row = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt_row.format(*headers), fmt_row.format(*("-" * w for w in widths))]
    lines += [fmt_row.format(*r) for r in cells]
    return "\n".join([*(line.rstrip() for line in lines), "", *notes]) + "\n"


def _json(table: list[CloudVersions]) -> str:
    """A flat list of rows (like ``gen-tf sizes``); each row carries its catalog's as_of and list source."""
    rows = []
    for entry in table:
        for row in entry.rows:
            service, source = entry.sources[row["kind"]]
            rows.append(
                {
                    **{k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in row.items()},
                    "service": service,
                    "as_of": entry.as_of.isoformat(),
                    "source": source,
                }
            )
    return json.dumps(rows, indent=2) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _cloud_line(entry: CloudVersions) -> str:
    """``aws: as of 2026-12-02; Kubernetes (Amazon EKS): <url>; MySQL (...): <url>[; MySQL 8.4 dates: <url>]``."""
    parts = [f"{entry.cloud}: as of {entry.as_of}"]
    for kind, _, _, heading in KINDS:
        service, source = entry.sources[kind]
        parts.append(f"{heading} ({service}): {source}")
    for kind, _, _, heading in KINDS:
        own = [r for r in entry.rows if r["kind"] == kind and r["dates_source"]]
        parts += [f"{heading} {r['version']} dates: {r['dates_source']}" for r in own]
    return "; ".join(parts)
