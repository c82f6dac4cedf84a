"""The gen-tf command line.

``gen-tf --cloud aws --env prod --products both > main.tf`` generates a module;
other commands are subcommands (``gen-tf sizes``). This is the only place that
turns domain errors into a message: one line on stderr, exit code 2, nothing on
stdout.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import click

from . import __version__
from .errors import GenTfError, OptionError
from .options import CHOICES, INTEGER_RE, RETENTION_RANGE

EXIT_USAGE = 2
# Standard output could not be written (a full disk, a closed pipe). Not 2: the command line was
# fine and running it again elsewhere works; 1 is also what click exits with on a broken pipe.
EXIT_OUTPUT = 1
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


class OutputError(GenTfError):
    """Standard output could not be written: a full device, or the reader went away (``| head``)."""

    def __init__(self, exc: OSError) -> None:
        self.broken_pipe = isinstance(exc, BrokenPipeError)
        super().__init__(f"cannot write the output: {exc.strerror or exc}")


# Errors of writing standard output: a full device, a closed pipe or descriptor, an I/O error.
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EPIPE, errno.EBADF, errno.EIO, errno.EDQUOT, errno.EFBIG}


def _write_stdout(text: str) -> None:
    """Write ``text`` and flush it now, so a write error is reported here and not at interpreter exit."""
    if sys.stdout is None:  # started with standard output closed (`gen-tf ... >&-`)
        raise OutputError(OSError(errno.EBADF, "standard output is closed"))
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        raise OutputError(exc) from None


def _discard_stdout() -> None:
    """Point the stdout descriptor at /dev/null after a write error, so that the interpreter's final
    flush of what is still buffered cannot fail again (with a second message and exit code 120)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. captured in tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _parse_tags(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--tag'")
        if key in tags:
            # Not "the last one wins": a repeated key is almost always a copy-paste mistake.
            raise click.BadParameter(f"key {key!r} is given more than once; give each key once", param_hint="'--tag'")
        tags[key] = value
    return tags


class _RetentionDays(click.ParamType):
    """An integer number of days; a non-integer is reported with the allowed range (R-DB-2).
    The range itself is checked by generator/options.py, for flags and config files alike."""

    name = "days"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if INTEGER_RE.fullmatch(str(value).strip()):
            return int(str(value).strip())
        low, high = RETENTION_RANGE
        self.fail(f"{value!r} is not an integer; use {low} to {high} days (R-DB-2)", param, ctx)


class _Generate(click.Command):
    """``generate`` runs without its name (``gen-tf --cloud ...``): show that in its usage line."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        prog = ctx.parent.command_path if ctx.parent is not None else ctx.command_path
        formatter.write_usage(prog, "[OPTIONS]")
        formatter.write_usage(prog, "COMMAND [ARGS]...", prefix="   or: ")


class _Cli(click.Group):
    """Runs ``generate`` unless the first argument names another command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["generate", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_Cli, context_settings=CONTEXT_SETTINGS)
def cli() -> None:
    """gen-tf: Terraform for the W&B self-managed reference architecture."""


@cli.command(
    "generate",
    cls=_Generate,
    epilog=(
        "\b\nCommands:\n"
        "  gen-tf sizes            Print the sizing matrix (cloud x env x products).\n"
        "  gen-tf versions         Print the Kubernetes and MySQL versions with their support dates.\n"
        "  gen-tf init             Write a commented gen-tf.yaml naming every option.\n"
        "  gen-tf app-vars         Turn the infra module's terraform output -json into the app layer's variables.\n"
        "  gen-tf catalog verify   Check the catalog's machine types and versions with the cloud's APIs.\n"
        "\nRun 'gen-tf COMMAND -h' for a command's options. "
        "Requirement IDs (R-DB-4, ...) refer to the W&B reference architecture."
    ),
)
@click.option("--cloud", type=click.Choice(CHOICES["cloud"]), help="Target cloud (required, here or in --config).")
@click.option(
    "--env",
    type=click.Choice(CHOICES["env"]),
    help="Environment tier (required); test is sized like dev (the tables' Test/Dev row).",
)
@click.option(
    "--products",
    type=click.Choice(CHOICES["products"]),
    help="Product mix the nodes are sized for (required).",
)
@click.option("--name", default="wandb", show_default=True, help="Name prefix of every resource (3-20 of a-z, 0-9, -).")
@click.option("--region", help="Cloud region (default: the catalog's, e.g. us-east-1).")
@click.option("--domain", help="FQDN users reach W&B at, e.g. wandb.example.com (R-DNS-1).")
@click.option(
    "--dns-zone",
    help="Public DNS zone that holds --domain; with it the module creates the certificate and A record.",
)
@click.option("--k8s-version", help="Kubernetes MAJOR.MINOR, 1.29 or newer (R-K8S-4).")
@click.option("--mysql-version", help="MySQL MAJOR.MINOR, 8.0 or newer (R-DB-1).")
@click.option(
    "--standby/--no-standby",
    default=None,
    help="Hot standby database in another zone (R-DB-5); default on in prod, off in dev/test.",
)
@click.option(
    "--prevent-destroy/--no-prevent-destroy",
    default=None,
    help="Write lifecycle prevent_destroy on buckets, databases and keys, so no plan can delete them; "
    "default on in prod. --no-prevent-destroy for a deliberate teardown.",
)
@click.option(
    "--backup-retention-days",
    type=_RetentionDays(),
    help="Days of daily backups to keep, 7-35 (R-DB-2); default 7 in dev/test, 14 in prod.",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    callback=_parse_tags,
    metavar="KEY=VALUE",
    help="Tag (label on GCP) for every resource; repeatable.",
)
@click.option(
    "--layer",
    type=click.Choice(CHOICES["layer"]),
    default="infra",
    show_default=True,
    help="infra: the cloud resources; app: the W&B operator and instance, applied after infra (R-K8S-1).",
)
@click.option("--node-family", help="Pick nodes from this x86 family instead of the table's type (e.g. m6i, n2d-highmem).")
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Catalog file overlaid on the built-in one; repeatable. Its path and content hash go into the header.",
)
@click.option("--vpc-id", help="Use this existing VPC (AWS VPC ID, GCP network name, Azure VNet ID) instead of creating one.")
@click.option(
    "--private-subnet-id",
    "private_subnet_ids",
    multiple=True,
    help="Existing subnet for nodes and the database (with --vpc-id); repeatable. AWS: private subnets; "
    "GCP: the node subnetwork; Azure: 3 IDs in order nodes, MySQL delegated subnet, Application Gateway.",
)
@click.option(
    "--public-subnet-id",
    "public_subnet_ids",
    multiple=True,
    help="Existing public subnet for the load balancer (AWS, with --vpc-id); repeatable.",
)
@click.option("--private-endpoint", is_flag=True, default=None, help="Kubernetes API reachable only from inside the network.")
@click.option(
    "--allowed-cidr",
    "allowed_cidrs",
    multiple=True,
    help="CIDR allowed to reach W&B through the load balancer (default: everywhere, R-NET-3); repeatable.",
)
@click.option(
    "--admin-cidr",
    "admin_cidrs",
    multiple=True,
    help="CIDR allowed to reach the Kubernetes API (and, on Azure, the Key Vault) from outside the network; "
    "repeatable. Default: none, the API is reachable from inside the network only.",
)
@click.option(
    "--alarm-email",
    "alarm_emails",
    multiple=True,
    help="E-mail address the database CPU alarm notifies (R-DB-4); repeatable. Prod needs one (or the module's alarm_webhook_url).",
)
@click.option(
    "--air-gapped",
    is_flag=True,
    default=None,
    help="No internet egress (R-NET-2): no NAT; images and charts from --image-registry.",
)
@click.option("--image-registry", help="Private registry (host[:port][/path]) that mirrors W&B's images and charts.")
@click.option(
    "--backend",
    type=click.Choice(CHOICES["backend"]),
    help="Declare a remote-state backend (partial; complete it with terraform init -backend-config=...).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="YAML or TOML file with any of these options as keys (cloud, env, k8s_version, tags, ...); flags override it.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Write a module directory (versions.tf, variables.tf, topic files, outputs.tf, README.md, "
    "terraform.tfvars.example and the manifest .gen-tf-manifest.json) instead of stdout. Only files gen-tf "
    "wrote there and that are unchanged since are ever replaced or removed.",
)
@click.option(
    "-o",
    "--output",
    "output_file",
    type=click.Path(dir_okay=False),
    help="Write the single-file module to FILE (whole or not at all) instead of stdout.",
)
@click.option("--check", is_flag=True, help="With --out-dir: exit 1 and print a diff if the directory is not what gen-tf would write.")
@click.option("--dry-run", is_flag=True, help="With --out-dir: name the files that would be added, changed and removed; write nothing.")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="With --out-dir: the report of --check, --dry-run or a write, as text (stderr, diff on stdout) or JSON (stdout).",
)
@click.option("--force", is_flag=True, help="With --out-dir or -o: overwrite files that gen-tf did not write or that were edited since.")
@click.version_option(__version__, prog_name="gen-tf")
@click.pass_context
def generate(
    ctx: click.Context,
    config_file: str | None,
    out_dir: str | None,
    output_file: str | None,
    check: bool,
    dry_run: bool,
    report_format: str,
    force: bool,
    **values: Any,
) -> None:
    """Write a Terraform root module for W&B to stdout (or -o FILE, or --out-dir DIR)."""
    from .catalog import load_catalog
    from .plan import build_plan

    if out_dir is not None and output_file is not None:
        raise OptionError("-o", "and --out-dir are alternatives: -o writes one file, --out-dir a module directory")
    for flag, given in (("--check", check), ("--dry-run", dry_run)):
        if given and out_dir is None:
            raise OptionError(flag, "needs --out-dir DIR (the module directory to compare)")
    if check and dry_run:
        raise OptionError("--dry-run", "and --check are alternatives: --check exits 1 on drift, --dry-run only reports")
    if force and out_dir is None and output_file is None:
        raise OptionError("--force", "needs --out-dir DIR or -o FILE (where to overwrite files)")
    if report_format != "text" and out_dir is None:
        raise OptionError("--format", "needs --out-dir DIR (it formats the directory report)")
    if out_dir == "":
        raise OptionError("--out-dir", "must name a directory, not an empty string")
    if output_file == "":
        raise OptionError("-o", "must name a file, not an empty string")
    opts, from_file = _options(ctx, values, config_file)
    running: dict[str, str] = {}
    if out_dir and opts.layer == "infra":
        # What the deployment in the directory runs: a version the cloud no longer creates stays
        # usable for it (and its next minor), so it can be regenerated and upgraded step by step.
        from pathlib import Path

        from .outdir import recorded_settings

        running = recorded_settings(Path(out_dir), opts.layer, opts.cloud)
    try:
        catalog = load_catalog(opts.cloud, opts.catalogs)
        plan = build_plan(opts, catalog, running)
    except OptionError as exc:
        raise _blame_config(exc, from_file, config_file) from None
    _warn(plan)
    if out_dir is None:
        from .render import render_single

        text = render_single(plan)
        # Written in one call only after everything rendered: no partial output.
        if output_file is not None:
            from pathlib import Path

            from .outdir import write_file

            changed = write_file(Path(output_file), text, force=force)
            click.echo(f"gen-tf: {'wrote' if changed else 'unchanged:'} {output_file}", err=True)
        else:
            _write_stdout(text)
        if plan.layer == "app":
            click.echo(
                "gen-tf: note: the app module installs a local chart (charts/wandb-manifests); "
                "use --out-dir to write it beside the module, or set manifests_chart_path",
                err=True,
            )
        return
    asked = {key for key in ("k8s_version", "mysql_version") if values.get(key) is not None or key in from_file}
    asked = {{"k8s_version": "kubernetes_version"}.get(key, key) for key in asked}
    cost_line = ""
    if plan.layer == "infra":
        # The module README's Cost section (issue 12 §5): the cell's estimate from the cited,
        # dated prices in catalogs/prices.yaml, as `gen-tf sizes --cost` shows it.
        from .cost import monthly_estimate

        cost_line = monthly_estimate(catalog, opts.env, opts.products, node_family=opts.node_family, region=plan.region).summary_line()
    _out_dir(ctx, plan, out_dir, asked, check=check, dry_run=dry_run, report_format=report_format, force=force, cost_line=cost_line)


