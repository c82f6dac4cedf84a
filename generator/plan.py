"""Options + Catalog -> Plan: every value a template places, resolved and frozen.

Templates never look anything up and never decide; they read this Plan. Rules
that depend on the cloud's catalog (region shape, supported MySQL versions,
minimum versions) are enforced here, each naming the option it concerns.
"""

from __future__ import annotations

import datetime
import re
import shlex
from dataclasses import dataclass, replace
from typing import Any

from . import __version__
from .catalog import Catalog, DbAlarm, OperatorChart, ProviderPin, Services, SupportWindow, version_tuple
from .errors import OptionError
from .options import RETENTION_RANGE, Options
from .capacity import Capacity
from .sizing import DbSize, NodeSize, size


@dataclass(frozen=True)
class Network:
    """Where the module's resources live: a new network, or an existing one (bring your own)."""

    vpc_id: str | None
    private_subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...]
    private_endpoint: bool
    allowed_cidrs: tuple[str, ...]
    # Who may reach the Kubernetes API from outside the network (none: private only).
    admin_cidrs: tuple[str, ...]
    air_gapped: bool
    image_registry: str | None

    @property
    def byo(self) -> bool:
        return self.vpc_id is not None


def kebab(key: str) -> str:
    """A values key as Helm's kebabcase names it (settingsMigrationJob -> settings-migration-job)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", key).lower()


@dataclass(frozen=True)
class Route:
    """A path the chart's Ingress sends to a W&B service (mirrored by AWS's load balancer)."""

    component: str
    service: str
    path: str
    port: int
    health_check: str
    aws_output: str
    # The pods' port behind the service port (security groups allow it).
    pod_port: int
    # The AWS target group's resource name and its name suffix.
    aws_target_group: str

    @property
    def aws_resource(self) -> str:
        return "wandb" if self.component == "app" else self.component.replace("-", "_")


@dataclass(frozen=True)
class WandbPlan:
    """The contract between the infrastructure and application layers (issue 14), for these
    products: every name both modules must agree on comes from here, never typed twice."""

    release: str
    namespace: str
    credentials_secret: str
    # Component (operator-wandb values key) -> its Kubernetes service account.
    components: dict[str, str]
    # The service accounts app accepts tokens from (app.internalJWTMap).
    jwt_service_accounts: tuple[str, ...]
    routes: tuple[Route, ...]
    operator_image_repository: str
    operator_image_tag: str
    # W&B image repository -> the components running it; and the images the chart pins.
    images: dict[str, tuple[str, ...]]
    chart_images: tuple[str, ...]
    # The infrastructure outputs the application layer reads.
    app_inputs: tuple[str, ...]

    @property
    def service_accounts(self) -> list[str]:
        return list(self.components.values())

    @property
    def pod_ports(self) -> list[tuple[str, int, tuple[str, ...]]]:
        """Each distinct pod port the load balancer reaches: (the first route's component, the
        port, every route's component on it). One security group rule per port: AWS refuses a
        duplicate rule."""
        found: dict[int, list[str]] = {}
        for route in self.routes:
            found.setdefault(route.pod_port, []).append(route.component)
        return [(components[0], port, tuple(components)) for port, components in found.items()]


def _wandb_plan(catalog: Catalog, products: str) -> WandbPlan:
    contract = catalog.reference.wandb
    weave = products in ("weave", "both")
    components = {key: f"{contract.release}-{kebab(key)}" for key, c in contract.components.items() if weave or not c.weave}
    return WandbPlan(
        release=contract.release,
        namespace=contract.namespace,
        credentials_secret=contract.credentials_secret,
        components=components,
        jwt_service_accounts=tuple(components[c] for c in contract.jwt_components if c in components),
        routes=tuple(
            Route(key, components[key], r.path, r.port, r.health_check, r.aws_output, r.pod_port or r.port, r.aws_target_group)
            for key, r in contract.routes.items()
            if key in components
        ),
        operator_image_repository=contract.operator_image.repository,
        operator_image_tag=contract.operator_image.tag,
        images={repo: tuple(c for c in keys if c in components) for repo, keys in contract.images.items() if any(c in components for c in keys)},
        chart_images=tuple(i.image for i in contract.chart_images if weave or not i.weave),
        app_inputs=tuple(name for name, i in catalog.cloud.app_inputs.items() if weave or not i.weave),
    )


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
    # The Kubernetes minors a new cluster may use (the module's variable validation), the
    # chosen one's support window, and whether it is past standard support (EKS upgrade policy).
    k8s_versions: tuple[str, ...]
    k8s_support: SupportWindow
    k8s_extended: bool
    mysql_version: str
    mysql_min: str
    # Accepted MySQL versions -> the service's engine version, and (AWS) parameter group family.
    mysql_versions: dict[str, str]
    mysql_parameter_families: dict[str, str]
    # The date the catalog's dated facts were read (support windows, chart versions).
    catalog_as_of: str
    mysql_parameters: dict[str, dict[str, str]]
    settings: dict[str, Any]
    standby: bool
    backup_retention_days: int
    deletion_protection: bool
    # Keep the database's backups when it is deleted (tier policy, reference.yaml).
    keep_backups_on_delete: bool
    # Write lifecycle { prevent_destroy = true } on every stateful resource (buckets,
    # databases, keys, Key Vault): Terraform then refuses a plan that deletes one.
    prevent_destroy: bool
    tags: dict[str, str]
    # Who the database CPU alarm notifies (R-DB-4).
    alarm_emails: tuple[str, ...]
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
    # The images of the controllers this cloud's application layer installs (to mirror).
    app_chart_images: tuple[str, ...]
    app_size: str
    # What W&B's pods need of the nodes at that preset (issue 13).
    capacity: Capacity
    wandb: WandbPlan
    network: Network
    backend: str | None
    command: str
    # The regions gen-tf accepts and the shapes of existing network IDs (the module's validations).
    regions: tuple[str, ...] = ()
    network_id_pattern: str = ""
    subnet_id_pattern: str = ""
    # The catalog overlays as (path, "sha256:..."), named in the header (reproducible output).
    overlays: tuple[tuple[str, str], ...] = ()
    # What the CLI prints on stderr (never part of the output): a version past standard support.
    warnings: tuple[str, ...] = ()
    # The backup retention the CLI accepts, repeated in the Terraform validation (R-DB-2).
    retention_range: tuple[int, int] = RETENTION_RANGE

    @property
    def prod(self) -> bool:
        return self.tier == "prod"

    def settings_to_keep(self) -> dict[str, str]:
        """What --out-dir records so a later regeneration cannot move it unasked (generator/outdir.py)."""
        if self.layer != "infra":
            return {}
        return {"name": self.name, "region": self.region, "kubernetes_version": self.k8s_version, "mysql_version": self.mysql_version}

    def header_lines(self) -> list[str]:
        """What every generated file says about itself: the generator and version, the command that
        regenerates it, and the content hash of every catalog overlay that command reads."""
        lines = [f"Generated by gen-tf {__version__}; do not edit by hand. Regenerate with:", f"  {self.command}"]
        lines += [f"Catalog overlay {path}: {sha}" for path, sha in self.overlays]
        return lines

    def context(self) -> dict[str, Any]:
        """The template context: the plan itself, under one name."""
        return {"plan": self}


def canonical_command(opts: Options) -> str:
    """The command that regenerates this output, options in a fixed order. The Kubernetes and
    MySQL versions are always named (build_plan fills in the catalog's defaults): they are dated
    catalog facts, so a newer gen-tf with newer defaults still regenerates the same module."""
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
    if opts.prevent_destroy is not None:
        args.append("--prevent-destroy" if opts.prevent_destroy else "--no-prevent-destroy")
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
    for cidr in opts.admin_cidrs:
        args += ["--admin-cidr", cidr]
    for email in opts.alarm_emails:
        args += ["--alarm-email", email]
    if opts.air_gapped:
        args.append("--air-gapped")
    if opts.image_registry is not None:
        args += ["--image-registry", opts.image_registry]
    if opts.backend is not None:
        args += ["--backend", opts.backend]
    for path in opts.catalogs:
        args += ["--catalog", path]
    return shlex.join(args)


def build_plan(opts: Options, catalog: Catalog, running: dict[str, str] | None = None) -> Plan:
    """The plan for ``opts`` on ``catalog``. ``running`` holds the versions an existing deployment
    records (its --out-dir manifest or gen-tf 0.1 header): a version the cloud no longer creates is
    accepted for it when it is that version, or (Kubernetes) the next minor, the one step up."""
    running = running or {}
    cat = catalog.cloud
    ref = catalog.reference
    region = opts.region or cat.defaults.region
    if not re.fullmatch(cat.region_pattern, region):
        raise OptionError(
            "--region", f"{region!r} is not a region name on {opts.cloud}; use one like {cat.defaults.region}"
        )
    if region not in cat.regions:
        raise OptionError(
            "--region",
            f"{region!r} is not a {opts.cloud} region gen-tf knows (catalog as of {cat.as_of}); use one like "
            f"{cat.defaults.region}, or add it to regions with a --catalog overlay",
        )
    _check_network(opts, cat)
    warnings: list[str] = []
    k8s_running = _running_steps(running.get("kubernetes_version"), step=True)
    mysql_running = _running_steps(running.get("mysql_version"), step=False)
    k8s, k8s_window, k8s_status = _pick_version(
        "--k8s-version", "Kubernetes", opts.k8s_version, cat.defaults.kubernetes_version, cat.kubernetes_versions,
        ref.min_versions.kubernetes, "R-K8S-4", opts.cloud, cat.services.kubernetes, cat.as_of, warnings, k8s_running,
    )
    mysql, _, _ = _pick_version(
        "--mysql-version", "MySQL", opts.mysql_version, cat.defaults.mysql_version, cat.mysql_versions,
        ref.min_versions.mysql, "R-DB-1", opts.cloud, cat.services.mysql, cat.as_of, warnings, mysql_running,
    )
    if opts.layer == "infra":  # the header pins them (the application layer has no use for them)
        opts = replace(opts, k8s_version=k8s, mysql_version=mysql)
    # The module's own validation accepts what a new deployment may use, and the running version.
    k8s_accepted = sorted({*accepted_versions(cat.kubernetes_versions, cat.as_of), k8s}, key=version_tuple)
    mysql_accepted = sorted({*accepted_versions(cat.mysql_versions, cat.as_of), mysql}, key=version_tuple)

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
        k8s_versions=tuple(k8s_accepted),
        k8s_support=k8s_window,
        k8s_extended=k8s_status == "extended",
        mysql_versions={v: cat.mysql_versions.versions[v].engine_version for v in mysql_accepted},
        mysql_parameter_families={v: cat.mysql_versions.versions[v].parameter_family or "" for v in mysql_accepted},
        catalog_as_of=cat.as_of.isoformat(),
        mysql_parameters={k: dict(sorted(v.items())) for k, v in sorted(cat.mysql_parameters.items())},
        settings=dict(cat.settings),
        standby=policy.standby if opts.standby is None else opts.standby,
        backup_retention_days=opts.backup_retention_days or policy.backup_retention_days,
        deletion_protection=policy.deletion_protection,
        keep_backups_on_delete=policy.keep_backups_on_delete,
        prevent_destroy=policy.prevent_destroy if opts.prevent_destroy is None else opts.prevent_destroy,
        tags=dict(sorted(opts.tags.items())),
        alarm_emails=tuple(opts.alarm_emails),
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
        app_chart_images=tuple(i for c in ref.app_charts.values() if opts.cloud in c.clouds for i in c.images),
        app_size=sizing.capacity.preset,
        capacity=sizing.capacity,
        wandb=_wandb_plan(catalog, opts.products),
        network=Network(
            vpc_id=opts.vpc_id,
            private_subnet_ids=tuple(opts.private_subnet_ids),
            public_subnet_ids=tuple(opts.public_subnet_ids),
            private_endpoint=opts.private_endpoint,
            # R-NET-3: by default every network may reach W&B.
            allowed_cidrs=tuple(opts.allowed_cidrs) or ("0.0.0.0/0",),
            admin_cidrs=tuple(opts.admin_cidrs),
            air_gapped=opts.air_gapped,
            image_registry=opts.image_registry,
        ),
        backend=opts.backend,
        command=canonical_command(opts),
        regions=tuple(cat.regions),
        network_id_pattern=cat.id_patterns.network,
        subnet_id_pattern=cat.id_patterns.subnet,
        overlays=catalog.overlays,
        warnings=tuple(warnings),
    )


def _check_network(opts: Options, cat: Any) -> None:
    """An existing network's IDs, by the cloud's ID shapes (the module's variables check the same
    patterns) and by how many subnets the module needs (R-LAYER-1: two zones at least on AWS)."""
    patterns = cat.id_patterns
    if opts.vpc_id is not None and not re.search(patterns.network, opts.vpc_id):
        raise OptionError("--vpc-id", f"{opts.vpc_id!r} is not a {opts.cloud} network ID such as {patterns.network_example}")
    for flag, ids in (("--private-subnet-id", opts.private_subnet_ids), ("--public-subnet-id", opts.public_subnet_ids)):
        for subnet in ids:
            if not re.search(patterns.subnet, subnet):
                raise OptionError(flag, f"{subnet!r} is not a {opts.cloud} subnet ID such as {patterns.subnet_example}")
        if len({s.lower() for s in ids}) != len(ids):
            raise OptionError(flag, "lists the same subnet twice; give each once")
    if opts.cloud == "aws" and opts.vpc_id and len(opts.private_subnet_ids) < 2:
        raise OptionError(
            "--private-subnet-id", "give at least 2 private subnets in different zones (R-LAYER-1: nodes and the database span 2 zones)"
        )
    if opts.cloud == "gcp" and opts.vpc_id and len(opts.private_subnet_ids) != 1:
        raise OptionError("--private-subnet-id", "give exactly 1 on gcp with --vpc-id: the subnetwork of the nodes (a regional subnetwork spans the zones)")
    if opts.cloud == "azure" and opts.vpc_id:
        for subnet in opts.private_subnet_ids:
            if not subnet.lower().startswith(opts.vpc_id.lower() + "/subnets/"):
                raise OptionError("--private-subnet-id", f"{subnet} is not a subnet of --vpc-id {opts.vpc_id}")


def accepted_versions(versions: Any, as_of: datetime.date) -> list[str]:
    """The versions a new cluster or server may use on ``as_of`` (standard or, where the module
    can create it there, extended support), oldest first."""
    usable = ("standard", "extended")
    found = [v for v, w in versions.versions.items() if w.status(as_of, versions.create_in_extended_support) in usable]
    return sorted(found, key=version_tuple)


def _running_steps(version: str | None, step: bool) -> tuple[str, ...]:
    """The versions an existing deployment on ``version`` may be generated with: that version, and
    with ``step`` (Kubernetes, upgraded one minor at a time) the next minor."""
    if not version or not re.fullmatch(r"[0-9]+\.[0-9]+", version):
        return ()
    major, minor = (int(part) for part in version.split("."))
    return (version, f"{major}.{minor + 1}") if step else (version,)


def _pick_version(
    option: str,
    kind: str,
    asked: str | None,
    default: str,
    versions: Any,
    minimum: str,
    requirement: str,
    cloud: str,
    service: str,
    as_of: datetime.date,
    warnings: list[str],
    running: tuple[str, ...] = (),
) -> tuple[str, SupportWindow, str]:
    """The version to use, judged by the catalog's dates as of ``as_of`` (never today's: output must
    not depend on the clock). A version the cloud no longer creates, or one the catalog does not know,
    is refused with the dates; one in extended support is accepted with a warning naming the cost."""
    version = asked or default
    accepted = accepted_versions(versions, as_of)
    allowed = f"allowed on {cloud}: {', '.join(accepted)}"
    if version_tuple(version) < version_tuple(minimum):
        raise OptionError(option, f"{version} is below the minimum; use {minimum} or newer ({requirement}); {allowed}")
    window = versions.versions.get(version)
    if window is None:
        newest = max(versions.versions, key=version_tuple)
        if version_tuple(version) > version_tuple(newest):
            raise OptionError(
                option,
                f"{version} is newer than any {kind} version the catalog knows for {service} (newest {newest}, "
                f"catalog as of {as_of}); {allowed}, or add it with a --catalog overlay ({versions.source})",
            )
        raise OptionError(option, f"{version} is not offered on {service} (catalog as of {as_of}); {allowed}")
    status = window.status(as_of, versions.create_in_extended_support)
    if status == "retired" and version in running and (window.end_of_extended_support is None or as_of < window.end_of_extended_support):
        # An existing deployment on it (or one minor below): it still runs, in the cloud's extended
        # support, until end_of_extended_support; only a new one cannot use it.
        newest = [v for v in accepted if versions.versions[v].status(as_of, versions.create_in_extended_support) == "standard"]
        warnings.append(
            f"{kind} {version} can no longer be used for a new {service} (standard support ended "
            f"{window.end_of_standard_support}); accepted for this existing deployment, whose support ends "
            f"{window.end_of_extended_support or 'soon'}: step up one minor at a time to {newest[-1]}"
        )
        return version, window, "extended"
    if status == "retired":
        extended = versions.create_in_extended_support and window.end_of_extended_support is not None
        ended = window.end_of_extended_support if extended else window.end_of_standard_support
        raise OptionError(
            option,
            f"{kind} {version} can no longer be used for a new {service}: its support ended {ended} "
            f"(catalog as of {as_of}, {window.source or versions.source}); {allowed}",
        )
    if status == "unreleased":
        raise OptionError(option, f"{kind} {version} is released on {service} only on {window.released}; {allowed}")
    if status == "extended":
        standard = [v for v in accepted if versions.versions[v].status(as_of, versions.create_in_extended_support) == "standard"]
        warnings.append(
            f"{kind} {version} left standard support on {service} on {window.end_of_standard_support}: "
            f"{' '.join(versions.extended_support.split())}; {standard[-1]} is in standard support"
        )
    return version, window, status

