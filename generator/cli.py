"""The gen-tf command line.

``gen-tf --cloud aws --env prod --products both > main.tf`` generates a module;
other commands are subcommands (``gen-tf sizes``). This is the only place that
turns domain errors into a message: one line on stderr, exit code 2, nothing on
stdout.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from . import __version__
from .errors import GenTfError, OptionError

EXIT_USAGE = 2


def _parse_tags(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--tag'")
        tags[key] = value
    return tags


class _Cli(click.Group):
    """Runs ``generate`` unless the first argument names another command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["generate", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_Cli)
def cli() -> None:
    """gen-tf: Terraform for the W&B self-managed reference architecture."""


@cli.command(
    "generate",
    epilog=(
        "Other commands: 'gen-tf sizes --help' (the sizing matrix). "
        "Requirement IDs (R-DB-4, ...) refer to the W&B reference architecture."
    ),
)
@click.option("--cloud", required=True, type=click.Choice(["aws", "gcp", "azure"]), help="Target cloud.")
@click.option(
    "--env",
    required=True,
    type=click.Choice(["dev", "test", "prod"]),
    help="Environment tier; test is sized like dev (the tables' Test/Dev row).",
)
@click.option(
    "--products",
    required=True,
    type=click.Choice(["models", "weave", "both"]),
    help="Product mix the nodes are sized for.",
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
    "--backup-retention-days",
    type=int,
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
    type=click.Choice(["infra", "app"]),
    default="infra",
    show_default=True,
    help="infra: the cloud resources; app: the W&B operator and instance, applied after infra (R-K8S-1).",
)
@click.option("--node-family", help="Pick nodes from this x86 family instead of the table's type (e.g. m6i, n2d-highmem).")
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Catalog file overlaid on the built-in one; repeatable.",
)
@click.version_option(__version__, prog_name="gen-tf")
def generate(catalogs: tuple[str, ...], **values: Any) -> None:
    """Write a Terraform root module for W&B to stdout."""
    from .catalog import load_catalog
    from .options import parse_options
    from .plan import build_plan
    from .render import render_single

    opts = parse_options(values)
    plan = build_plan(opts, load_catalog(opts.cloud, catalogs))
    text = render_single(plan.cloud, plan.context(), plan.command, plan.layer)
    # Written in one call only after everything rendered: no partial output.
    sys.stdout.write(text)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, mapping every expected failure to exit code 2."""
    try:
        cli.main(args=argv, prog_name="gen-tf", standalone_mode=False)
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
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