# A catalog's support dates older than this (compared with today's date, on stderr only) get a note.
STALE_CATALOG_DAYS = 183


def _warn(plan: Any) -> None:
    """What the user should know that is not part of the output: a version past standard support,
    or support dates that are old by now. Only these read today's date; the output never does."""
    import datetime

    for warning in plan.warnings:
        click.echo(f"gen-tf: warning: {warning}", err=True)
    as_of = datetime.date.fromisoformat(plan.catalog_as_of)
    age = (datetime.date.today() - as_of).days
    if age > STALE_CATALOG_DAYS:
        click.echo(
            f"gen-tf: note: the catalog's version support dates are from {as_of} ({age} days ago); "
            "a newer gen-tf may know newer versions (gen-tf versions)",
            err=True,
        )


def _out_dir(
    ctx: click.Context,
    plan: Any,
    out_dir: str,
    asked: set[str],
    *,
    check: bool,
    dry_run: bool,
    report_format: str,
    force: bool,
    cost_line: str = "",
) -> None:
    """--out-dir: write, --check or --dry-run, and report each file added, changed and removed."""
    import shlex
    from pathlib import Path

    from . import outdir

    root = Path(out_dir)
    module = outdir.Module(
        layer=plan.layer,
        cloud=plan.cloud,
        command=plan.command,
        files=module_files(plan, cost_line),
        settings=plan.settings_to_keep(),
        explicit=frozenset(asked),
    )
    if check or dry_run:
        changes = outdir.plan(root, module, force=force, want_diff=check and report_format == "text")
    else:
        changes = outdir.write(root, module, force=force)
    if report_format == "json":
        _write_stdout(changes.as_json(module))
    elif check and not changes.clean:
        _write_stdout(changes.diff)
    if report_format == "text":
        where = f"{root} ({plan.layer} module for {plan.cloud})"
        if check:
            state = "is up to date" if changes.clean else f"is out of date: {changes.summary()}"
        elif dry_run:
            state = f"would change: {changes.summary()}" if not changes.clean else "is up to date; nothing to write"
        else:
            state = f"written: {changes.summary()}" if not changes.clean else "is up to date; nothing written"
        lines = [f"gen-tf: {where} {state}", *changes.lines()]
        if check and not changes.clean:
            lines.append(f"gen-tf: regenerate with: {plan.command} --out-dir {shlex.quote(str(root))}")
        if changes.conflicts:
            lines.append("gen-tf: the files marked ! would need --force: they were edited since gen-tf wrote them, or are not gen-tf's")
        click.echo("\n".join(lines), err=True)
    if check and not changes.clean:
        ctx.exit(1)


