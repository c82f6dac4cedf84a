"""Options + Catalog -> Plan: every value a template places, resolved and frozen.

Templates never look anything up and never decide; they read this Plan. Rules
that depend on the cloud's catalog (region shape, supported MySQL versions,
minimum versions) are enforced here, each naming the option it concerns.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, DbAlarm, OperatorChart, ProviderPin, Services, version_tuple
from .errors import OptionError
from .options import RETENTION_RANGE, Options
from .sizing import DbSize, NodeSize, size


@dataclass(frozen=True)
class Network:
    """Where the module's resources live: a new network, or an existing one (bring your own)."""

    vpc_id: str | None
    private_subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...]
    private_endpoint: bool
    allowed_cidrs: tuple[str, ...]
    air_gapped: bool
    image_registry: str | None

    @property
    def byo(self) -> bool:
        return self.vpc_id is not None


@dataclass(frozen=True)
class Plan:
    cloud: str
    layer: str
    env: str
    tier: str
    products: str
    name: str
    region: str
    domain: str | None
    dns_zone: str | None
    k8s_version: str
    k8s_min: str
    mysql_version: str
    mysql_min: str
    mysql_versions: dict[str, str]
    mysql_parameter_family: str | None
    mysql_parameters: dict[str, dict[str, str]]
    settings: dict[str, Any]
    standby: bool
    backup_retention_days: int
    deletion_protection: bool
    tags: dict[str, str]
    node: NodeSize
    db: DbSize
    alarm: DbAlarm
    services: Services
    node_image: str
    terraform_version: str
    providers: dict[str, ProviderPin]
    # The application layer's providers: the cloud's own, then kubernetes and helm.
    app_providers: dict[str, ProviderPin]
    operator_chart: OperatorChart
    # Charts of the controllers the app layer installs, and the W&B chart's size preset.
    app_charts: dict[str, OperatorChart]
    app_size: str
    network: Network
    backend: str | None
    command: str
    # The backup retention the CLI accepts, repeated in the Terraform validation (R-DB-2).
    retention_range: tuple[int, int] = RETENTION_RANGE

    @property
    def prod(self) -> bool:
        return self.tier == "prod"

    def context(self) -> dict[str, Any]:
        """The template context: the plan itself, under one name."""
        return {"plan": self}


def canonical_command(opts: Options) -> str:
    """The command that regenerates this output, options in a fixed order."""
    args = ["gen-tf", "--cloud", opts.cloud, "--env", opts.env, "--products", opts.products]
    if opts.layer != "infra":
        args += ["--layer", opts.layer]
    if opts.name != "wandb":
        args += ["--name", opts.name]
    for flag, value in (
        ("--region", opts.region),
        ("--domain", opts.domain),
        ("--dns-zone", opts.dns_zone),
        ("--k8s-version", opts.k8s_version),
        ("--mysql-version", opts.mysql_version),
    ):
        if value is not None:
            args += [flag, value]
    if opts.standby is not None:
        args.append("--standby" if opts.standby else "--no-standby")
    if opts.backup_retention_days is not None:
        args += ["--backup-retention-days", str(opts.backup_retention_days)]
    for key in sorted(opts.tags):
        args += ["--tag", f"{key}={opts.tags[key]}"]
    if opts.node_family is not None:
        args += ["--node-family", opts.node_family]
    if opts.vpc_id is not None:
        args += ["--vpc-id", opts.vpc_id]
    for subnet in opts.private_subnet_ids:
        args += ["--private-subnet-id", subnet]
    for subnet in opts.public_subnet_ids:
        args += ["--public-subnet-id", subnet]
    if opts.private_endpoint:
        args.append("--private-endpoint")
    for cidr in opts.allowed_cidrs:
        args += ["--allowed-cidr", cidr]
    if opts.air_gapped:
        args.append("--air-gapped")
    if opts.image_registry is not None:
        args += ["--image-registry", opts.image_registry]
    if opts.backend is not None:
        args += ["--backend", opts.backend]
    return shlex.join(args)


def build_plan(opts: Options, catalog: Catalog) -> Plan:
    cat = catalog.cloud
    ref = catalog.reference
    region = opts.region or cat.defaults.region
    if not re.fullmatch(cat.region_pattern, region):
        raise OptionError(
            "--region", f"{region!r} is not a region name on {opts.cloud}; use one like {cat.defaults.region}"
        )
    k8s = opts.k8s_version or cat.defaults.kubernetes_version
    if version_tuple(k8s) < version_tuple(ref.min_versions.kubernetes):
        raise OptionError(
            "--k8s-version",
            f"{k8s} is below the minimum; use {ref.min_versions.kubernetes} or newer, e.g. "
            f"{cat.defaults.kubernetes_version} (R-K8S-4)",
        )
    mysql = opts.mysql_version or cat.defaults.mysql_version
    allowed_mysql = ", ".join(cat.mysql_versions)
    if version_tuple(mysql) < version_tuple(ref.min_versions.mysql):
        raise OptionError(
            "--mysql-version",
            f"{mysql} is below the minimum {ref.min_versions.mysql} (R-DB-1); allowed on {opts.cloud}: {allowed_mysql}",
        )
    if mysql not in cat.mysql_versions:
        raise OptionError("--mysql-version", f"{mysql} is not offered on {opts.cloud}; allowed: {allowed_mysql}")

    sizing = size(catalog, opts.env, opts.products, opts.node_family)
    policy = ref.tiers[sizing.tier]
    return Plan(
        cloud=opts.cloud,
        layer=opts.layer,
        env=opts.env,
        tier=sizing.tier,
        products=opts.products,
        name=opts.name,
        region=region,
        domain=opts.domain,
        dns_zone=opts.dns_zone,
        k8s_version=k8s,
        k8s_min=ref.min_versions.kubernetes,
        mysql_version=mysql,
        mysql_min=ref.min_versions.mysql,
        mysql_versions=dict(cat.mysql_versions),
        mysql_parameter_family=cat.mysql_parameter_family,
        mysql_parameters={k: dict(sorted(v.items())) for k, v in sorted(cat.mysql_parameters.items())},
        settings=dict(cat.settings),
        standby=policy.standby if opts.standby is None else opts.standby,
        backup_retention_days=opts.backup_retention_days or policy.backup_retention_days,
        deletion_protection=policy.deletion_protection,
        tags=dict(sorted(opts.tags.items())),
        node=sizing.node,
        db=sizing.db,
        alarm=ref.db_cpu_alarm,
        services=cat.services,
        node_image=cat.node_image,
        terraform_version=cat.terraform_version,
        providers=dict(cat.providers),
        # The cloud's own provider (listed first in its catalog) for data sources, then kubernetes and helm.
        app_providers={**dict([next(iter(cat.providers.items()))]), **ref.app_providers},
        operator_chart=ref.operator_chart,
        app_charts=dict(ref.app_charts),
        app_size=ref.app_sizes[sizing.tier][opts.products],
        network=Network(
            vpc_id=opts.vpc_id,
            private_subnet_ids=tuple(opts.private_subnet_ids),
            public_subnet_ids=tuple(opts.public_subnet_ids),
            private_endpoint=opts.private_endpoint,
            # R-NET-3: by default every network may reach W&B.
            allowed_cidrs=tuple(opts.allowed_cidrs) or ("0.0.0.0/0",),
            air_gapped=opts.air_gapped,
            image_registry=opts.image_registry,
        ),
        backend=opts.backend,
        command=canonical_command(opts),
    )
