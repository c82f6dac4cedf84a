"""The upstream files docs/app-layer.md cites, recorded so the tests need no network or mirror.

docs/app-layer.md cites files of wandb/helm-charts and wandb/operator at fixed revisions, and
of awsdocs/amazon-eks-user-guide. ``tests/upstream/cited.json`` records, for each cited path,
the Git blob it has at that revision (and, for the chart, the version Chart.yaml declares).
tests/test_app_layer_doc.py checks the document against this record on every run; this tool
writes and re-checks the record against local Git mirrors of the three repositories:

    python tools/upstream.py --mirrors /work/.mirror          # check the record (exit 1 on a difference)
    python tools/upstream.py --mirrors /work/.mirror --write  # rewrite it after the document changed

A mirror is a bare Git directory ``<mirrors>/<owner>+<name>/repo``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "app-layer.md"
RECORD = REPO / "tests" / "upstream" / "cited.json"
CHART = "charts/operator-wandb/Chart.yaml"

# Which repository a cited path belongs to, by its first segment.
PREFIXES = {"charts/": "wandb/helm-charts", "pkg/": "wandb/operator", "latest/ug/": "awsdocs/amazon-eks-user-guide"}


def cited(text: str) -> dict[str, list[str]]:
    """The upstream paths the document cites (in backticks), by repository."""
    ticks = re.findall(r"`([^`\n]+)`", text)
    found: dict[str, set[str]] = {repo: set() for repo in PREFIXES.values()}
    for tick in ticks:
        if re.fullmatch(r"[\w./-]+\.(yaml|tpl|go|adoc)", tick) and "/" in tick:
            for prefix, repo in PREFIXES.items():
                if tick.startswith(prefix):
                    found[repo].add(tick)
    return {repo: sorted(paths) for repo, paths in found.items()}


def revisions(text: str) -> dict[str, str]:
    """The revision the document names for each repository."""
    (helm,) = set(re.findall(r"wandb/helm-charts at commit `([0-9a-f]{40})`", text))
    (operator,) = set(re.findall(r"wandb/operator at\s+`(v[0-9.]+)`", text))
    return {"wandb/helm-charts": helm, "wandb/operator": operator, "awsdocs/amazon-eks-user-guide": "HEAD"}


def _git(mirror: Path, *args: str) -> str:
    done = subprocess.run(["git", f"--git-dir={mirror}", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise LookupError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout.strip()


def build(mirrors: Path) -> dict[str, object]:
    """The record, read from the mirrors."""
    text = DOC.read_text(encoding="utf-8")
    record: dict[str, object] = {}
    for repo, paths in cited(text).items():
        mirror = mirrors / repo.replace("/", "+") / "repo"
        rev = revisions(text)[repo]
        commit = _git(mirror, "rev-parse", f"{rev}^{{commit}}")
        files = {}
        for path in paths:
            try:
                files[path] = _git(mirror, "rev-parse", f"{commit}:{path}")
            except LookupError:
                files[path] = None  # cited but absent: the check below reports it
        entry: dict[str, object] = {"revision": rev, "commit": commit, "files": files}
        if repo == "wandb/helm-charts":
            chart = _git(mirror, "show", f"{commit}:{CHART}")
            entry["chart_version"] = re.search(r"^version:\s*(\S+)", chart, re.M).group(1)  # type: ignore[union-attr]
        record[repo] = entry
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/upstream.py", description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder of <owner>+<name>/repo Git mirrors")
    parser.add_argument("--write", action="store_true", help="rewrite tests/upstream/cited.json")
    args = parser.parse_args(argv)
    try:
        record = build(args.mirrors)
    except LookupError as exc:
        print(f"upstream: {exc}", file=sys.stderr)
        return 2
    absent = [f"{repo}: {path}" for repo, entry in record.items() for path, blob in entry["files"].items() if blob is None]  # type: ignore[union-attr]
    if absent:
        print("upstream: cited but not found upstream: " + "; ".join(absent), file=sys.stderr)
        return 1
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    if args.write:
        RECORD.write_text(text, encoding="utf-8")
        print(f"wrote {RECORD.relative_to(REPO)} ({sum(len(e['files']) for e in record.values())} files)")  # type: ignore[arg-type]
        return 0
    if not RECORD.exists() or RECORD.read_text(encoding="utf-8") != text:
        print(f"upstream: {RECORD.relative_to(REPO)} differs from the mirrors; rerun with --write and review the diff", file=sys.stderr)
        return 1
    print(f"{RECORD.relative_to(REPO)} matches the mirrors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