APP_CHART_FILES = {
    "Chart.yaml.j2": "charts/wandb-manifests/Chart.yaml",
    "manifests.yaml.j2": "charts/wandb-manifests/templates/manifests.yaml",
}


def module_files(plan: Any, cost_line: str = "") -> dict[str, str]:
    """Every file of a module directory: the topic files plus README.md (with ``cost_line``, the
    estimate generator/cost.py writes for an infrastructure module) and terraform.tfvars.example."""
    from .moduledoc import readme_context, scan, tfvars_example
    from .render import header, render_files, render_template

    files = render_files(plan)
    if plan.layer == "app":
        # The local chart that creates the custom resources (their CRDs arrive in the same apply).
        for name, target in APP_CHART_FILES.items():
            files[target] = header(plan) + render_template(f"app/chart/{name}", plan.context())
    fields = scan(files.get("variables.tf", ""))
    files["terraform.tfvars.example"] = tfvars_example(fields, plan.header_lines())
    files["README.md"] = render_template("module_readme.md.j2", readme_context(plan, files, cost_line=cost_line))
    return files


def _options(ctx: click.Context, values: dict[str, Any], config_file: str | None) -> tuple[Any, set[str]]:
    """Merge --config (if any) under the command line; return the options and the keys taken from the file."""
    from .options import OPTION_OF, parse_options

    file_values: dict[str, Any] = {}
    if config_file:
        from .config import read_config

        file_values = read_config(config_file, list(OPTION_OF))
    merged: dict[str, Any] = {}
    from_file: set[str] = set()
    for key, value in values.items():
        given = ctx.get_parameter_source(key) is click.core.ParameterSource.COMMANDLINE
        if key in file_values and not given:
            merged[key] = file_values[key]
            from_file.add(key)
        elif key == "tags" and "tags" in file_values:
            merged[key] = {**file_values["tags"], **value}
        else:
            merged[key] = value
    merged = {k: v for k, v in merged.items() if v is not None}
    try:
        return parse_options(merged), from_file
    except OptionError as exc:
        raise _blame_config(exc, from_file, config_file) from None


