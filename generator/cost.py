"""The monthly on-demand estimate of a sizing cell's main cost drivers (``gen-tf sizes --cost``).

Prices come only from ``catalogs/prices.yaml``: every price there cites its source
and its date, and an item without an acceptable source says so (``no_source``)
instead of carrying a number. The estimate never guesses: a driver whose price is
not cited says "no cited price", and the cell's total becomes "incomplete: N items
without a cited price" with the priced items' sum labelled as excluding them.

The drivers, per cell (:func:`estimate`): the nodes at the minimum node count
(Azure adds its AKS system pool), the database (and its standby in prod), the
database storage at the sizing row's disk size, NAT, the load balancer and the
Kubernetes control plane, each for ``hours_per_month`` (730) hours. Traffic-based
charges (data processed, LCUs, I/O) are excluded and listed as such. Money is
:class:`~decimal.Decimal`, each priced part rounded half-up to cents; nothing reads
today's date, so the output is the same on every run.

The price models are frozen dataclasses validated by pydantic, like the catalogs
(:mod:`generator.catalog`); a price file that passed is cached per user the same way.
"""

from __future__ import annotations

import datetime
import json
import os
import pickle
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from .catalog import (
    Catalog,
    Cloud,
    Constraint,
    PositiveInt,
    _cache_key,
    _data,
    _parse_yaml,
    _read_text,
    _validate,
)
from .errors import CatalogError, OptionError
from .resources import cache_dir, data_dir
from .sizing import ENV_TIER, Sizing, size

PRICES_FILE = "prices.yaml"
FORMATS = ("table", "json", "markdown")

Unit = Literal[
    "hour", "vCPU-hour", "GB-hour", "GB-month", "VM-hour", "IP-hour", "CU-hour", "LCU-hour", "GB", "GiB", "1M requests"
]
SourceTier = Literal["A", "B", "A+B", "B+C"]
DateIs = Literal["generated", "commit", "doc", "effective", "snapshot"]
# A source is a locator: a URL, or a repository file as owner/name@commit:path.
Source = Annotated[str, Constraint(pattern=r"^(https://\S+|[A-Za-z0-9][\w.-]*/[\w.-]+@[0-9a-f]{7,40}:\S+)$")]
NonNegativeUsd = Annotated[float, Constraint(ge=0, allow_inf_nan=False)]
Text = Annotated[str, Constraint(min_length=1)]

# The rates (catalogs/prices.yaml clouds.<cloud>.rates) the cost model reads, per cloud.
REQUIRED_RATES: dict[str, tuple[str, ...]] = {
    "aws": ("db_storage", "nat_gateway", "load_balancer", "control_plane"),
    "gcp": (
        "n2_vcpu", "n2_memory", "sql_vcpu_zonal", "sql_vcpu_regional", "sql_memory_zonal", "sql_memory_regional",
        "sql_storage_zonal", "sql_storage_regional", "nat_vm", "nat_vm_cap", "nat_ip", "forwarding_rule", "control_plane",
    ),
    "azure": (
        "db_storage", "db_standby", "nat_gateway", "app_gateway_fixed", "app_gateway_capacity_unit",
        "control_plane_free", "control_plane_standard",
    ),
}
REQUIRED_FACTS: dict[str, tuple[str, ...]] = {"azure": ("app_gateway_capacity_units_per_instance",)}
CENT = Decimal("0.01")


@_data
class Candidate:
    """One of several conflicting sourced values for an item; none of them is used."""

    usd: NonNegativeUsd
    source: Source
    date: datetime.date
    tier: SourceTier
    note: str | None = None


@_data
class Price:
    """A price with its unit, source and date, or (``no_source``) the record that none was found."""

    unit: Unit
    usd: NonNegativeUsd | None = None
    source: Source | None = None
    see_also: list[Source] = field(default_factory=list)
    date: datetime.date | None = None
    date_is: DateIs | None = None
    tier: SourceTier | None = None
    note: str | None = None
    # Why there is no price: what was searched. The estimate says "no cited price".
    no_source: Text | None = None
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def cited(self) -> bool:
        return self.usd is not None


