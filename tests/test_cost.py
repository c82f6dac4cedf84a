"""`gen-tf sizes --cost`: the monthly on-demand estimate from cited, dated prices only (issue 12 §5).

The expected amounts are typed by hand from the prices in catalogs/prices.yaml
(730 h/month, each priced part rounded half-up to cents), not computed by the code under test.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_cli
from generator.catalog import load_catalog
from generator.cost import load_prices, monthly_estimate
from generator.errors import CatalogError

PRICES = REPO / "catalogs" / "prices.yaml"


def drivers(estimate) -> dict[str, float | None]:
    return {d.name: (None if d.monthly is None else float(d.monthly)) for d in estimate.drivers}


# ---- hand-computed cells ---------------------------------------------------------------


def test_aws_dev_models_by_hand() -> None:
    e = monthly_estimate(load_catalog("aws"), "dev", "models")
    assert drivers(e) == {
        "nodes": 551.88,  # 6 x r6i.large 0.126 x 730
        "database": None,  # db.r6g.large: no source found
        "database storage": 10.00,  # 100 GB x 0.10
        "NAT": 32.85,  # 1 NAT gateway (dev: single_nat_gateway) x 0.045 x 730
        "load balancer": 16.43,  # 0.0225 x 730 = 16.425
        "control plane": 73.00,  # 0.10 x 730
    }
    assert e.total is None
    assert float(e.priced_total) == 684.16
    assert e.status == "incomplete: 1 item without a cited price"


def test_aws_prod_both_by_hand() -> None:
    e = monthly_estimate(load_catalog("aws"), "prod", "both")
    assert drivers(e) == {
        "nodes": 2207.52,  # 3 x r6i.4xlarge 1.008 x 730
        "database": None,
        "database standby": None,  # a second db.r6g.2xlarge
        "database storage": 50.00,  # 500 GB x 0.10
        "NAT": 98.55,  # 3 NAT gateways (one per zone) x 0.045 x 730
        "load balancer": 16.43,
        "control plane": 73.00,
    }
    assert float(e.priced_total) == 2445.50
    assert e.status == "incomplete: 2 items without a cited price"


def test_gcp_dev_models_by_hand() -> None:
    e = monthly_estimate(load_catalog("gcp"), "test", "models")
    assert drivers(e) == {
        # 7 x n2-highmem-2: 2 vCPU x 7 x 730 x 0.031611 = 323.06, 16 GB x 7 x 730 x 0.004237 = 346.42
        "nodes": 669.48,
        # db-n1-highmem-2 zonal: 2 x 730 x 0.0413 = 60.30, 13 GB x 730 x 0.0070 = 66.43
        "database": 126.73,
        "database storage": 17.00,  # 100 GB x 0.17 (zonal)
        "NAT": 10.80,  # 7 VMs x 730 x 0.0014 = 7.15, 1 IP x 730 x 0.005 = 3.65
        "load balancer": 18.25,  # 1 forwarding rule x 0.025 x 730
        "control plane": 73.00,
    }
    assert e.total is not None and float(e.total) == 915.26
    assert e.status == "complete"


def test_gcp_prod_weave_by_hand() -> None:
    e = monthly_estimate(load_catalog("gcp"), "prod", "weave")
    assert drivers(e) == {
        # 4 x n2-highmem-16: 16 x 4 x 730 x 0.031611 = 1476.87, 128 x 4 x 730 x 0.004237 = 1583.62
        "nodes": 3060.49,
        # db-n1-highmem-8 with standby (REGIONAL): 8 x 730 x 0.0826 = 482.38, 52 x 730 x 0.0140 = 531.44
        "database": 1013.82,
        "database storage": 170.00,  # 500 GB x 0.34 (regional)
        "NAT": 7.74,  # 4 x 730 x 0.0014 = 4.09, + 3.65
        "load balancer": 18.25,
        "control plane": 73.00,
    }
    assert float(e.total) == 4343.30


def test_azure_dev_models_by_hand() -> None:
    e = monthly_estimate(load_catalog("azure"), "dev", "models")
    assert drivers(e) == {
        "nodes": 643.86,  # 7 x Standard_E2_v5 0.126 x 730
        "system nodes": 140.16,  # 2 x Standard_D2s_v5 0.096 x 730
        "database": None,
        "database storage": None,
        "NAT": None,
        "load balancer": None,  # the WAF_v2 fixed price: conflicting sources
        "control plane": 0.00,  # AKS Free tier in dev
    }
    lb = next(d for d in e.drivers if d.name == "load balancer")
    assert float(lb.priced) == 105.12  # 1 min instance x 10 CU x 0.0144 x 730
    assert float(e.priced_total) == 889.14
    assert e.status == "incomplete: 4 items without a cited price"


def test_azure_prod_weave_by_hand() -> None:
    e = monthly_estimate(load_catalog("azure"), "prod", "weave")
    assert drivers(e) == {
        "nodes": 2207.52,  # 3 x Standard_E16_v5 1.008 x 730
        "system nodes": 420.48,  # 3 x Standard_D4s_v5 0.192 x 730
        "database": None,
        "database standby": None,
        "database storage": None,
        "NAT": None,
        "load balancer": None,
        "control plane": 73.00,  # AKS Standard tier in prod
    }
    # 2207.52 + 420.48 + 210.24 (2 x 10 CU x 0.0144 x 730) + 73.00
    assert float(e.priced_total) == 2911.24
    assert e.status == "incomplete: 5 items without a cited price"


# ---- the command ---------------------------------------------------------------------


def test_cost_table_says_no_cited_price_and_labels_partial_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["sizes", "--cost", "--cloud", "aws"], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["cloud", "env", "products", "driver", "what"]
    row = next(line for line in lines if line.startswith("aws    dev/test  models    database "))
    assert row.endswith("no cited price")
    total = next(line for line in lines if line.startswith("aws    prod      both      total"))
    assert "incomplete: 2 items without a cited price; excludes database, database standby" in total
    assert total.endswith("2,445.50 priced items only")
    assert "6 x r6i.large at the minimum node count" in out
    cloud_line = next(line for line in lines if line.startswith("aws prices:"))
    assert "catalogs/prices.yaml, as of 2026-08-22, us-east-1" in cloud_line
    assert "aws/karpenter-provider-aws@6fc13b52:pkg/providers/pricing/zz_generated.pricing_aws.go" in cloud_line
    detail = next(line for line in lines if line.startswith("aws: no cited price:"))
    assert "db.r6g.large, db.r6g.2xlarge" in detail
    assert "usage-based, excluded: nat data processed $0.045/GB" in detail


def test_cost_conflicting_price_is_not_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["sizes", "--cost", "--cloud", "azure"], capsys)
    assert code == 0
    assert "app_gateway_fixed (conflicting: 0.36 vs 0.443 USD/hour, none chosen)" in out
    assert "no cited price + 210.24 priced" in out
    assert "0.443" not in "".join(line for line in out.splitlines() if line.startswith("azure  "))


def test_cost_json_structure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["sizes", "--cost", "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"as_of", "hours_per_month", "price_files", "basis", "clouds", "cells"}
    assert (doc["as_of"], doc["hours_per_month"], doc["price_files"]) == ("2026-08-22", 730, ["catalogs/prices.yaml"])
    assert list(doc["clouds"]) == ["aws", "gcp", "azure"]
    assert len(doc["cells"]) == 18
    for cell in doc["cells"]:
        assert set(cell) == {
            "cloud", "env", "products", "region", "drivers", "total_usd", "priced_total_usd", "unpriced_items",
            "complete", "status", "no_cited_price_reason",
        }
        assert round(sum(d["priced_usd"] for d in cell["drivers"]), 2) == cell["priced_total_usd"]
        assert cell["complete"] == (cell["unpriced_items"] == 0) == (cell["total_usd"] is not None)
        for driver in cell["drivers"]:
            for part in driver["parts"]:
                if part["usd"] is None:
                    assert part["no_cited_price"].startswith("no cited price")
                else:
                    assert part["source"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", part["date"])
    gcp = next(c for c in doc["cells"] if (c["cloud"], c["env"], c["products"]) == ("gcp", "dev/test", "models"))
    assert (gcp["total_usd"], gcp["status"]) == (915.26, "complete")
    nodes = gcp["drivers"][0]
    assert [(p["item"], p["quantity"], p["usd"], p["monthly_usd"]) for p in nodes["parts"]] == [
        ("n2_vcpu", 10220, 0.031611, 323.06),
        ("n2_memory", 81760, 0.004237, 346.42),
    ]
    azure = doc["clouds"]["azure"]
    fixed = next(i for i in azure["no_cited_price"] if i["item"] == "app_gateway_fixed")
    assert fixed["conflicting_candidates"] == [0.36, 0.443]
    assert {i["item"] for i in doc["clouds"]["aws"]["no_cited_price"]} == {"db.r6g.large", "db.r6g.2xlarge"}
    assert doc["clouds"]["gcp"]["no_cited_price"] == []


def test_cost_markdown_and_cloud_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["sizes", "--cost", "--format", "markdown", "--cloud", "gcp"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "| cloud | env | products | driver | what | USD/month |"
    assert "| gcp | dev/test | models | total | complete | 915.26 |" in out
    assert "- gcp prices: catalogs/prices.yaml, as of 2026-08-22, us-central1, USD; sources: " in out
    assert "| aws |" not in out and "| azure |" not in out


def test_cost_output_is_deterministic_and_never_reads_the_clock(capsys: pytest.CaptureFixture[str]) -> None:
    first = run_cli(["sizes", "--cost"], capsys)
    second = run_cli(["sizes", "--cost"], capsys)
    assert first == second
    source = (REPO / "generator" / "cost.py").read_text()
    assert "today(" not in source and "now(" not in source and "time.time" not in source


def test_sizes_without_cost_is_the_plain_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["sizes"], capsys)
    assert code == 0
    assert "USD" not in out and "no cited price" not in out
    assert out.splitlines()[0].split()[:4] == ["cloud", "env", "products", "node"]


def test_summary_line_is_one_markdown_line() -> None:
    complete = monthly_estimate(load_catalog("gcp"), "dev", "models").summary_line()
    assert "\n" not in complete
    assert complete.startswith("**Estimated monthly cost: $915.26** (nodes $669.48, database $126.73,")
    assert "nodes at the minimum node count" in complete and "prices as of 2026-08-22" in complete
    partial = monthly_estimate(load_catalog("aws"), "prod", "both").summary_line()
    assert partial.startswith(
        "**Estimated monthly cost — incomplete: 2 items without a cited price** (database, database standby). "
        "Priced items only: $2,445.50 ("
    )


def test_another_region_gets_no_cited_price_not_the_wrong_regions() -> None:
    e = monthly_estimate(load_catalog("aws"), "dev", "models", region="eu-west-1")
    assert e.priced_total == 0 and e.total is None
    assert all(d.monthly is None for d in e.drivers)
    assert e.summary_line() == (
        "**Estimated monthly cost: no cited price** (prices are for us-east-1, not eu-west-1; "
        "catalogs/prices.yaml as of 2026-08-22)."
    )


# ---- the price catalog -----------------------------------------------------------------


def test_every_price_has_a_source_and_a_date() -> None:
    prices = load_prices().catalog
    assert prices.hours_per_month == 730
    assert set(prices.clouds) == {"aws", "gcp", "azure"}
    counted = 0
    for cloud, table in prices.clouds.items():
        for group in (table.instances, table.rates, table.usage_based):
            for name, price in group.items():
                if price.usd is None:
                    assert price.no_source, f"{cloud} {name}"
                    continue
                counted += 1
                assert price.source and price.date and price.date <= prices.as_of, f"{cloud} {name}"
                assert price.date_is and price.tier, f"{cloud} {name}"
                assert re.match(r"https://|[\w.-]+/[\w.-]+@[0-9a-f]{7,40}:", price.source)
        for name, fact in table.facts.items():
            assert fact.source and fact.date <= prices.as_of, f"{cloud} {name}"
    assert counted >= 30


def test_unpriced_items_are_recorded_explicitly() -> None:
    clouds = load_prices().catalog.clouds
    assert clouds["aws"].instances["db.r6g.large"].usd is None
    assert clouds["aws"].instances["db.r6g.2xlarge"].usd is None
    assert clouds["azure"].instances["MO_Standard_E2ds_v4"].usd is None
    assert clouds["azure"].instances["MO_Standard_E8ds_v4"].usd is None
    assert clouds["azure"].rates["nat_gateway"].usd is None
    fixed = clouds["azure"].rates["app_gateway_fixed"]
    assert fixed.usd is None and [c.usd for c in fixed.candidates] == [0.36, 0.443]


def _overlay(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "prices-overlay.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_loader_refuses_a_price_without_a_source(tmp_path: Path) -> None:
    unsourced = {"usd": 0.045, "unit": "hour", "date": "2024-07-01", "date_is": "commit", "tier": "B"}
    bad = _overlay(tmp_path, {"clouds": {"aws": {"rates": {"nat_gateway": unsourced}}}})
    wanted = r"clouds\.aws\.rates\.nat_gateway\.source: required but missing \(every price cites its source"
    with pytest.raises(CatalogError, match=wanted):
        load_prices((bad,))


def test_cli_refuses_a_price_without_a_source_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _overlay(tmp_path, {"clouds": {"gcp": {"rates": {"forwarding_rule": {"usd": 0.025, "unit": "hour"}}}}})
    code, out, err = run_cli(["sizes", "--cost", "--prices", bad], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"gen-tf: error: catalog {bad}: clouds.gcp.rates.forwarding_rule.source: required but missing "
        "(every price cites its source: a URL or owner/name@commit:path)\n"
    )


CITED = {"usd": 0.1, "unit": "hour", "source": "https://example.com/p", "date": "2024-07-01", "date_is": "commit", "tier": "B"}


@pytest.mark.parametrize(
    "item,message",
    [
        ({"unit": "hour"}, "has neither usd nor no_source"),
        ({**CITED, "source": "not a locator"}, "source: String should match pattern"),
        ({**CITED, "date": "2027-01-01"}, "date: 2027-01-01 is after as_of (2026-08-22)"),
        ({**CITED, "no_source": "x"}, "has a usd and no_source"),
        ({**CITED, "unit": "fortnight"}, "unit: must be"),
    ],
)
def test_loader_refuses_broken_prices(tmp_path: Path, item: dict, message: str) -> None:
    bad = _overlay(tmp_path, {"clouds": {"aws": {"rates": {"load_balancer": item}}}})
    with pytest.raises(CatalogError, match=re.escape(message)):
        load_prices((bad,))


def test_loader_requires_the_rates_the_model_reads(tmp_path: Path) -> None:
    data = yaml.safe_load(PRICES.read_text())
    del data["clouds"]["gcp"]["rates"]["nat_ip"]
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(data))
    from generator.cost import _load_prices

    with pytest.raises(CatalogError, match=r"clouds\.gcp\.rates\.nat_ip: required but missing"):
        _load_prices((("prices.yaml", path.read_text()),))


def test_an_overlay_with_a_cited_price_completes_a_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An overlay's cited price replaces a no_source record whole (the numbers here are test data)."""
    cited = {**CITED, "usd": 1.5, "source": "https://example.com/aurora", "date": "2026-08-01"}
    overlay = _overlay(tmp_path, {"clouds": {"aws": {"instances": {"db.r6g.large": cited}}}})
    e = monthly_estimate(load_catalog("aws"), "dev", "models", load_prices((overlay,)))
    assert drivers(e)["database"] == 1095.00  # 1.5 x 730
    assert float(e.total) == 1779.16  # 684.16 + 1095.00
    code, out, _ = run_cli(["sizes", "--cost", "--cloud", "aws", "--prices", overlay], capsys)
    assert code == 0
    assert f"aws prices: catalogs/prices.yaml + {overlay}, as of 2026-08-22" in out
    assert re.search(r"^aws +dev/test +models +total +complete +1,779\.16$", out, re.M)


def test_prices_needs_cost(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["sizes", "--prices", "x.yaml"], capsys)
    assert (code, out) == (2, "")
    assert err == "gen-tf: error: --prices: needs --cost (it overlays the prices the estimate reads)\n"


def test_prices_as_of_is_a_date_not_today() -> None:
    assert load_prices().catalog.as_of == datetime.date(2026, 8, 22)
