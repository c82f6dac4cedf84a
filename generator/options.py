"""The user's request: every option gen-tf takes, validated before anything is rendered.

Rules that need no catalog live here; rules that depend on the cloud's catalog
(regions, supported MySQL versions, minimum versions) are checked in
:mod:`generator.plan`. Each failure names the command-line option.

Options are checked in plain Python rather than through a pydantic model: they
are validated on every run, and pydantic's model machinery alone costs more
start-up time than the rest of a run (issue 2's 1.3x start-up budget; see
``make bench``). The checks keep pydantic's semantics: unknown keys and missing
required options fail, types are checked (strings stay strings, so an unquoted
``1.30`` in a config file is refused), and the first problem in field order is
the one reported.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from .errors import OptionError

NAME_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,19}$")
NAME_RULE = (
    "3-20 characters of a-z, 0-9 and single hyphens, starting with a letter and ending with a "
    "letter or digit (it prefixes buckets, IAM roles, GCP service accounts and Azure storage accounts)"
)
# Bucket names start with the name prefix: S3 reserves these prefixes, Cloud Storage refuses
# names that start with "goog" or contain "google". One rule set on every cloud, so a team
# can use one prefix everywhere (the templates' name variable checks the same).
NAME_RESERVED_PREFIXES = ("goog", "sthree-", "amzn-s3-demo-")
NAME_RESERVED_WORDS = ("google",)
# Tag/label key prefixes the clouds reserve (AWS aws:, Azure azure/microsoft/windows, GCP goog).
TAG_RESERVED_PREFIXES = ("aws:", "azure", "microsoft", "windows", "goog")
DOMAIN_MAX = 64  # a certificate's common name (ACM, Let's Encrypt) holds at most 64 characters
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
FQDN_RE = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]*[a-z0-9]$")
FQDN_RULE = "a lowercase fully qualified domain name such as wandb.example.com (a-z, 0-9, hyphens; 2+ labels; 253 characters at most)"
K8S_RE = re.compile(r"^1\.[0-9]{1,2}$")
MYSQL_RE = re.compile(r"^[0-9]+\.[0-9]+$")
RETENTION_RANGE = (7, 35)  # R-DB-2: at least a week; 35 is the managed services' common maximum
TAG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/-]{0,62}$")
TAG_VALUE_RE = re.compile(r"^[A-Za-z0-9_.:/ +@=-]{0,63}$")
AZURE_TAG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,62}$")
GCP_LABEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
GCP_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")

# Model field -> the option that sets it (for error messages).
OPTION_OF = {
    "cloud": "--cloud",
    "env": "--env",
    "products": "--products",
    "name": "--name",
    "region": "--region",
    "domain": "--domain",
    "dns_zone": "--dns-zone",
    "k8s_version": "--k8s-version",
    "mysql_version": "--mysql-version",
    "standby": "--standby",
    "backup_retention_days": "--backup-retention-days",
    "tags": "--tag",
    "node_family": "--node-family",
    "layer": "--layer",
    "vpc_id": "--vpc-id",
    "private_subnet_ids": "--private-subnet-id",
    "public_subnet_ids": "--public-subnet-id",
    "private_endpoint": "--private-endpoint",
    "allowed_cidrs": "--allowed-cidr",
    "air_gapped": "--air-gapped",
    "image_registry": "--image-registry",
    "backend": "--backend",
    "catalogs": "--catalog",
    "prevent_destroy": "--prevent-destroy",
    "admin_cidrs": "--admin-cidr",
    "alarm_emails": "--alarm-email",
}

# The remote-state backend each cloud's module may declare (partial configuration).
BACKENDS = {"aws": "s3", "gcp": "gcs", "azure": "azurerm"}
CIDR_RE = re.compile(r"^(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])/(?:3[0-2]|[12]?[0-9])$")
EMAIL_RE = re.compile(r"^[^@ ]+@[^@ ]+[.][A-Za-z0-9-]+$")  # the modules' alarm_emails rule, character for character
REGISTRY_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9._-]+)*$")


# The allowed values of the options that take a fixed set.
CHOICES: dict[str, tuple[str, ...]] = {
    "cloud": ("aws", "gcp", "azure"),
    "env": ("dev", "test", "prod"),
    "products": ("models", "weave", "both"),
    "layer": ("infra", "app"),
    "backend": ("s3", "gcs", "azurerm"),
}


@dataclass(frozen=True, kw_only=True)
class Options:
    """What the user asked for; ``None`` means "the catalog's or the tier's default".

    Build it with :func:`parse_options`, which checks every value.
    """

    cloud: str
    env: str
    products: str
    name: str = "wandb"
    region: str | None = None
    domain: str | None = None
    dns_zone: str | None = None
    k8s_version: str | None = None
    mysql_version: str | None = None
    standby: bool | None = None
    backup_retention_days: int | None = None
    # lifecycle prevent_destroy on buckets, databases and keys; None: the tier's (on in prod).
    prevent_destroy: bool | None = None
    tags: dict[str, str] = field(default_factory=dict)
    node_family: str | None = None
    # Which root module: the cloud infrastructure, or the W&B application on it.
    layer: str = "infra"
    # Bring-your-own network: an existing VPC/VNet and its subnets instead of new ones.
    vpc_id: str | None = None
    private_subnet_ids: tuple[str, ...] = ()
    public_subnet_ids: tuple[str, ...] = ()
    # A Kubernetes API endpoint reachable only from inside the network.
    private_endpoint: bool = False
    # Who may reach W&B through the load balancer (R-NET-3: every training system).
    allowed_cidrs: tuple[str, ...] = ()
    # Who may reach the Kubernetes API (and, on Azure, the Key Vault) from outside the
    # network: nobody unless given (issue 10: nothing administrative open by default).
    admin_cidrs: tuple[str, ...] = ()
    # Who the database CPU alarm notifies (required in prod, here or in the module).
    alarm_emails: tuple[str, ...] = ()
    # R-NET-2: no internet egress; images and charts from a private mirror.
    air_gapped: bool = False
    image_registry: str | None = None
    backend: str | None = None
    # Catalog files overlaid on the built-in catalog, in order (paths as given).
    catalogs: tuple[str, ...] = ()


def _name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(f"{value!r} is not allowed; use {NAME_RULE}")
    if value.startswith(NAME_RESERVED_PREFIXES) or any(word in value for word in NAME_RESERVED_WORDS):
        raise ValueError(
            f"{value!r} is not allowed: bucket names start with it, and they may not start with "
            f"{', '.join(NAME_RESERVED_PREFIXES)} or contain {', '.join(NAME_RESERVED_WORDS)}; use another prefix"
        )
    return value


def _fqdn(value: str) -> str:
    value = value.rstrip(".")
    if len(value) > 253 or not FQDN_RE.match(value):
        raise ValueError(f"{value!r} is not allowed; use {FQDN_RULE}")
    return value


def _domain(value: str) -> str:
    value = _fqdn(value)
    if len(value) > DOMAIN_MAX:
        raise ValueError(
            f"{value!r} has {len(value)} characters; use at most {DOMAIN_MAX} (the TLS certificate's name, R-TLS-1)"
        )
    return value


def _region(value: str) -> str:
    if not value:
        raise ValueError("is empty; name a region, or leave the option out for the catalog's default")
    return value


def _k8s(value: str) -> str:
    if not K8S_RE.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes version; use MAJOR.MINOR, 1.29 or newer (R-K8S-4)")
    return value


def _mysql(value: str) -> str:
    if not MYSQL_RE.match(value):
        raise ValueError(f"{value!r} is not a MySQL version; use MAJOR.MINOR, 8.0 or newer (R-DB-1)")
    return value


def _retention(value: int) -> int:
    low, high = RETENTION_RANGE
    if not low <= value <= high:
        raise ValueError(f"{value} days is not allowed; use {low} to {high} days (R-DB-2: daily backups kept at least 7 days)")
    return value


# Per-field rules that need no other field, run after the type check.
RULES: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "region": _region,
    "domain": _domain,
    "dns_zone": _fqdn,
    "k8s_version": _k8s,
    "mysql_version": _mysql,
    "backup_retention_days": _retention,
}

# An integer written as text: ASCII digits only (int() would also take "1_0" and other scripts' digits).
INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_TRUE = ("true", "yes", "on", "1", "t", "y")
_FALSE = ("false", "no", "off", "0", "f", "n")


def _typed(name: str, kind: str, value: Any) -> Any:
    """``value`` as the field's type (the coercions pydantic's lax mode makes), or ValueError."""
    if name in CHOICES:
        if value not in CHOICES[name]:
            allowed = ", ".join(repr(c) for c in CHOICES[name][:-1]) + f" or {CHOICES[name][-1]!r}"
            raise ValueError(f"{value!r} is not allowed; use {allowed}")
        return value
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "int" and not isinstance(value, bool):
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and INTEGER_RE.fullmatch(value.strip()):
            return int(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
    if kind == "list" and isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    if kind == "tags" and isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return dict(value)
    expected = {"str": "a string", "int": "an integer", "bool": "true or false", "list": "a list of strings", "tags": "a mapping of strings to strings"}[kind]
    hint = ' (quote version numbers, e.g. "1.30")' if name.endswith("_version") else ""
    if name == "backup_retention_days":
        hint = f"; use {RETENTION_RANGE[0]} to {RETENTION_RANGE[1]} days (R-DB-2)"
    raise ValueError(f"{value!r} is not allowed: it must be {expected}{hint}")


def _kind(annotation: str) -> str:
    for kind, marker in (("list", "tuple"), ("tags", "dict"), ("bool", "bool"), ("int", "int")):
        if annotation.startswith(marker):
            return kind
    return "str"


# Field -> (kind, required), from the dataclass (its annotations are strings here).
_FIELDS = {f.name: (_kind(str(f.type)), f.default is MISSING and f.default_factory is MISSING) for f in fields(Options)}


def parse_options(values: dict[str, Any]) -> Options:
    """Check ``values`` and build :class:`Options`; the first problem becomes an :class:`OptionError`."""
    for key in values:
        if key not in _FIELDS:
            raise OptionError(OPTION_OF.get(key, key), "is not a known option")
    clean: dict[str, Any] = {}
    for name, (kind, required) in _FIELDS.items():
        value = values.get(name)
        if value is None:
            if required:
                allowed = CHOICES.get(name, ())
                raise OptionError(OPTION_OF[name], "is required" + (f"; allowed: {', '.join(allowed)}" if allowed else ""))
            continue
        try:
            value = _typed(name, kind, value)
            clean[name] = RULES[name](value) if name in RULES else value
        except ValueError as exc:
            raise OptionError(OPTION_OF[name], str(exc)) from None
    opts = Options(**clean)
    _cross(opts)
    return opts


def _cidr(option: str, cidr: str) -> None:
    """An IPv4 network as the clouds take it: a CIDR whose host bits are zero (10.0.0.0/8, not
    10.0.0.1/8, which the providers refuse at apply). The modules' validations check the same."""
    if not CIDR_RE.match(cidr):
        raise OptionError(option, f"{cidr!r} is not an IPv4 CIDR such as 203.0.113.0/24")
    address, prefix = cidr.split("/")
    network = ipaddress.ip_network(cidr, strict=False)
    if str(network.network_address) != address:
        raise OptionError(option, f"{cidr!r} has host bits set; the network is {network.network_address}/{prefix}")