@_data
class Fact:
    """A billing rule the model needs (not a price), with its source."""

    value: Annotated[float, Constraint(gt=0, allow_inf_nan=False)]
    source: Source
    date: datetime.date
    note: str | None = None


@_data
class CloudPrices:
    region: Text
    currency: Literal["USD"]
    # USD per instance-hour, by machine type or database class.
    instances: dict[str, Price]
    rates: dict[str, Price]
    usage_based: dict[str, Price] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    not_modelled: list[Text] = field(default_factory=list)


@_data
class PriceCatalog:
    # When the prices were gathered: no price's date is after it.
    as_of: datetime.date
    hours_per_month: PositiveInt
    clouds: dict[Cloud, CloudPrices]


@dataclass(frozen=True)
class Prices:
    """The validated price catalog, and the files it came from (built-in first, then overlays)."""

    catalog: PriceCatalog
    files: tuple[str, ...]


# ---- loading ----------------------------------------------------------------------


def load_prices(overlays: tuple[str, ...] | list[str] = ()) -> Prices:
    """``catalogs/prices.yaml`` with optional overlay files on top, validated; a broken file is a CatalogError."""
    sources = [(f"catalogs/{PRICES_FILE}", data_dir("catalogs") / PRICES_FILE)]
    sources += [(overlay, Path(overlay)) for overlay in overlays]
    texts = tuple((label, _read_text(path, label)) for label, path in sources)
    return _load_prices(texts)


@cache
def _load_prices(texts: tuple[tuple[str, str], ...]) -> Prices:
    key = _cache_key([("generator/cost.py", Path(__file__).read_text(encoding="utf-8")), *texts])
    cached = _cache_get(key)
    if cached is not None:
        return cached
    (label, text), *extra = texts
    data = _parse_yaml(text, label)
    for overlay, overlay_text in extra:
        data = _merge(data, _parse_yaml(overlay_text, overlay))
        label = overlay
    catalog = _validate(PriceCatalog, data, label)
    _check_prices(catalog, label)
    prices = Prices(catalog=catalog, files=tuple(name for name, _ in texts))
    _cache_put(key, prices)
    return prices


