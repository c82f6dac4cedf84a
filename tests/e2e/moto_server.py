"""Run moto's server with two bug fixes: ``python tests/e2e/moto_server.py -H 127.0.0.1 -p PORT``.

1. moto (5.2.x) answers PutBucketLogging with HTTP 500 when the *target* bucket's policy has
a statement whose ``Principal`` is the string ``"*"`` (valid IAM, and what
``aws_iam_policy_document`` writes for ``principals { type = "*" identifiers = ["*"] }``):
``FakeBucket._log_permissions_enabled_policy`` calls ``.get("Service")`` on the string.
The provider retries 500s, so ``aws_s3_bucket_logging.artifacts`` (prod) hangs until its
timeout. The fix hands moto's own check the policy without the statements it cannot
parse: a ``"*"`` principal is never the logging service, so the outcome of the check
(does the policy let logging.s3.amazonaws.com PutObject under the prefix?) is unchanged.

2. moto's CreateLaunchTemplate copies the request's own ``TagSpecifications`` (the tags of
the launch template itself, ``ResourceType: launch-template``; the provider sends its
default tags there) into the template *data*, where AWS does not put them and refuses
that resource type. Every plan after the apply then updates ``aws_launch_template.nodes``
(a tag specification the configuration does not have), which makes a new template
version and rolls ``aws_eks_node_group.this``. The fix drops ``launch-template`` entries
from the data before moto stores it; the template's own tags are kept as moto keeps them.

Everything else is moto's stock ``moto_server``; the test runs this file as a child
process and stops it by PID.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any

from moto import server
from moto.ec2.models.launch_templates import LaunchTemplateBackend
from moto.s3.models import FakeBucket

_original_check = FakeBucket._log_permissions_enabled_policy


def _statements_moto_can_read(policy: bytes) -> bytes:
    doc = json.loads(policy.decode())
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    doc["Statement"] = [s for s in statements if isinstance(s.get("Principal", {}), dict)]
    return json.dumps(doc).encode()


def _log_permissions_enabled_policy(target_bucket: Any, target_prefix: str | None) -> bool:
    if not target_bucket.policy:
        return False
    readable = SimpleNamespace(
        policy=_statements_moto_can_read(target_bucket.policy),
        partition=target_bucket.partition,
        name=target_bucket.name,
    )
    return _original_check(readable, target_prefix)


FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions_enabled_policy)

_original_create_launch_template = LaunchTemplateBackend.create_launch_template


def _create_launch_template(
    self: Any, name: str, description: str, template_data: dict[str, Any], tag_spec: dict[str, Any]
) -> Any:
    specs = template_data.get("TagSpecifications")
    if specs:
        template_data["TagSpecifications"] = [s for s in specs if s.get("ResourceType") != "launch-template"]
    return _original_create_launch_template(self, name, description, template_data, tag_spec)


LaunchTemplateBackend.create_launch_template = _create_launch_template  # type: ignore[method-assign]

if __name__ == "__main__":
    server.main(sys.argv[1:])
