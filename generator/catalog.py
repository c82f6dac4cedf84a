"""Catalogs: machine types, the reference sizing rows and versions, as validated data.

``catalogs/reference.yaml`` holds what the reference architecture says for every
cloud (sizing requirements, minimum versions, per-tier topology); each
``catalogs/<cloud>.yaml`` holds that cloud's services, machine types and the
reference table's chosen types. Both are loaded through pydantic models with
``extra="forbid"``; cross-checks that need both files (a chosen type exists, is
x86 for Kubernetes nodes per R-K8S-5, and meets its sizing row) run in
:func:`load_catalog`. Every failure is a :class:`CatalogError` naming the file
and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError

from .errors import CatalogError
from .resources import data_dir

Cloud = Literal["aws", "gcp", "azure"]
Tier = Literal["dev", "prod"]
Products = Literal["models", "weave", "both"]
Arch = Literal["x86_64", "arm64"]

CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")
TIERS: tuple[str, ...] = ("dev", "prod")
PRODUCTS: tuple[str, ...] = ("models", "weave", "both")

_VERSION = r"^[0-9]+\.[0-9]+$"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Data):
    """One sizing row: cores, memory and disk per node."""

    cpu: PositiveInt
    memory_gib: PositiveFloat
    disk_gib: PositiveInt


class MachineType(_Data):
    vcpu: PositiveInt
    memory_gib: PositiveFloat
    arch: Arch
    family: str = Field(min_length=1)
    # Azure only: whether the size can attach Premium SSD disks.
    premium_storage: bool | None = None

    def meets(self, need: Resources) -> bool:
        return self.vcpu >= need.cpu and self.memory_gib >= need.memory_gib


class TierPolicy(_Data):
    zones: int = Field(ge=2, le=3)  # R-LAYER-1: survive the loss of a node (and a zone)
    min_nodes: int = Field(ge=2)
    desired_nodes: int = Field(ge=2)
    max_nodes: int = Field(ge=2)
    backup_retention_days: int = Field(ge=7, le=35)  # R-DB-2
    standby: bool  # R-DB-5
    deletion_protection: bool


class MinVersions(_Data):
    kubernetes: str = Field(pattern=_VERSION)
    mysql: str = Field(pattern=_VERSION)


class DbAlarm(_Data):
    threshold_percent: int = Field(gt=0, le=100)
    period_seconds: int = Field(ge=60)


class ProviderPin(_Data):
    source: str = Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")
    version: str


class OperatorChart(_Data):
    repository: str = Field(pattern=r"^(https|oci)://")
    name: str
    version: str


class Reference(_Data):
    min_versions: MinVersions
    node_requirements: dict[Tier, dict[Products, Resources]]
    mysql_requirements: dict[Tier, Resources]
    tiers: dict[Tier, TierPolicy]
    db_cpu_alarm: DbAlarm
    app_providers: dict[str, ProviderPin]
    operator_chart: OperatorChart
    app_charts: dict[str, OperatorChart]
    app_sizes: dict[Tier, dict[Products, Literal["small", "medium", "large", "xlarge"]]]


class Services(_Data):
    kubernetes: str
    mysql: str
    object_storage: str


class Defaults(_Data):
    region: str
    kubernetes_version: str = Field(pattern=_VERSION)
    mysql_version: str = Field(pattern=_VERSION)


class DbChoice(_Data):
    type: str
    # Why a chosen class below its sizing row is kept (the reference table's own choice).
    waiver: str | None = None


class CloudCatalog(_Data):
    cloud: Cloud
    services: Services
    terraform_version: str
    providers: dict[str, ProviderPin] = Field(min_length=1)
    region_pattern: str
    defaults: Defaults
    mysql_versions: dict[str, str] = Field(min_length=1)
    node_image: str
    # Engine settings by scope (e.g. cluster / instance parameter groups, database flags).
    mysql_parameter_family: str | None = None
    mysql_parameters: dict[str, dict[str, str]] = {}
    # Cloud-specific service settings the templates place as they are (editions,
    # SKUs, storage classes, ...): data, so no template hard-codes them.
    settings: dict[str, Any] = {}
    machine_types: dict[str, MachineType] = Field(min_length=1)
    nodes: dict[Tier, dict[Products, str]]
    mysql: dict[Tier, DbChoice]


@dataclass(frozen=True)
class Catalog:
    """The reference data and one cloud's catalog, cross-checked."""

    reference: Reference
    cloud: CloudCatalog
    path: str

    def machine(self, name: str) -> MachineType:
        return self.cloud.machine_types[name]


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(str(path), "file", f"cannot be read ({exc.strerror})") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(str(path), where, f"is not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise CatalogError(str(path), "top level", "must be a mapping of keys to values")
    return data


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overlay`` onto ``base`` (mappings merge, everything else replaces)."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(model: type[_Data], data: dict[str, Any], path: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "top level"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required but missing"
        elif first["type"] == "literal_error":
            message = message.replace("Input should be", "must be")
        raise CatalogError(path, field, message) from None


def _check_tables(ref: Reference, cat: CloudCatalog, path: str) -> None:
    for group, want in (("node_requirements", TIERS), ("mysql_requirements", TIERS), ("tiers", TIERS)):
        missing = [t for t in want if t not in getattr(ref, group)]
        if missing:
            raise CatalogError("reference.yaml", f"{group}.{missing[0]}", "required but missing")
    for tier in TIERS:
        for products in PRODUCTS:
            if products not in ref.node_requirements[tier]:
                raise CatalogError("reference.yaml", f"node_requirements.{tier}.{products}", "required but missing")
    for tier in TIERS:
        if tier not in cat.nodes:
            raise CatalogError(path, f"nodes.{tier}", "required but missing")
        if tier not in cat.mysql:
            raise CatalogError(path, f"mysql.{tier}", "required but missing")
        for products in PRODUCTS:
            field = f"nodes.{tier}.{products}"
            name = cat.nodes[tier].get(products)
            if name is None:
                raise CatalogError(path, field, "required but missing")
            machine = cat.machine_types.get(name)
            if machine is None:
                raise CatalogError(path, field, f"{name} is not in machine_types")
            if machine.arch != "x86_64":
                raise CatalogError(
                    path, field, f"{name} is {machine.arch}; Kubernetes nodes must be x86_64 (R-K8S-5)"
                )
            need = ref.node_requirements[tier][products]
            if not machine.meets(need):
                raise CatalogError(
                    path,
                    field,
                    f"{name} ({machine.vcpu} vCPU, {machine.memory_gib:g} GiB) is smaller than the "
                    f"requirement ({need.cpu} cores, {need.memory_gib:g} GB)",
                )
        choice = cat.mysql[tier]
        field = f"mysql.{tier}.type"
        machine = cat.machine_types.get(choice.type)
        if machine is None:
            raise CatalogError(path, field, f"{choice.type} is not in machine_types")
        need = ref.mysql_requirements[tier]
        if not machine.meets(need) and not choice.waiver:
            raise CatalogError(
                path,
                field,
                f"{choice.type} ({machine.vcpu} vCPU, {machine.memory_gib:g} GiB) is smaller than the "
                f"requirement ({need.cpu} cores, {need.memory_gib:g} GB) and has no waiver",
            )
    if cat.defaults.mysql_version not in cat.mysql_versions:
        raise CatalogError(path, "defaults.mysql_version", f"must be one of {', '.join(cat.mysql_versions)}")
    try:
        re.compile(cat.region_pattern)
    except re.error as exc:
        raise CatalogError(path, "region_pattern", f"is not a valid regular expression ({exc})") from None
    if not re.fullmatch(cat.region_pattern, cat.defaults.region):
        raise CatalogError(path, "defaults.region", "does not match region_pattern")
    for key, minimum in (("kubernetes_version", ref.min_versions.kubernetes), ("mysql_version", ref.min_versions.mysql)):
        if version_tuple(getattr(cat.defaults, key)) < version_tuple(minimum):
            raise CatalogError(path, f"defaults.{key}", f"must be {minimum} or newer")
    for version in cat.mysql_versions:
        if version_tuple(version) < version_tuple(ref.min_versions.mysql):
            raise CatalogError(path, f"mysql_versions.{version}", f"must be {ref.min_versions.mysql} or newer (R-DB-1)")


@cache
def load_reference() -> Reference:
    path = data_dir("catalogs") / "reference.yaml"
    return _validate(Reference, _read_yaml(path), "reference.yaml")


def load_catalog(cloud: str, overlays: tuple[str, ...] = ()) -> Catalog:
    """Load and cross-check one cloud's catalog, with optional overlay files on top."""
    if cloud not in CLOUDS:
        raise CatalogError(f"{cloud}.yaml", "cloud", f"must be one of {', '.join(CLOUDS)}")
    return _load(cloud, tuple(overlays))


@cache
def _load(cloud: str, overlays: tuple[str, ...]) -> Catalog:
    ref = load_reference()
    path = data_dir("catalogs") / f"{cloud}.yaml"
    data = _read_yaml(path)
    label = f"{cloud}.yaml"
    for overlay in overlays:
        extra = _read_yaml(Path(overlay))
        if extra.get("cloud", cloud) != cloud:
            raise CatalogError(overlay, "cloud", f"is {extra['cloud']!r}; this run is for {cloud}")
        data = _merge(data, extra)
        label = overlay
    cat = _validate(CloudCatalog, data, label)
    _check_tables(ref, cat, label)
    return Catalog(reference=ref, cloud=cat, path=label)


def load_file(path: str | Path, reference: Reference | None = None) -> CloudCatalog:
    """Validate one catalog file on its own (used by tests and ``catalog`` commands)."""
    data = _read_yaml(Path(path))
    cat = _validate(CloudCatalog, data, str(path))
    _check_tables(reference or load_reference(), cat, str(path))
    return cat