def _merge(base: dict[str, Any], overlay: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Deep-merge ``overlay`` onto ``base``; an item of a price list (depth 4:
    clouds.<cloud>.<list>.<item>) is replaced whole, so an overlay's cited price
    replaces a ``no_source`` record instead of mixing with it."""
    merged = dict(base)
    for key, value in overlay.items():
        if depth < 3 and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, depth + 1)
        else:
            merged[key] = value
    return merged


def _check_prices(catalog: PriceCatalog, path: str) -> None:
    """Every price cites its source and date (no later than as_of); unpriced items say why."""
    for cloud, prices in catalog.clouds.items():
        lists = (("instances", prices.instances), ("rates", prices.rates), ("usage_based", prices.usage_based))
        for group, items in lists:
            for name, price in items.items():
                _check_price(f"clouds.{cloud}.{group}.{name}", price, catalog.as_of, path)
                if group == "instances" and price.unit != "hour":
                    raise CatalogError(path, f"clouds.{cloud}.{group}.{name}.unit", "must be hour (USD per instance-hour)")
        for name, fact in prices.facts.items():
            if fact.date > catalog.as_of:
                raise CatalogError(path, f"clouds.{cloud}.facts.{name}.date", f"{fact.date} is after as_of ({catalog.as_of})")
        for name in REQUIRED_RATES.get(cloud, ()):
            if name not in prices.rates:
                raise CatalogError(path, f"clouds.{cloud}.rates.{name}", "required but missing (say no_source if none was found)")
        for name in REQUIRED_FACTS.get(cloud, ()):
            if name not in prices.facts:
                raise CatalogError(path, f"clouds.{cloud}.facts.{name}", "required but missing")


def _check_price(field: str, price: Price, as_of: datetime.date, path: str) -> None:
    if price.usd is None:
        if price.no_source is None:
            raise CatalogError(path, field, "has neither usd nor no_source (an item without a price says why: no_source)")
        stray = [key for key in ("source", "date", "date_is", "tier") if getattr(price, key) is not None]
        if stray:
            raise CatalogError(path, f"{field}.{stray[0]}", "belongs to a price; this item has no usd (no_source)")
    else:
        if price.no_source is not None or price.candidates:
            raise CatalogError(path, field, "has a usd and no_source or candidates; a cited price is one value")
        for key, what in (
            ("source", "every price cites its source: a URL or owner/name@commit:path"),
            ("date", "every price has the date it was true"),
            ("date_is", "say what the date is: generated, commit, doc, effective or snapshot"),
            ("tier", "say the source's tier: A, B, A+B or B+C"),
        ):
            if getattr(price, key) is None:
                raise CatalogError(path, f"{field}.{key}", f"required but missing ({what})")
        if price.date is not None and price.date > as_of:
            raise CatalogError(path, f"{field}.date", f"{price.date} is after as_of ({as_of})")
    for index, candidate in enumerate(price.candidates):
        if candidate.date > as_of:
            raise CatalogError(path, f"{field}.candidates.{index}.date", f"{candidate.date} is after as_of ({as_of})")


def _cache_get(key: str) -> Prices | None:
    folder = cache_dir("prices")
    if folder is None:
        return None
    try:
        with open(folder / f"{key}.pickle", "rb") as handle:
            found = pickle.load(handle)  # written by gen-tf into the user's own cache
    except Exception:  # noqa: BLE001 - a damaged entry only costs a validation
        return None
    return found if isinstance(found, Prices) else None


def _cache_put(key: str, prices: Prices) -> None:
    folder = cache_dir("prices")
    if folder is None:
        return
    staging = folder / f".{key}.{os.getpid()}.tmp"
    try:
        staging.write_bytes(pickle.dumps(prices, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(staging, folder / f"{key}.pickle")
        entries = sorted(folder.glob("*.pickle"), key=lambda entry: entry.stat().st_mtime_ns, reverse=True)
        for stale in entries[16:]:
            stale.unlink(missing_ok=True)
    except OSError:
        staging.unlink(missing_ok=True)


# ---- the estimate -------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One priced quantity: ``quantity`` of ``unit`` a month at the item's price."""

    item: str
    quantity: Decimal
    price: Price | None
    # Why the part has no price, when it has none.
    missing: str | None = None

    @property
    def monthly(self) -> Decimal | None:
        if self.price is None or self.price.usd is None:
            return None
        return (_usd(self.price.usd) * self.quantity).quantize(CENT, rounding=ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        price = self.price
        out: dict[str, Any] = {"item": self.item, "quantity": _number(self.quantity)}
        if price is not None:
            out["unit"] = price.unit
        if price is not None and price.usd is not None:
            out.update(
                usd=price.usd,
                monthly_usd=_money(self.monthly),
                source=price.source,
                see_also=list(price.see_also),
                date=price.date.isoformat() if price.date else None,
                date_is=price.date_is,
                tier=price.tier,
            )
        else:
            out.update(usd=None, monthly_usd=None, no_cited_price=self.missing)
            if price is not None and price.candidates:
                out["conflicting_candidates"] = [
                    {"usd": c.usd, "source": c.source, "date": c.date.isoformat(), "tier": c.tier} for c in price.candidates
                ]
        return out


@dataclass(frozen=True)
class Driver:
    """A cost driver of a cell: its name, what is counted, and its priced parts."""

    name: str
    what: str
    parts: tuple[Part, ...]

    @property
    def unpriced(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.monthly is None)

    @property
    def priced(self) -> Decimal:
        return sum((p.monthly for p in self.parts if p.monthly is not None), Decimal(0))

    @property
    def monthly(self) -> Decimal | None:
        return None if self.unpriced else self.priced

    def cell(self) -> str:
        """The driver's USD/month as the table shows it."""
        if not self.unpriced:
            return _fmt(self.priced)
        if len(self.unpriced) < len(self.parts):
            return f"no cited price + {_fmt(self.priced)} priced"
        return "no cited price"

    def as_dict(self) -> dict[str, Any]:
        return {
            "driver": self.name,
            "what": self.what,
            "monthly_usd": _money(self.monthly),
            "priced_usd": _money(self.priced),
            "parts": [p.as_dict() for p in self.parts],
        }


@dataclass(frozen=True)
class Estimate:
    """The monthly on-demand estimate of one cell (cloud, tier, products)."""

    cloud: str
    region: str
    tier: str
    products: str
    hours_per_month: int
    as_of: datetime.date
    drivers: tuple[Driver, ...]
    usage_based: tuple[str, ...]
    not_modelled: tuple[str, ...]
    # Why nothing of this cell can be priced (no prices for the cloud, or for its region).
    blanket: str | None = None

    @property
    def unpriced(self) -> tuple[tuple[Driver, Part], ...]:
        return tuple((d, p) for d in self.drivers for p in d.unpriced)

    @property
    def priced_total(self) -> Decimal:
        return sum((d.priced for d in self.drivers), Decimal(0))

    @property
    def total(self) -> Decimal | None:
        return None if self.unpriced else self.priced_total

    @property
    def status(self) -> str:
        """``complete``, or ``incomplete: N items without a cited price`` (or none priced at all)."""
        count = len(self.unpriced)
        if not count:
            return "complete"
        if self.priced_total == 0 and all(d.unpriced for d in self.drivers):
            return f"no cited price for any of its {count} items"
        return f"incomplete: {count} item{'s' if count != 1 else ''} without a cited price"

    def total_cell(self) -> str:
        if self.total is not None:
            return _fmt(self.total)
        return f"{_fmt(self.priced_total)} priced items only"

    def excluded_names(self) -> list[str]:
        names: list[str] = []
        for driver, _ in self.unpriced:
            if driver.name not in names:
                names.append(driver.name)
        return names

    def summary_line(self) -> str:
        """One Markdown line for a module README: the total, or what is priced and what is not."""
        basis = (
            f"Basis: on-demand list prices in {self.region}, {self.hours_per_month} h/month, nodes at the minimum "
            f"node count, usage-based charges excluded; prices as of {self.as_of} (catalogs/prices.yaml)."
        )
        if self.blanket is not None:
            return f"**Estimated monthly cost: no cited price** ({self.blanket}; catalogs/prices.yaml as of {self.as_of})."
        priced = ", ".join(f"{d.name} ${_fmt(d.priced)}" for d in self.drivers if not d.unpriced)
        if self.total is not None:
            return f"**Estimated monthly cost: ${_fmt(self.total)}** ({priced}). {basis}"
        missing = ", ".join(self.excluded_names())
        head = f"**Estimated monthly cost — {self.status}** ({missing})."
        if not priced:
            return f"{head} {basis}"
        return f"{head} Priced items only: ${_fmt(self.priced_total)} ({priced}). {basis}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "env": "dev/test" if self.tier == "dev" else self.tier,
            "products": self.products,
            "region": self.region,
            "drivers": [d.as_dict() for d in self.drivers],
            "total_usd": _money(self.total),
            "priced_total_usd": _money(self.priced_total),
            "unpriced_items": len(self.unpriced),
            "complete": self.total is not None,
            "status": self.status,
            "no_cited_price_reason": self.blanket,
        }


def monthly_estimate(
    catalog: Catalog,
    tier: str,
    products: str,
    prices: Prices | None = None,
    *,
    node_family: str | None = None,
    region: str | None = None,
) -> Estimate:
    """The estimate of the cell (``catalog``'s cloud, ``tier`` dev/test/prod, ``products``) as the sizing engine sizes it."""
    if tier not in ENV_TIER:
        raise OptionError("--env", f"{tier!r} is not one of {', '.join(ENV_TIER)}")
    return estimate(catalog, size(catalog, tier, products, node_family), products, prices, region=region)


def estimate(
    catalog: Catalog, sizing: Sizing, products: str, prices: Prices | None = None, *, region: str | None = None
) -> Estimate:
    """The estimate of ``sizing`` (of the ``products`` cell) on ``catalog``'s cloud. Prices are for one
    region each; another ``region`` gets "no cited price" for every item rather than the wrong region's."""
    prices = prices or load_prices()
    cloud = catalog.cloud.cloud
    table = prices.catalog.clouds.get(cloud)  # type: ignore[call-overload]
    if table is None:
        book = _Book(cloud, None, prices.catalog.hours_per_month, f"catalogs/prices.yaml lists no prices for {cloud}")
    elif region is not None and region != table.region:
        book = _Book(cloud, None, prices.catalog.hours_per_month, f"prices are for {table.region}, not {region}")
    else:
        book = _Book(cloud, table, prices.catalog.hours_per_month, None)
    drivers = _DRIVERS[cloud](catalog, sizing, book)
    return Estimate(
        cloud=cloud,
        region=region or (table.region if table else catalog.cloud.defaults.region),
        tier=sizing.tier,
        products=products,
        hours_per_month=prices.catalog.hours_per_month,
        as_of=prices.catalog.as_of,
        drivers=tuple(drivers),
        usage_based=tuple(_usage_lines(table)) if table else (),
        not_modelled=tuple(table.not_modelled) if table else (),
        blanket=book.blanket,
    )


@dataclass(frozen=True)
class _Book:
    """Price look-ups for one cloud; every miss is a part without a cited price, with the reason."""

    cloud: str
    table: CloudPrices | None
    hours: int
    # Set when no item of this cloud can be priced (no table, or another region).
    blanket: str | None

    def part(self, group: str, item: str, quantity: Decimal | int) -> Part:
        quantity = Decimal(quantity)
        if self.blanket is not None or self.table is None:
            return Part(item, quantity, None, f"no cited price: {self.blanket}")
        price = getattr(self.table, group).get(item)
        if price is None:
            return Part(item, quantity, None, f"no cited price: catalogs/prices.yaml has no {group}.{item} for {self.cloud}")
        if not price.cited:
            why = "conflicting sources, none chosen" if price.candidates else "no source found"
            return Part(item, quantity, price, f"no cited price ({why})")
        return Part(item, quantity, price)

    def instance(self, name: str, count: int) -> Part:
        """``count`` instances of ``name`` for a month."""
        return self.part("instances", name, count * self.hours)

    def rate(self, name: str, quantity: Decimal | int) -> Part:
        return self.part("rates", name, quantity)

    def hourly(self, name: str, count: int | Decimal = 1) -> Part:
        return self.rate(name, Decimal(count) * self.hours)

    def fact(self, name: str) -> float | None:
        if self.table is None:
            return None
        fact = self.table.facts.get(name)
        return fact.value if fact else None


def _aws(catalog: Catalog, s: Sizing, book: _Book) -> list[Driver]:
    prod = s.tier == "prod"
    db = s.db.machine_class
    # var.single_nat_gateway defaults to true outside prod (templates/aws/variables.tf.j2).
    nats = s.node.zones if prod else 1
    drivers = [
        _nodes(s, book),
        Driver("database", f"{db}, Aurora MySQL writer", (book.instance(db, 1),)),
    ]
    if catalog.reference.tiers[s.tier].standby:
        drivers.append(Driver("database standby", f"{db}, Aurora replica in another zone", (book.instance(db, 1),)))
    drivers += [
        Driver(
            "database storage",
            f"{s.db.disk_gib} GB Aurora Standard (the sizing row's disk; billed on the volume used)",
            (book.rate("db_storage", s.db.disk_gib),),
        ),
        Driver(
            "NAT",
            f"{nats} NAT gateway{'s, one per zone' if nats > 1 else ' (single_nat_gateway)'}",
            (book.hourly("nat_gateway", nats),),
        ),
        Driver("load balancer", "1 Application Load Balancer", (book.hourly("load_balancer"),)),
        Driver("control plane", "EKS cluster, standard support", (book.hourly("control_plane"),)),
    ]
    return drivers


def _gcp(catalog: Catalog, s: Sizing, book: _Book) -> list[Driver]:
    standby = catalog.reference.tiers[s.tier].standby
    mode = "regional" if standby else "zonal"
    db = catalog.machine(s.db.machine_class)
    hours = Decimal(book.hours)
    nodes = s.node.min_nodes
    # Cloud NAT: $ per assigned VM up to a cap per gateway (from 32 VMs up), plus its address.
    vm_part = book.rate("nat_vm", nodes * hours)
    cap = book.hourly("nat_vm_cap")
    if vm_part.monthly is not None and cap.monthly is not None and cap.monthly < vm_part.monthly:
        vm_part = cap
    return [
        _nodes(s, book),
        Driver(
            "database",
            f"{s.db.machine_class} ({db.vcpu} vCPU, {db.memory_gib:g} GB), "
            + ("REGIONAL: primary and hot standby (HA rates)" if standby else "ZONAL, no standby"),
            (
                book.rate(f"sql_vcpu_{mode}", db.vcpu * hours),
                book.rate(f"sql_memory_{mode}", Decimal(str(db.memory_gib)) * hours),
            ),
        ),
        Driver(
            "database storage",
            f"{s.db.disk_gib} GB SSD, {mode}",
            (book.rate(f"sql_storage_{mode}", s.db.disk_gib),),
        ),
        Driver(
            "NAT",
            f"Cloud NAT for {nodes} VMs, 1 external IP (AUTO_ONLY)",
            (vm_part, book.hourly("nat_ip")),
        ),
        Driver("load balancer", "1 global forwarding rule (HTTPS only, allow-http false)", (book.hourly("forwarding_rule"),)),
        Driver("control plane", "GKE cluster management fee (regional cluster)", (book.hourly("control_plane"),)),
    ]


def _azure(catalog: Catalog, s: Sizing, book: _Book) -> list[Driver]:
    settings = catalog.cloud.settings
    standby = catalog.reference.tiers[s.tier].standby
    db = s.db.machine_class
    system = settings["system_pool"][s.tier]
    gateway = settings["application_gateway"]
    instances = gateway["min_capacity"][s.tier]
    per_instance = book.fact("app_gateway_capacity_units_per_instance")
    sku = settings["aks_sku_tier"][s.tier]
    drivers = [
        _nodes(s, book),
        Driver(
            "system nodes",
            f"{system['min_count']} x {system['vm_size']} (AKS system pool) at its minimum count",
            (book.instance(system["vm_size"], system["min_count"]),),
        ),
        Driver("database", f"{db}, Flexible Server", (book.instance(db, 1),)),
    ]
    if standby:
        drivers.append(Driver("database standby", "zone-redundant HA standby", (book.rate("db_standby", book.hours),)))
    # The minimum instance count reserves capacity units, billed whatever the traffic (facts).
    # The fact is required wherever Azure has prices; only a blanket miss leaves it out.
    reserved = Decimal(instances) * Decimal(repr(per_instance)) if per_instance is not None else Decimal(0)
    capacity = book.rate("app_gateway_capacity_unit", reserved * book.hours)
    drivers += [
        Driver("database storage", f"{s.db.disk_gib} GB", (book.rate("db_storage", s.db.disk_gib),)),
        Driver("NAT", "1 NAT gateway", (book.hourly("nat_gateway"),)),
        Driver(
            "load balancer",
            f"Application Gateway {gateway['sku']}: fixed, and {instances} minimum instance"
            f"{'s' if instances != 1 else ''} x {_count(per_instance)} reserved capacity units",
            (book.hourly("app_gateway_fixed"), capacity),
        ),
        Driver(
            "control plane",
            f"AKS {sku} tier",
            (book.hourly(f"control_plane_{sku.lower()}"),),
        ),
    ]
    return drivers


def _nodes(s: Sizing, book: _Book) -> Driver:
    """The W&B nodes at the minimum node count; a cloud that prices vCPU and memory
    separately (GCP) is priced by the series' rates."""
    name, count = s.node.machine_type, s.node.min_nodes
    what = f"{count} x {name} at the minimum node count"
    table = book.table
    if table is not None and book.blanket is None and name not in table.instances:
        series = name.split("-")[0]
        if f"{series}_vcpu" in table.rates and f"{series}_memory" in table.rates:
            hours = Decimal(count * book.hours)
            return Driver(
                "nodes",
                what,
                (
                    book.rate(f"{series}_vcpu", s.node.vcpu * hours),
                    book.rate(f"{series}_memory", Decimal(str(s.node.memory_gib)) * hours),
                ),
            )
    return Driver("nodes", what, (book.instance(name, count),))


_DRIVERS = {"aws": _aws, "gcp": _gcp, "azure": _azure}


def _usage_lines(table: CloudPrices) -> list[str]:
    lines = []
    for name, price in table.usage_based.items():
        words = name.replace("_", " ")
        if price.cited:
            lines.append(f"{words} ${price.usd:g}/{price.unit}")
        else:
            lines.append(f"{words} (no cited price)")
    return lines


# ---- rendering ----------------------------------------------------------------------

COLUMNS = (
    ("cloud", "cloud"),
    ("env", "env"),
    ("products", "products"),
    ("driver", "driver"),
    ("what", "what"),
    ("usd", "USD/month"),
)


def render_costs(estimates: list[Estimate], prices: Prices, fmt: str) -> str:
    """The estimates as a table (a row per driver, then the cell's total), Markdown or JSON,
    with a line per cloud naming the price catalog's as_of and sources."""
    if fmt not in FORMATS:
        raise OptionError("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    clouds = list(dict.fromkeys(e.cloud for e in estimates))
    if fmt == "json":
        return _json(estimates, prices, clouds)
    rows = []
    for e in estimates:
        env = "dev/test" if e.tier == "dev" else e.tier
        for d in e.drivers:
            rows.append([e.cloud, env, e.products, d.name, d.what, d.cell()])
        total_what = e.status
        if e.total is None:
            total_what += f"; excludes {', '.join(e.excluded_names())}"
        rows.append([e.cloud, env, e.products, "total", total_what, e.total_cell()])
    notes = [_basis(prices)] + [line for cloud in clouds for line in _cloud_lines(cloud, prices)]
    headers = [title for _, title in COLUMNS]
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
        return "\n".join([*lines, "", *(f"- {note}" for note in notes)]) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    # The money column is right-aligned.
    fmt_row = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + f"  {{:>{widths[-1]}}}"
    lines = [fmt_row.format(*headers), fmt_row.format(*("-" * w for w in widths))]
    lines += [fmt_row.format(*r) for r in rows]
    return "\n".join([*(line.rstrip() for line in lines), "", *notes]) + "\n"


def _basis(prices: Prices) -> str:
    return (
        f"Monthly on-demand list prices in USD ({prices.catalog.hours_per_month} h/month), nodes at the minimum node "
        "count, before discounts and taxes; usage-based charges are excluded; an item without a cited price "
        "is never guessed: its cell's total is the priced items only."
    )


def _sources(table: CloudPrices) -> list[tuple[str, str, list[str]]]:
    """(source, newest date and tier, items) per source, in file order."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for group in (table.instances, table.rates, table.usage_based):
        for name, price in group.items():
            if price.source is None:
                continue
            dates, items = found.setdefault(price.source, ([], []))
            dates.append(f"{price.date} {price.date_is}, tier {price.tier}")
            items.append(name)
    for name, fact in table.facts.items():
        dates, items = found.setdefault(fact.source, ([], []))
        dates.append(f"{fact.date}, billing rule")
        items.append(name)
    return [(source, max(dates), items) for source, (dates, items) in found.items()]


def _cloud_lines(cloud: str, prices: Prices) -> list[str]:
    table = prices.catalog.clouds.get(cloud)  # type: ignore[call-overload]
    files = " + ".join(prices.files)
    if table is None:
        return [f"{cloud}: no price source found; {files} (as of {prices.catalog.as_of}) lists no prices for {cloud}"]
    sources = "; ".join(f"{source} ({when}: {', '.join(items)})" for source, when, items in _sources(table))
    head = f"{cloud} prices: {files}, as of {prices.catalog.as_of}, {table.region}, {table.currency}; sources: {sources}"
    unpriced = [
        name + (f" (conflicting: {' vs '.join(f'{c.usd:g}' for c in p.candidates)} USD/{p.unit}, none chosen)" if p.candidates else "")
        for group in (table.instances, table.rates)
        for name, p in group.items()
        if not p.cited
    ]
    if not any(p.cited for group in (table.instances, table.rates) for p in group.values()):
        head += f"; no price source was found for {cloud}"
    detail = [f"no cited price: {', '.join(unpriced) or 'none'}"]
    if table.usage_based:
        detail.append(f"usage-based, excluded: {', '.join(_usage_lines(table))}")
    if table.not_modelled:
        detail.append(f"not modelled: {', '.join(table.not_modelled)}")
    return [head, f"{cloud}: " + "; ".join(detail)]


def _json(estimates: list[Estimate], prices: Prices, clouds: list[str]) -> str:
    out: dict[str, Any] = {
        "as_of": prices.catalog.as_of.isoformat(),
        "hours_per_month": prices.catalog.hours_per_month,
        "price_files": list(prices.files),
        "basis": _basis(prices),
        "clouds": {},
        "cells": [e.as_dict() for e in estimates],
    }
    for cloud in clouds:
        table = prices.catalog.clouds.get(cloud)  # type: ignore[call-overload]
        if table is None:
            out["clouds"][cloud] = {"region": None, "sources": [], "no_cited_price": [], "note": "no price source found"}
            continue
        out["clouds"][cloud] = {
            "region": table.region,
            "currency": table.currency,
            "sources": [{"source": s, "date": when, "items": items} for s, when, items in _sources(table)],
            "no_cited_price": [
                {"item": name, "reason": p.no_source, "conflicting_candidates": [c.usd for c in p.candidates]}
                for group in (table.instances, table.rates)
                for name, p in group.items()
                if not p.cited
            ],
            "usage_based_excluded": [
                {"item": name, "usd": p.usd, "unit": p.unit, "source": p.source,
                 "date": p.date.isoformat() if p.date else None, "no_source": p.no_source}
                for name, p in table.usage_based.items()
            ],
            "not_modelled": list(table.not_modelled),
        }
    return json.dumps(out, indent=2) + "\n"


# ---- money --------------------------------------------------------------------------


def _usd(value: float) -> Decimal:
    """A price as written in the catalog (0.126, not its binary approximation)."""
    return Decimal(repr(value))


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _count(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


__all__ = [
    "Estimate",
    "Prices",
    "estimate",
    "load_prices",
    "monthly_estimate",
    "render_costs",
]
