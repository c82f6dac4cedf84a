"""Catalogs: machine types, the reference sizing rows and versions, as validated data.

``catalogs/reference.yaml`` holds what the reference architecture says for every
cloud (sizing requirements, minimum versions, per-tier topology); each
``catalogs/<cloud>.yaml`` holds that cloud's services, machine types and the
reference table's chosen types. The models are frozen dataclasses that pydantic
validates with ``extra="forbid"``; cross-checks that need both files (a chosen
type exists, is x86 for Kubernetes nodes per R-K8S-5, and meets its sizing row)
run in :func:`load_catalog`. Every failure is a :class:`CatalogError` naming
the file and the field. A catalog that passed is cached per user (see
``_cache_key``), so most runs import neither pydantic nor PyYAML.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import os
import pickle
import re
import sys
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from .errors import CatalogError
from .resources import cache_dir, data_dir

Cloud = Literal["aws", "gcp", "azure"]
Tier = Literal["dev", "prod"]
Products = Literal["models", "weave", "both"]
Arch = Literal["x86_64", "arm64"]

CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")
TIERS: tuple[str, ...] = ("dev", "prod")
PRODUCTS: tuple[str, ...] = ("models", "weave", "both")

_VERSION = r"^[0-9]+\.[0-9]+$"


class Constraint:
    """A pydantic constraint (``gt``, ``ge``, ``le``, ``pattern``, ``min_length`` ...) on an ``Annotated`` field.

    It speaks pydantic's schema protocol without importing pydantic, so the
    models below are plain frozen dataclasses: pydantic validates them when a
    catalog is first read (:func:`_validate`), and a run that finds the
    validated catalog in the cache never imports pydantic or PyYAML.
    """

    def __init__(self, **limits: Any) -> None:
        self.limits = limits

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema.update(self.limits)
        return schema


# Strict integers: a YAML true or "4" is not a count. Floats are finite.
PositiveInt = Annotated[int, Constraint(strict=True, gt=0)]
PositiveFloat = Annotated[float, Constraint(gt=0, allow_inf_nan=False)]
VersionText = Annotated[str, Constraint(pattern=_VERSION)]


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in fields(self))


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash((self.__class__, _values(self)))


def _repr(self: Any) -> str:
    return f"{self.__class__.__qualname__}(" + ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)) + ")"


def _data(cls: type) -> Any:
    """A catalog model: frozen, keyword-only, and unknown keys are errors (pydantic ``extra="forbid"``).
    Equality, hashing and repr are shared functions rather than generated per class: every
    run imports these models (to read the cached catalog), and dataclass compiles each method
    it generates, which cost a third of gen-tf's own import time (make bench)."""
    cls.__pydantic_config__ = {"extra": "forbid"}  # type: ignore[attr-defined]
    cls.__eq__ = _eq  # type: ignore[method-assign]
    cls.__hash__ = _hash  # type: ignore[method-assign]
    cls.__repr__ = _repr  # type: ignore[method-assign]
    return dataclass(frozen=True, kw_only=True, eq=False, repr=False)(cls)


@_data
class Resources:
    """One sizing row: cores, memory and disk per node."""

    cpu: PositiveInt
    memory_gib: PositiveFloat
    disk_gib: PositiveInt


@_data
class MachineType:
    vcpu: PositiveInt
    memory_gib: PositiveFloat
    arch: Arch
    family: Annotated[str, Constraint(min_length=1)]
    # What the type is for: a Kubernetes node type, or a MySQL (database) class.
    # A `nodes:` choice must be kubernetes, a `mysql:` choice mysql, and
    # --node-family offers kubernetes families only. The shipped catalogs state
    # it on every type; an overlay's new type defaults to a node type.
    service: Literal["kubernetes", "mysql"]
    # Azure only: whether the size can attach Premium SSD disks.
    premium_storage: bool | None = None
    # AWS only: the most pods a node of this type runs (its ENI limit, eni-max-pods.txt);
    # the kubelet reserves memory per pod (generator/capacity.py).
    max_pods: Annotated[int, Constraint(strict=True, gt=0)] | None = None

    def meets(self, need: Resources) -> bool:
        return self.vcpu >= need.cpu and self.memory_gib >= need.memory_gib