def _blame_config(exc: OptionError, from_file: set[str], config_file: str | None) -> GenTfError:
    """An error about a value that came from the config file names the file and key instead of the flag."""
    from .config import ConfigError
    from .options import OPTION_OF

    field = next((f for f, flag in OPTION_OF.items() if flag == exc.option), None)
    if config_file and field in from_file:
        return ConfigError(config_file, field, exc.detail)
    return exc


@cli.command("sizes")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--cloud", "clouds", multiple=True, type=click.Choice(CHOICES["cloud"]), help="Only these clouds.")
@click.option(
    "--cost",
    is_flag=True,
    help="Instead, each cell's monthly on-demand estimate of its main cost drivers, from the cited, "
    "dated prices of catalogs/prices.yaml only (an item without one says: no cited price).",
)
@click.option(
    "--prices",
    "price_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="With --cost: a price file overlaid on catalogs/prices.yaml (each price with its source and date); repeatable.",
)
def sizes(fmt: str, clouds: tuple[str, ...], cost: bool, price_files: tuple[str, ...]) -> None:
    """Print the sizing matrix: cloud x env x products -> nodes and database (--cost: monthly estimate)."""
    if price_files and not cost:
        raise OptionError("--prices", "needs --cost (it overlays the prices the estimate reads)")
    if cost:
        from .cost import load_prices, render_costs
        from .sizes import cost_matrix

        prices = load_prices(price_files)
        _write_stdout(render_costs(cost_matrix(clouds or None, prices), prices, fmt))
        return
    from .sizes import matrix, render_matrix

    _write_stdout(render_matrix(matrix(clouds or None), fmt))