# Options the application layer (--layer app) has no use for: they shape the cloud infrastructure.
INFRA_ONLY = (
    "name", "dns_zone", "k8s_version", "mysql_version", "standby", "backup_retention_days", "prevent_destroy",
    "tags", "node_family", "vpc_id", "private_subnet_ids", "public_subnet_ids", "private_endpoint",
    "allowed_cidrs", "admin_cidrs", "alarm_emails",
)


def _layer(opts: Options) -> None:
    """Refuse what does not apply to the chosen layer, rather than ignore it silently."""
    if opts.layer != "app":
        return
    defaults = {f.name: (f.default if f.default is not MISSING else f.default_factory()) for f in fields(Options) if f.name in INFRA_ONLY}  # type: ignore[misc]
    for name in INFRA_ONLY:
        if getattr(opts, name) != defaults[name]:
            raise OptionError(
                OPTION_OF[name],
                "shapes the infrastructure layer; the application layer takes what it needs from the infrastructure's "
                "outputs (gen-tf app-vars): remove it with --layer app",
            )


def _cross(opts: Options) -> None:
    """Rules between options (the first failure wins)."""
    _layer(opts)
    if opts.domain and opts.dns_zone and not (
        opts.domain == opts.dns_zone or opts.domain.endswith("." + opts.dns_zone)
    ):
        raise OptionError("--domain", f"{opts.domain} is not inside the DNS zone {opts.dns_zone}; use a name under it")
    if opts.dns_zone and not opts.domain:
        raise OptionError("--domain", "is required with --dns-zone (the FQDN the A record is created for, R-DNS-1)")
    if (opts.private_subnet_ids or opts.public_subnet_ids) and not opts.vpc_id:
        raise OptionError("--vpc-id", "is required with --private-subnet-id/--public-subnet-id (the network they belong to)")
    if opts.vpc_id and not opts.private_subnet_ids:
        raise OptionError("--private-subnet-id", "is required with --vpc-id (the subnets for nodes and the database)")
    if opts.cloud == "aws" and opts.vpc_id and not opts.air_gapped and len(opts.public_subnet_ids) < 2:
        raise OptionError("--public-subnet-id", "give at least 2 public subnets in different zones for the load balancer (with --vpc-id on aws)")
    if opts.cloud == "azure" and opts.vpc_id and len(opts.private_subnet_ids) != 3:
        raise OptionError(
            "--private-subnet-id",
            "give 3 on azure with --vpc-id, in this order: AKS nodes, MySQL delegated subnet, Application Gateway",
        )
    if opts.cloud != "aws" and opts.public_subnet_ids:
        raise OptionError("--public-subnet-id", f"is only used on aws; {opts.cloud} load balancers need no subnet")
    if (
        opts.cloud == "azure" and opts.allowed_cidrs and "0.0.0.0/0" not in opts.allowed_cidrs
        and not opts.dns_zone and not opts.air_gapped
    ):
        # Without a DNS zone, cert-manager proves the domain over HTTP-01, and Let's Encrypt
        # does not publish the addresses it validates from: the narrowed port 80 refuses it.
        raise OptionError(
            "--allowed-cidr",
            "narrows who reaches the Application Gateway, but without --dns-zone the certificate is issued over "
            "HTTP-01 from Let's Encrypt addresses no list can name; give --dns-zone (DNS-01) or include 0.0.0.0/0",
        )
    if opts.cloud == "gcp" and len(opts.allowed_cidrs) > 10:
        raise OptionError("--allowed-cidr", "Cloud Armor takes at most 10 ranges per rule on gcp; give 1 to 10")
    for option, cidrs in (("--allowed-cidr", opts.allowed_cidrs), ("--admin-cidr", opts.admin_cidrs)):
        for cidr in cidrs:
            _cidr(option, cidr)
        if len(set(cidrs)) != len(cidrs):
            raise OptionError(option, "lists the same CIDR twice; give each once")
    if opts.admin_cidrs and (opts.private_endpoint or opts.air_gapped):
        raise OptionError(
            "--admin-cidr",
            "opens the Kubernetes API to these networks, but --private-endpoint/--air-gapped keep it private; use one or the other",
        )
    for email in opts.alarm_emails:
        if not EMAIL_RE.match(email):
            raise OptionError("--alarm-email", f"{email!r} is not an e-mail address such as ops@example.com")
    if opts.image_registry is not None and not REGISTRY_RE.match(opts.image_registry):
        raise OptionError("--image-registry", f"{opts.image_registry!r} is not a registry host[:port][/path], e.g. registry.corp.example/wandb")
    if opts.air_gapped and not opts.image_registry:
        raise OptionError("--image-registry", "is required with --air-gapped (R-NET-2: images and charts come from a private mirror)")
    if opts.backend and opts.backend != BACKENDS[opts.cloud]:
        raise OptionError("--backend", f"{opts.backend} does not fit {opts.cloud}; allowed: {BACKENDS[opts.cloud]}")
    key_re, value_re, rule = {
        "gcp": (GCP_LABEL_RE, GCP_VALUE_RE, "lowercase a-z, 0-9, _ and - (GCP label rules), key starting with a letter"),
        "azure": (AZURE_TAG_KEY_RE, TAG_VALUE_RE, "a key of letters, digits and _.:- starting with a letter (Azure forbids / < > % & \\ ?); a value of up to 63 characters"),
    }.get(opts.cloud, (TAG_KEY_RE, TAG_VALUE_RE, "a key of letters, digits and _.:/- starting with a letter; a value of up to 63 such characters"))
    for key, value in opts.tags.items():
        if key.lower().startswith(TAG_RESERVED_PREFIXES):
            raise OptionError(
                "--tag", f"{key}={value} is not allowed: keys starting with {', '.join(TAG_RESERVED_PREFIXES)} are reserved by the clouds"
            )
        if not key_re.match(key) or not value_re.match(value):
            raise OptionError("--tag", f"{key}={value} is not allowed; use {rule}")