@_data
class TierPolicy:
    zones: Annotated[int, Constraint(strict=True, ge=2, le=3)]  # R-LAYER-1: survive the loss of a node (and a zone)
    min_nodes: Annotated[int, Constraint(strict=True, ge=2)]
    desired_nodes: Annotated[int, Constraint(strict=True, ge=2)]
    max_nodes: Annotated[int, Constraint(strict=True, ge=2)]
    backup_retention_days: Annotated[int, Constraint(strict=True, ge=7, le=35)]  # R-DB-2
    standby: bool  # R-DB-5
    deletion_protection: bool
    keep_backups_on_delete: bool
    prevent_destroy: bool


@_data
class MinVersions:
    kubernetes: VersionText
    mysql: VersionText


@_data
class DbAlarm:
    threshold_percent: Annotated[int, Constraint(strict=True, gt=0, le=100)]
    period_seconds: Annotated[int, Constraint(strict=True, ge=60)]


@_data
class ProviderPin:
    source: Annotated[str, Constraint(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")]
    version: str


@_data
class OperatorChart:
    repository: Annotated[str, Constraint(pattern=r"^(https|oci)://")]
    name: str
    version: str
    # The clouds whose application layer installs it (empty: every cloud's).
    clouds: list[Cloud] = field(default_factory=list)
    # The images it deploys at this version (what an air-gapped mirror carries).
    images: list[str] = field(default_factory=list)


_K8S_NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


@_data
class WandbComponent:
    # Runs only with a Weave product (weave, both).
    weave: bool = False


@_data
class WandbRoute:
    path: Annotated[str, Constraint(pattern=r"^/")]
    port: Annotated[int, Constraint(strict=True, gt=0, lt=65536)]
    health_check: Annotated[str, Constraint(pattern=r"^/")]
    # The AWS infrastructure output naming the route's target group (an app input), and
    # the target group's name suffix (NAME-<suffix>, at most 32 characters in all).
    aws_output: Annotated[str, Constraint(pattern=r"^[a-z][a-z0-9_]*$")]
    aws_target_group: Annotated[str, Constraint(pattern=r"^[a-z][a-z0-9]{0,10}$")]
    # The container port the service's targetPort names, when it is not the service port
    # (weave-trace: service 8722, pods 8080): the load balancer reaches the pods there.
    pod_port: Annotated[int, Constraint(strict=True, gt=0, lt=65536)] | None = None
    weave: bool = False


@_data
class ImageRef:
    repository: Annotated[str, Constraint(min_length=1)]
    tag: Annotated[str, Constraint(min_length=1)]


@_data
class ChartImage:
    image: Annotated[str, Constraint(pattern=r"^[a-z0-9.-]+/[^ ]+:[^ ]+$")]
    weave: bool = False


@_data
class WandbContract:
    """What the infrastructure and application layers must agree on (names), and W&B's images."""

    as_of: datetime.date
    release: Annotated[str, Constraint(pattern=_K8S_NAME)]
    namespace: Annotated[str, Constraint(pattern=_K8S_NAME)]
    credentials_secret: Annotated[str, Constraint(pattern=_K8S_NAME)]
    components: Annotated[dict[str, WandbComponent], Constraint(min_length=1)]
    jwt_components: list[str]
    routes: Annotated[dict[str, WandbRoute], Constraint(min_length=1)]
    operator_image: ImageRef
    images: dict[str, list[str]]
    chart_images: list[ChartImage]


@_data
class PodRequest:
    """A W&B pod's resource requests and how many of them run at least."""

    replicas: Annotated[int, Constraint(strict=True, gt=0)]
    cpu: Annotated[float, Constraint(gt=0, allow_inf_nan=False)]
    memory_gib: Annotated[float, Constraint(gt=0, allow_inf_nan=False)]


@_data
class ComponentRequest(PodRequest):
    component: Annotated[str, Constraint(min_length=1)]


@_data
class AppPreset:
    pods: Annotated[list[ComponentRequest], Constraint(min_length=1)]
    # Added with a Weave product.
    weave_pods: list[ComponentRequest] = field(default_factory=list)


@_data
class AppExtraPods:
    operator: PodRequest
    in_cluster_clickhouse: PodRequest


@_data
class Footprint:
    cpu: Annotated[float, Constraint(ge=0, allow_inf_nan=False)]
    memory_gib: Annotated[float, Constraint(ge=0, allow_inf_nan=False)]


@_data
class MemoryReserve:
    """The kubelet's memory reservation: base + per pod, plus shares of bands of the node's
    memory, capped at a share of it; EKS, GKE and AKS each fill some of these."""

    base_mib: Annotated[float, Constraint(ge=0)] = 0
    per_pod_mib: Annotated[float, Constraint(ge=0)] = 0
    # [GiB of memory, share reserved of it], in order; the last may say null: the rest.
    bands: list[tuple[Annotated[float, Constraint(gt=0)] | None, Annotated[float, Constraint(ge=0, le=1)]]] = field(default_factory=list)
    max_share: Annotated[float, Constraint(gt=0, le=1)] | None = None


@_data
class NodeOverhead:
    """What a node keeps from pods: the kubelet's reservation and eviction threshold, by the
    cloud's own formula, and the requests of the system DaemonSets on every node."""

    source: Annotated[str, Constraint(pattern=r"^https://")]
    # [cores, share reserved of them], in order; the last may say null: the rest.
    cpu_bands: list[tuple[Annotated[float, Constraint(gt=0)] | None, Annotated[float, Constraint(ge=0, le=1)]]]
    memory: MemoryReserve
    eviction_memory_gib: Annotated[float, Constraint(ge=0)]
    daemonsets: Footprint
    # Pods per node when the machine type does not say (the cluster's max pods).
    max_pods: Annotated[int, Constraint(strict=True, gt=0)]


@_data
class AppInput:
    # Read only with a Weave product.
    weave: bool = False


@_data
class Reference:
    min_versions: MinVersions
    node_requirements: dict[Tier, dict[Products, Resources]]
    mysql_requirements: dict[Tier, Resources]
    tiers: dict[Tier, TierPolicy]
    db_cpu_alarm: DbAlarm
    app_providers: dict[str, ProviderPin]
    operator_chart: OperatorChart
    app_charts: dict[str, OperatorChart]
    app_sizes: dict[Tier, dict[Products, Literal["small", "medium", "large", "xlarge"]]]
    wandb: WandbContract
    app_presets: dict[Literal["small", "medium", "large", "xlarge"], AppPreset]
    app_extra_pods: AppExtraPods
    wandb_daemonset: Footprint


@_data
class Services:
    kubernetes: str
    mysql: str
    object_storage: str


@_data
class Defaults:
    region: str
    kubernetes_version: VersionText
    mysql_version: VersionText


@_data
class SupportWindow:
    """A version's support on one cloud, as the cloud's own page gave it on the catalog's ``as_of``."""

    released: datetime.date
    # None: not announced yet (the version is in standard support for now).
    end_of_standard_support: datetime.date | None = None
    # Paid extended (or long-term) support after standard support; None: none announced.
    end_of_extended_support: datetime.date | None = None
    # A page other than the list's own `source`, where the dates come from.
    source: Annotated[str, Constraint(pattern=r"^https://")] | None = None

    def status(self, on: datetime.date, create_in_extended: bool) -> str:
        """standard, extended (still creatable), or retired (a new cluster or server cannot use it) on ``on``."""
        if self.released > on:
            return "unreleased"
        if self.end_of_standard_support is None or on < self.end_of_standard_support:
            return "standard"
        if create_in_extended and self.end_of_extended_support is not None and on < self.end_of_extended_support:
            return "extended"
        return "retired"


@_data
class MysqlVersion(SupportWindow):
    # The engine version the service takes (AWS: the major only, so automatic minor
    # upgrades never make a plan try to downgrade), and the parameter group family.
    engine_version: Annotated[str, Constraint(min_length=1)]
    parameter_family: str | None = None


@_data
class KubernetesVersions:
    source: Annotated[str, Constraint(pattern=r"^https://")]
    # Whether a new cluster may use a version in extended support, as this module builds it.
    create_in_extended_support: bool
    # What extended support means and costs on this cloud (named in warnings).
    extended_support: Annotated[str, Constraint(min_length=1)]
    versions: Annotated[dict[VersionText, SupportWindow], Constraint(min_length=1)]


@_data
class MysqlVersions:
    source: Annotated[str, Constraint(pattern=r"^https://")]
    create_in_extended_support: bool
    extended_support: Annotated[str, Constraint(min_length=1)]
    versions: Annotated[dict[VersionText, MysqlVersion], Constraint(min_length=1)]


@_data
class IdPatterns:
    """Shapes of an existing network's and subnet's IDs (RE2; the CLI and the module check the same)."""

    network: Annotated[str, Constraint(min_length=1)]
    subnet: Annotated[str, Constraint(min_length=1)]
    # What a valid ID looks like, for messages.
    network_example: Annotated[str, Constraint(min_length=1)]
    subnet_example: Annotated[str, Constraint(min_length=1)]


@_data
class DbChoice:
    type: str
    # Why a chosen class below its sizing row is kept (the reference table's own choice).
    waiver: str | None = None


@_data
class CloudCatalog:
    cloud: Cloud
    services: Services
    terraform_version: str
    providers: Annotated[dict[str, ProviderPin], Constraint(min_length=1)]
    region_pattern: str
    # The regions gen-tf accepts (--region, the module's region variable).
    regions: Annotated[list[str], Constraint(min_length=1)]
    id_patterns: IdPatterns
    defaults: Defaults
    # The date the dated facts below (support windows) were read from the clouds' pages.
    # Output never depends on the clock: versions are judged as of this date.
    as_of: datetime.date
    kubernetes_versions: KubernetesVersions
    mysql_versions: MysqlVersions
    node_image: str
    # Engine settings by scope (e.g. cluster / instance parameter groups, database flags).
    mysql_parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    # Cloud-specific service settings the templates place as they are (editions,
    # SKUs, storage classes, ...): data, so no template hard-codes them.
    settings: dict[str, Any] = field(default_factory=dict)
    machine_types: Annotated[dict[str, MachineType], Constraint(min_length=1)]
    # R-K8S-5: a regular expression matching the names of the cloud's ARM machine
    # types, searched as Terraform's regex() does (anchor it; RE2 syntax only).
    # The loader refuses a node choice or an `arch: x86_64` whose name matches,
    # and the module's node-type variable validation places the same pattern.
    arm_type_pattern: Annotated[str, Constraint(min_length=1)]
    nodes: dict[Tier, dict[Products, str]]
    mysql: dict[Tier, DbChoice]
    # The infrastructure outputs the application layer reads, by name (issue 14): the
    # app module's variables of these names, and `gen-tf app-vars`, take them.
    app_inputs: Annotated[dict[str, AppInput], Constraint(min_length=1)]
    # What each node keeps from W&B's pods (generator/capacity.py).
    node_overhead: NodeOverhead

    def is_arm(self, name: str) -> bool:
        """R-K8S-5: ``name`` is ARM by its entry's ``arch`` or by its name (``arm_type_pattern``)."""
        machine = self.machine_types.get(name)
        return (machine is not None and machine.arch != "x86_64") or re.search(self.arm_type_pattern, name) is not None


@dataclass(frozen=True)
class Catalog:
    """The reference data and one cloud's catalog, cross-checked."""

    reference: Reference
    cloud: CloudCatalog
    path: str
    # The overlay files on top of the built-in catalog: (path as given, "sha256:<hex>" of its text),
    # recorded in the generated header so the output can be reproduced (and a changed overlay seen).
    overlays: tuple[tuple[str, str], ...] = ()

    def machine(self, name: str) -> MachineType:
        return self.cloud.machine_types[name]


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _read_text(path: Path, label: str | None = None) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(label or str(path), "file", f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(label or str(path), "file", f"is not UTF-8 text (byte {exc.start})") from None


def _parse_yaml(text: str, label: str) -> dict[str, Any]:
    import yaml  # only when a catalog is (re)validated, never on a cached run

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(label, where, f"is not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise CatalogError(label, "top level", "must be a mapping of keys to values")
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    return _parse_yaml(_read_text(path), str(path))


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overlay`` onto ``base`` (mappings merge, everything else replaces)."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@cache
def _adapter(model: type) -> Any:
    from pydantic import TypeAdapter  # imported only when a catalog is validated

    return TypeAdapter(model)


def _validate(model: type, data: dict[str, Any], path: str) -> Any:
    from pydantic import ValidationError

    try:
        return _adapter(model).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "top level"
        message = first["msg"]
        if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required but missing"
        elif first["type"] == "literal_error":
            message = message.replace("Input should be", "must be")
        raise CatalogError(path, field, message) from None


def _smaller(name: str, machine: MachineType, need: Resources) -> str:
    return (
        f"{name} ({machine.vcpu} vCPU, {machine.memory_gib:g} GiB) is smaller than the "
        f"requirement ({need.cpu} cores, {need.memory_gib:g} GB)"
    )


def _check_tables(ref: Reference, cat: CloudCatalog, path: str) -> None:
    for group, want in (("node_requirements", TIERS), ("mysql_requirements", TIERS), ("tiers", TIERS)):
        missing = [t for t in want if t not in getattr(ref, group)]
        if missing:
            raise CatalogError("reference.yaml", f"{group}.{missing[0]}", "required but missing")
    for tier in TIERS:
        for products in PRODUCTS:
            if products not in ref.node_requirements[tier]:
                raise CatalogError("reference.yaml", f"node_requirements.{tier}.{products}", "required but missing")
    try:
        re.compile(cat.arm_type_pattern)
    except re.error as exc:
        raise CatalogError(path, "arm_type_pattern", f"is not a valid regular expression ({exc})") from None
    if _NOT_RE2.search(cat.arm_type_pattern):
        # Terraform's regex() is RE2: there such a pattern fails, and the module's can(regex(...))
        # check would then pass every size.
        raise CatalogError(
            path, "arm_type_pattern", "uses lookaround, a backreference or an atomic group, which Terraform's RE2 regex() lacks"
        )
    _check_private_endpoints(cat, path)
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
            if machine.service != "kubernetes":
                raise CatalogError(
                    path, field, f"{name} is a {machine.service} class (service: {machine.service}), not a Kubernetes node type"
                )
            if re.search(cat.arm_type_pattern, name):
                raise CatalogError(
                    path, field, f"{name} is named like an ARM type (arm_type_pattern); Kubernetes nodes must be x86_64 (R-K8S-5)"
                )
            if machine.arch != "x86_64":
                raise CatalogError(
                    path, field, f"{name} is {machine.arch}; Kubernetes nodes must be x86_64 (R-K8S-5)"
                )
            need = ref.node_requirements[tier][products]
            if not machine.meets(need):
                raise CatalogError(path, field, _smaller(name, machine, need))
        choice = cat.mysql[tier]
        field = f"mysql.{tier}.type"
        machine = cat.machine_types.get(choice.type)
        if machine is None:
            raise CatalogError(path, field, f"{choice.type} is not in machine_types")
        if machine.service != "mysql":
            raise CatalogError(
                path, field, f"{choice.type} is a {machine.service} node type (service: {machine.service}), not a MySQL class"
            )
        need = ref.mysql_requirements[tier]
        if not machine.meets(need) and not choice.waiver:
            raise CatalogError(path, field, _smaller(choice.type, machine, need) + " and has no waiver")
    services: dict[str, str] = {}
    for name, machine in cat.machine_types.items():
        if machine.arch == "x86_64" and re.search(cat.arm_type_pattern, name):
            raise CatalogError(
                path, f"machine_types.{name}.arch", "is x86_64 but the name matches arm_type_pattern (ARM, R-K8S-5)"
            )
        # One service per family, so --node-family offers whole families (sizing.node_families).
        first = services.setdefault(machine.family, machine.service)
        if machine.service != first:
            raise CatalogError(
                path, f"machine_types.{name}.service", f"is {machine.service} but family {machine.family} is {first}"
            )
    _check_lifecycle(ref, cat, path)
    try:
        re.compile(cat.region_pattern)
    except re.error as exc:
        raise CatalogError(path, "region_pattern", f"is not a valid regular expression ({exc})") from None
    for index, region in enumerate(cat.regions):
        if not re.fullmatch(cat.region_pattern, region):
            raise CatalogError(path, f"regions[{index}]", f"{region!r} does not match region_pattern")
    if cat.defaults.region not in cat.regions:
        raise CatalogError(path, "defaults.region", f"{cat.defaults.region} is not one of regions")
    for field in ("network", "subnet"):
        pattern = getattr(cat.id_patterns, field)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CatalogError(path, f"id_patterns.{field}", f"is not a valid regular expression ({exc})") from None
        if _NOT_RE2.search(pattern):
            raise CatalogError(path, f"id_patterns.{field}", "uses a construct Terraform's RE2 regex() lacks")
        example = getattr(cat.id_patterns, f"{field}_example")
        if not re.search(pattern, example):
            raise CatalogError(path, f"id_patterns.{field}_example", f"{example!r} does not match id_patterns.{field}")


def _check_lifecycle(ref: Reference, cat: CloudCatalog, path: str) -> None:
    """Dated version data (issue 11): dates in order, versions at or above the requirement's
    floor, and each default a version in standard support on the catalog's as_of date."""
    lists: tuple[tuple[str, str, Any, str], ...] = (
        ("kubernetes_versions", "kubernetes_version", cat.kubernetes_versions, ref.min_versions.kubernetes),
        ("mysql_versions", "mysql_version", cat.mysql_versions, ref.min_versions.mysql),
    )
    for group, default_key, versions, minimum in lists:
        for version, window in versions.versions.items():
            field = f"{group}.versions.{version}"
            if version_tuple(version) < version_tuple(minimum):
                raise CatalogError(path, field, f"must be {minimum} or newer (R-K8S-4, R-DB-1)")
            std, ext = window.end_of_standard_support, window.end_of_extended_support
            if std is not None and std <= window.released:
                raise CatalogError(path, f"{field}.end_of_standard_support", "must be after released")
            if ext is not None and (std is None or ext < std):
                raise CatalogError(path, f"{field}.end_of_extended_support", "needs end_of_standard_support, and must not be before it")
        default = getattr(cat.defaults, default_key)
        window = versions.versions.get(default)
        if window is None:
            raise CatalogError(path, f"defaults.{default_key}", f"must be one of {group}: {', '.join(versions.versions)}")
        status = window.status(cat.as_of, versions.create_in_extended_support)
        if status != "standard":
            raise CatalogError(
                path,
                f"defaults.{default_key}",
                f"{default} is {status} on {cat.as_of} (end of standard support {window.end_of_standard_support}); "
                "a default must be in standard support as of as_of",
            )


# Python regular-expression constructs RE2 (Terraform's regex()) does not have.
_NOT_RE2 = re.compile(r"\(\?(?:[=!]|<[=!]|>|\()|\\[1-9]")

# The services the Azure templates give a private endpoint when air-gapped (R-NET-2), with
# the module resource each one targets there (templates/azure/network.tf.j2).
PRIVATE_ENDPOINT_SERVICES = ("blob", "key_vault")


def _check_private_endpoints(cat: CloudCatalog, path: str) -> None:
    """settings.private_endpoints: required on Azure; per service a subresource and a DNS zone."""
    endpoints = cat.settings.get("private_endpoints")
    if endpoints is None:
        if cat.cloud == "azure":
            raise CatalogError(path, "settings.private_endpoints", "required but missing")
        return
    if not isinstance(endpoints, dict):
        raise CatalogError(path, "settings.private_endpoints", "must be a mapping of services to settings")
    for service, entry in endpoints.items():
        field = f"settings.private_endpoints.{service}"
        if service not in PRIVATE_ENDPOINT_SERVICES:
            raise CatalogError(path, field, f"unknown service; allowed: {', '.join(PRIVATE_ENDPOINT_SERVICES)}")
        if not isinstance(entry, dict) or set(entry) != {"subresource", "dns_zone"}:
            raise CatalogError(path, field, "must have exactly subresource and dns_zone")
        for key, value in entry.items():
            if not isinstance(value, str) or not value:
                raise CatalogError(path, f"{field}.{key}", "must be a non-empty string")


def _check_contract(ref: Reference) -> None:
    """The contract's lists name components it declares (reference.yaml, wandb)."""
    wandb = ref.wandb
    known = set(wandb.components)
    named = [("jwt_components", c) for c in wandb.jwt_components]
    named += [("routes", c) for c in wandb.routes]
    named += [(f"images.{repo}", c) for repo, components in wandb.images.items() for c in components]
    for field, component in named:
        if component not in known:
            raise CatalogError("reference.yaml", f"wandb.{field}", f"{component} is not one of wandb.components")
    imaged = [c for components in wandb.images.values() for c in components]
    for component in wandb.components:
        if imaged.count(component) != 1:
            raise CatalogError("reference.yaml", f"wandb.components.{component}", "must run exactly one of wandb.images")


def load_reference() -> Reference:
    folder = data_dir("catalogs")
    return _load_reference(_read_text(folder / "reference.yaml", "reference.yaml"))


@cache
def _load_reference(text: str) -> Reference:
    ref = _validate(Reference, _parse_yaml(text, "reference.yaml"), "reference.yaml")
    _check_contract(ref)
    return ref


def load_catalog(cloud: str, overlays: tuple[str, ...] = ()) -> Catalog:
    """Load and cross-check one cloud's catalog, with optional overlay files on top."""
    if cloud not in CLOUDS:
        raise CatalogError(f"{cloud}.yaml", "cloud", f"must be one of {', '.join(CLOUDS)}")
    folder = data_dir("catalogs")
    sources = [("reference.yaml", folder / "reference.yaml"), (f"{cloud}.yaml", folder / f"{cloud}.yaml")]
    sources += [(overlay, Path(overlay)) for overlay in overlays]
    # Read every time (a long-lived process sees an edited overlay); validated once per content.
    texts = tuple((label, _read_text(path, label)) for label, path in sources)
    return _load(cloud, texts)


@cache
def _load(cloud: str, texts: tuple[tuple[str, str], ...]) -> Catalog:
    key = _cache_key(list(texts))
    cached = _cache_get(key)
    if cached is not None:
        return cached
    (_, ref_text), (label, text), *extra = texts
    ref = _load_reference(ref_text)
    data = _parse_yaml(text, label)
    for overlay, overlay_text in extra:
        more = _parse_yaml(overlay_text, overlay)
        if more.get("cloud", cloud) != cloud:
            raise CatalogError(overlay, "cloud", f"is {more['cloud']!r}; this run is for {cloud}")
        data = _merge(data, more)
        label = overlay
    cat = _validate(CloudCatalog, data, label)
    _check_tables(ref, cat, label)
    overlay_hashes = tuple(
        (name, "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()) for name, text in texts[2:]
    )
    catalog = Catalog(reference=ref, cloud=cat, path=label, overlays=overlay_hashes)
    _cache_put(key, catalog)
    return catalog


# ---- the validated-catalog cache ------------------------------------------------
# Validation (pydantic, PyYAML) costs more than the rest of a run together, so a
# catalog that passed is kept per user, keyed by the SHA-256 of everything that
# decides it: the file names and texts, this module's source (the models) and
# the Python version. Any change to a file is a new key, so a broken catalog is
# always validated (and refused) again; a cache that cannot be read or written
# only costs the validation. GEN_TF_NO_CACHE=1 turns it off. Each write keeps
# the newest CACHE_ENTRIES entries and removes older ones (edits add up).

CACHE_ENTRIES = 64
_VALIDATORS = ("pydantic", "pydantic_core", "yaml")


def _cache_key(texts: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(sys.version.encode())
    # The validators' installed files (found, not imported): an upgrade is a new key.
    for package in _VALIDATORS:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            info = os.stat(spec.origin)
            digest.update(f"{package}:{spec.origin}:{info.st_mtime_ns}:{info.st_size};".encode())
    for label, text in texts:
        for part in (label, text):
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _cache_get(key: str) -> Catalog | None:
    folder = cache_dir("catalog")
    if folder is None:
        return None
    try:
        with open(folder / f"{key}.pickle", "rb") as handle:
            found = pickle.load(handle)  # written by gen-tf into the user's own cache
    except Exception:  # noqa: BLE001 - unpickling damaged bytes can raise almost anything; the cache only costs a validation
        return None
    return found if isinstance(found, Catalog) else None


def _cache_put(key: str, catalog: Catalog) -> None:
    folder = cache_dir("catalog")
    if folder is None:
        return
    target = folder / f"{key}.pickle"
    staging = folder / f".{key}.{os.getpid()}.tmp"
    try:
        staging.write_bytes(pickle.dumps(catalog, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(staging, target)
        entries = sorted(folder.glob("*.pickle"), key=lambda entry: entry.stat().st_mtime_ns, reverse=True)
        for stale in entries[CACHE_ENTRIES:]:
            stale.unlink(missing_ok=True)
    except OSError:
        staging.unlink(missing_ok=True)


def load_file(path: str | Path, reference: Reference | None = None) -> CloudCatalog:
    """Validate one catalog file on its own (used by tests and ``catalog`` commands)."""
    data = _read_yaml(Path(path))
    cat = _validate(CloudCatalog, data, str(path))
    _check_tables(reference or load_reference(), cat, str(path))
    return cat