@cli.command("versions")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--cloud", "clouds", multiple=True, type=click.Choice(CHOICES["cloud"]), help="Only these clouds.")
def versions(fmt: str, clouds: tuple[str, ...]) -> None:
    """Print each catalog's Kubernetes and MySQL versions: support dates, status as of the catalog's date, accepted, default."""
    from .versions import render_versions, version_table

    _write_stdout(render_versions(version_table(clouds or None), fmt))


@cli.command("init")
@click.option("--cloud", type=click.Choice(CHOICES["cloud"]), help="Target cloud, written as a value.")
@click.option("--env", type=click.Choice(CHOICES["env"]), help="Environment tier, written as a value.")
@click.option("--products", type=click.Choice(CHOICES["products"]), help="Product mix, written as a value.")
@click.option("--layer", type=click.Choice(CHOICES["layer"]), help="Layer, written as a value.")
@click.option(
    "-o",
    "--output",
    "output_file",
    default="gen-tf.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The config file to write (whole or not at all); '-' for standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(output_file: str, force: bool, **values: Any) -> None:
    """Write a commented gen-tf.yaml naming every option as the flags do."""
    from .init import config_text

    text = config_text(generate, {k: v for k, v in values.items() if v is not None})
    if output_file == "-":
        _write_stdout(text)
        return
    from pathlib import Path

    from .outdir import OutDirError, write_file

    target = Path(output_file)
    if target.exists() and not force:
        raise OutDirError(f"-o: {target} exists; pass --force to overwrite it")
    write_file(target, text, force=True)
    click.echo(f"gen-tf: wrote {target}; set cloud, env and products, then run gen-tf --config {target}", err=True)


@cli.command("app-vars")
@click.option("--cloud", required=True, type=click.Choice(CHOICES["cloud"]), help="Cloud of the infrastructure module.")
@click.option(
    "--input",
    "input_file",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="`terraform output -json` of the infrastructure module ('-': standard input).",
)
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Catalog file overlaid on the built-in one; repeatable.",
)
def app_vars_command(cloud: str, input_file: str, catalogs: tuple[str, ...]) -> None:
    """The infrastructure module's outputs as the application layer's variables (a .auto.tfvars.json)."""
    from .appvars import AppVarsError, app_vars

    if input_file == "-":
        text, source = click.get_text_stream("stdin").read(), "stdin"
    else:
        from pathlib import Path

        try:
            text, source = Path(input_file).read_text(encoding="utf-8"), input_file
        except (OSError, UnicodeDecodeError) as exc:
            raise AppVarsError(f"app-vars: cannot read {input_file}: {getattr(exc, 'strerror', None) or exc}") from None
    _write_stdout(app_vars(cloud, text, source, catalogs))


