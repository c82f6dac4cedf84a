"""The one Jinja environment and the file layout of a generated module.

Each cloud has one template per topic (``templates/<cloud>/<topic>.tf.j2``).
Stdout mode joins the topics in the order Terraform readers expect (terraform
block, providers, variables, locals, resources, outputs), each under a banner;
directory mode writes one file per topic. Either way every file carries the
generated-file header and passes through :func:`generator.hclfmt.format_hcl`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jinja2

from .errors import RenderError
from .hclfmt import format_hcl
from .resources import cache_dir, data_dir

# (topic, banner title). Stdout mode keeps this order.
TOPICS: tuple[tuple[str, str], ...] = (
    ("versions", "Terraform and provider versions"),
    ("providers", "Providers"),
    ("variables", "Variables"),
    ("locals", "Locals"),
    ("network", "Network and egress"),
    ("cluster", "Kubernetes cluster"),
    ("database", "MySQL database"),
    ("storage", "Object storage"),
    ("dns", "DNS, TLS and the load balancer"),
    ("monitoring", "Monitoring"),
    ("outputs", "Outputs"),
)

# The application layer (a second root module, applied after the cluster exists).
APP_TOPICS: tuple[tuple[str, str], ...] = (
    ("versions", "Terraform and provider versions"),
    ("providers", "Providers"),
    ("variables", "Variables"),
    ("locals", "Locals"),
    ("operator", "The W&B operator (R-K8S-1)"),
    ("wandb", "The W&B instance"),
    ("outputs", "Outputs"),
)
LAYERS: dict[str, tuple[tuple[str, str], ...]] = {"infra": TOPICS, "app": APP_TOPICS}


def template_dir(cloud: str, layer: str) -> str:
    """``templates/<cloud>`` for the infrastructure, ``templates/app/<cloud>`` for the application."""
    return cloud if layer == "infra" else f"{layer}/{cloud}"


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def hcl(value: Any) -> str:
    """A Python value as an HCL literal (strings escaped, templates neutralised)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        body = "\n".join(f"{_key(k)} = {hcl(v)}" for k, v in value.items())
        return "{\n" + body + "\n}"
    raise RenderError(f"cannot render {type(value).__name__} as HCL")


def _key(key: str) -> str:
    return key if _IDENT.match(key) else hcl(key)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates cached per user, so a run skips parsing.

    Jinja keys each entry by the template's source; the folder is keyed by this
    module's source (the environment's options, filters) and Jinja's version,
    so a change to either starts a new cache. Purely a speed-up: output does
    not depend on it, and a cache that cannot be read or written is ignored.
    """
    fingerprint = hashlib.sha256(Path(__file__).read_bytes() + jinja2.__version__.encode()).hexdigest()[:16]
    folder = cache_dir("jinja", fingerprint)
    if folder is None:
        return None
    return _BytecodeCache(str(folder))


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, except that a damaged entry or a failed write (a full disk, a
    folder removed or made read-only meanwhile) costs the cache entry, not the run."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged entry's unpickling can raise almost anything
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def environment() -> jinja2.Environment:
    """The single Jinja environment: strict about undefined names, no stray whitespace."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["hcl"] = hcl
    return env


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV


def header(plan: Any) -> str:
    """The generated-file header of a Terraform (or YAML) file: ``plan.header_lines()`` as comments."""
    return "".join(f"# {line}\n" for line in plan.header_lines())


def banner(title: str) -> str:
    rule = "# " + "-" * 76
    return f"{rule}\n# {title}\n{rule}\n"


def render_topic(cloud: str, topic: str, context: dict[str, Any], layer: str = "infra") -> str:
    """Render one topic template to formatted HCL (no header)."""
    name = f"{template_dir(cloud, layer)}/{topic}.tf.j2"
    try:
        text = _env().get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise RenderError(f"template {name} is missing") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {exc.name}:{exc.lineno}: {exc.message}") from None
    return format_hcl(text) if text.strip() else ""


def render_template(name: str, context: dict[str, Any]) -> str:
    """Render a non-Terraform template (e.g. a module README) as it is."""
    try:
        return _env().get_template(name).render(**context)
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {name}: {exc.message}") from None


def render_files(plan: Any) -> dict[str, str]:
    """One formatted file per topic: ``{"versions.tf": "...", ...}`` (empty topics left out)."""
    files: dict[str, str] = {}
    context = plan.context()
    for topic, _title in LAYERS[plan.layer]:
        body = render_topic(plan.cloud, topic, context, plan.layer)
        if body:
            files[f"{topic}.tf"] = header(plan) + "\n" + body
    return files


def render_single(plan: Any) -> str:
    """The whole module as one file, topics in order under banners."""
    parts = [header(plan)]
    context = plan.context()
    for topic, title in LAYERS[plan.layer]:
        body = render_topic(plan.cloud, topic, context, plan.layer)
        if body:
            parts.append(banner(title) + "\n" + body)
    return "\n".join(parts)