@cli.group("catalog")
def catalog() -> None:
    """Check the machine-type catalogs."""


@catalog.command("verify")
@click.option("--cloud", required=True, type=click.Choice(["aws"]), help="Cloud whose catalog to check (aws only).")
@click.option("--region", help="Region to check offerings in (default: the catalog's, e.g. us-east-1).")
@click.option("--endpoint-url", help="AWS API endpoint instead of the real one (a local emulator such as moto).")
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Catalog file overlaid on the built-in one; repeatable.",
)
@click.pass_context
def catalog_verify(
    ctx: click.Context, cloud: str, region: str | None, endpoint_url: str | None, catalogs: tuple[str, ...]
) -> None:
    """Check the catalog's machine types against the cloud's APIs (uses your AWS credentials); exit 1 on a finding."""
    from .catalog import load_catalog
    from .verify_aws import verify  # boto3 is imported there, never on the generate path

    cat = load_catalog(cloud, catalogs)
    report = verify(cat, region or cat.cloud.defaults.region, endpoint_url=endpoint_url)
    _write_stdout("\n".join(report.lines()) + "\n")
    if not report.ok:
        ctx.exit(1)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, mapping every expected failure to exit code 2."""
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        try:
            result = cli.main(args=argv, prog_name="gen-tf", standalone_mode=False)
            if sys.stdout is not None:
                sys.stdout.flush()  # what click.echo() or a command left buffered: report its failure here
        except OSError as exc:
            # click's own output (--help, --version) and the final flush; other file errors are
            # domain errors raised where the file is named, so only output failures arrive here.
            if exc.errno not in _OUTPUT_ERRNOS:
                raise
            raise OutputError(exc) from None
    except OutputError as exc:
        _discard_stdout()
        if not exc.broken_pipe:  # the reader went away (`gen-tf ... | head`): nothing to report
            click.echo(f"gen-tf: error: {_one_line(str(exc))}", err=True)
        return EXIT_OUTPUT
    except click.exceptions.NoArgsIsHelpError as exc:  # a command group without its command
        group = exc.ctx.command if exc.ctx is not None else None
        names = ", ".join(group.list_commands(exc.ctx)) if isinstance(group, click.Group) else ""
        path = exc.ctx.command_path if exc.ctx is not None else "gen-tf"
        click.echo(f"gen-tf: error: {path}: a command is required; allowed: {names} (see {path} -h)", err=True)
        return EXIT_USAGE
    except click.exceptions.UsageError as exc:
        click.echo(f"gen-tf: error: {_one_line(exc.format_message())}", err=True)
        return EXIT_USAGE
    except (GenTfError, OptionError) as exc:
        click.echo(f"gen-tf: error: {_one_line(str(exc))}", err=True)
        return EXIT_USAGE
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("gen-tf: aborted", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
