"""A small EKS endpoint in front of moto that fills the gaps of moto 5.x's EKS emulation.

Real EKS does four things moto does not:

1. It creates a *cluster security group* with every cluster and reports it as
   ``resourcesVpcConfig.clusterSecurityGroupId``. moto leaves it out, so the module's
   ``aws_vpc_security_group_ingress_rule.app_from_lb`` and
   ``aws_vpc_security_group_ingress_rule.metadata_from_cluster`` (which reference it)
   fail with ``InvalidGroup.NotFound: The security group '' does not exist``.
2. It has the add-on API (``/clusters/{name}/addons``). moto answers 404 with an HTML
   page, so ``aws_eks_addon.ebs_csi`` fails with ``CreateAddon ... StatusCode: 404``.
3. It describes a cluster with the ``accessConfig`` and ``upgradePolicy`` it was created
   with. moto drops both, so every plan after the apply replaces ``aws_eks_cluster.this``
   (``access_config`` forces a new cluster) and updates its ``upgrade_policy``.
4. It describes a node group with the ``updateConfig`` it was created with, and one
   created without ``remoteAccess`` (the module's: it uses a launch template) without one.
   moto drops the first and invents ``{"ec2SshKey": "eksKeypair"}`` and a remote access
   security group for the second, so every plan after the apply replaces
   ``aws_eks_node_group.this`` (``remote_access`` forces a new group) and updates its
   ``update_config``, which would hide what a day-2 change does to the group.

This proxy forwards every request to moto unchanged, except that it creates the cluster
security group in moto's EC2 (in the cluster's VPC) when a cluster is created, adds its
id to every cluster description, deletes it with the cluster, and keeps add-ons itself
(created ACTIVE, as a real add-on becomes once its pods run); it puts the cluster's own
``accessConfig`` and ``upgradePolicy`` (as the create request gave them) back into its
descriptions, and a node group's own ``updateConfig``, and takes moto's invented remote
access out of node group descriptions.
Nothing else is invented. It listens on 127.0.0.1 only and runs in a thread of the test
process.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3

CLUSTERS = re.compile(r"^/clusters/?$")
CLUSTER = re.compile(r"^/clusters/(?P<cluster>[^/]+)$")
ADDONS = re.compile(r"^/clusters/(?P<cluster>[^/]+)/addons/?$")
ADDON = re.compile(r"^/clusters/(?P<cluster>[^/]+)/addons/(?P<addon>[^/]+)$")
NODEGROUPS = re.compile(r"^/clusters/(?P<cluster>[^/]+)/node-groups/?$")
NODEGROUP = re.compile(r"^/clusters/(?P<cluster>[^/]+)/node-groups/(?P<nodegroup>[^/]+)$")
TAGS = re.compile(r"^/tags/(?P<arn>.+)$")
# Settings moto accepts on create but leaves out of every description.
KEPT_CLUSTER_FIELDS = ("accessConfig", "upgradePolicy")
KEPT_NODEGROUP_FIELDS = ("updateConfig",)
ADDON_VERSION = "v1.40.0-eksbuild.1"
# (HTTP status, headers, body)
Reply = tuple[int, dict[str, str], bytes]


class EksGapProxy:
    """Start with ``start()``; ``url`` is the endpoint to give the provider; ``stop()`` ends it."""

    def __init__(self, upstream: str, region: str, account_id: str = "123456789012") -> None:
        self.upstream = urlsplit(upstream)
        self.region = region
        self.account_id = account_id
        self.addons: dict[tuple[str, str], dict[str, Any]] = {}
        self.cluster_sgs: dict[str, dict[str, str]] = {}
        # cluster name -> the KEPT_CLUSTER_FIELDS its create request carried
        self.cluster_fields: dict[str, dict[str, Any]] = {}
        # (cluster, node group) -> the KEPT_NODEGROUP_FIELDS its create request carried
        self.nodegroup_fields: dict[tuple[str, str], dict[str, Any]] = {}
        # (cluster, node group) created without remoteAccess
        self.no_remote_access: set[tuple[str, str]] = set()
        self.requests: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._ec2 = boto3.client(
            "ec2",
            endpoint_url=upstream,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = proxy.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="eks-gap-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "EksGapProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # ---- request handling ----------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        path = urlsplit(raw_path).path
        self.requests.append((method, path))
        with self._lock:
            if match := ADDONS.match(path):
                if method == "POST":
                    return self._create_addon(match["cluster"], json.loads(body or b"{}"))
                if method == "GET":
                    names = sorted(a for (c, a) in self.addons if c == match["cluster"])
                    return _json(200, {"addons": names})
            if match := ADDON.match(path):
                key = (match["cluster"], match["addon"])
                if key not in self.addons:
                    return _error(404, "ResourceNotFoundException", f"No addon: {key[1]} found in cluster: {key[0]}")
                if method == "GET":
                    return _json(200, {"addon": self.addons[key]})
                if method == "DELETE":
                    return _json(200, {"addon": dict(self.addons.pop(key), status="DELETING")})
            if (match := TAGS.match(path)) and ":addon/" in unquote(match["arn"]):
                return self._addon_tags(method, unquote(match["arn"]), raw_path, body)

        status, resp_headers, payload = self._forward(method, raw_path, headers, body)
        if status < 300 and (CLUSTERS.match(path) or CLUSTER.match(path)):
            payload = self._with_cluster_fields(method, path, body, payload)
            payload = self._with_cluster_sg(method, path, payload)
        if status < 300 and (NODEGROUPS.match(path) or NODEGROUP.match(path)):
            payload = self._fix_nodegroup(method, path, body, payload)
        return status, resp_headers, payload

    def _forward(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in ("connection", "content-length")}
            conn.request(method, raw_path, body=body or None, headers=sent)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    # ---- what moto drops from a cluster, invents for a node group -------------

    def _with_cluster_fields(self, method: str, path: str, request: bytes, payload: bytes) -> bytes:
        doc = json.loads(payload or b"{}")
        cluster = doc.get("cluster")
        if not isinstance(cluster, dict):
            return payload
        name = cluster["name"]
        with self._lock:
            if method == "POST" and CLUSTERS.match(path):
                sent = json.loads(request or b"{}")
                self.cluster_fields[name] = {k: sent[k] for k in KEPT_CLUSTER_FIELDS if k in sent}
            kept = self.cluster_fields.pop(name, {}) if method == "DELETE" else self.cluster_fields.get(name, {})
        for key, value in kept.items():
            if not cluster.get(key):
                cluster[key] = value
        return json.dumps(doc).encode()

    def _fix_nodegroup(self, method: str, path: str, request: bytes, payload: bytes) -> bytes:
        doc = json.loads(payload or b"{}")
        group = doc.get("nodegroup")
        if not isinstance(group, dict):
            return payload
        key = (group.get("clusterName", ""), group.get("nodegroupName", ""))
        with self._lock:
            if method == "POST" and NODEGROUPS.match(path):
                sent = json.loads(request or b"{}")
                self.nodegroup_fields[key] = {k: sent[k] for k in KEPT_NODEGROUP_FIELDS if k in sent}
                if "remoteAccess" not in sent:
                    self.no_remote_access.add(key)
            kept = self.nodegroup_fields.get(key, {})
            invented = key in self.no_remote_access
            if method == "DELETE":
                self.nodegroup_fields.pop(key, None)
                self.no_remote_access.discard(key)
        for field, value in kept.items():
            if not group.get(field):
                group[field] = value
        if invented:
            group.pop("remoteAccess", None)
            (group.get("resources") or {}).pop("remoteAccessSecurityGroup", None)
        return json.dumps(doc).encode()

    # ---- the cluster security group -----------------------------------------

    def _with_cluster_sg(self, method: str, path: str, payload: bytes) -> bytes:
        doc = json.loads(payload or b"{}")
        cluster = doc.get("cluster")
        if not isinstance(cluster, dict):
            return payload
        name = cluster["name"]
        vpc_config = cluster.setdefault("resourcesVpcConfig", {})
        if method == "POST" and CLUSTERS.match(path):
            try:
                self.cluster_sgs[name] = self._create_cluster_sg(name, vpc_config["subnetIds"][0])
            except Exception as exc:  # reported by the test
                self.errors.append(f"creating the cluster security group of {name}: {exc}")
        added = self.cluster_sgs.get(name)
        if method == "DELETE":
            added = self.cluster_sgs.pop(name, None)
            if added:
                try:
                    self._ec2.delete_security_group(GroupId=added["clusterSecurityGroupId"])
                except Exception as exc:  # reported by the test, which also checks nothing is left
                    self.errors.append(f"deleting the cluster security group of {name}: {exc}")
        vpc_config.update(added or {})
        return json.dumps(doc).encode()

    def _create_cluster_sg(self, name: str, subnet_id: str) -> dict[str, str]:
        vpc_id = self._ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"]
        group = self._ec2.create_security_group(
            GroupName=f"eks-cluster-sg-{name}-{uuid.uuid4().hex[:10]}",
            Description=(
                "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes,"
                " as well as any managed workloads."
            ),
            VpcId=vpc_id,
            TagSpecifications=[
                {"ResourceType": "security-group", "Tags": [{"Key": f"kubernetes.io/cluster/{name}", "Value": "owned"}]}
            ],
        )
        return {"clusterSecurityGroupId": group["GroupId"], "vpcId": vpc_id}

    # ---- add-ons ---------------------------------------------------------------

    def _create_addon(self, cluster: str, req: dict[str, Any]) -> Reply:
        name = req["addonName"]
        if (cluster, name) in self.addons:
            return _error(409, "ResourceInUseException", f"Addon {name} already exists")
        now = datetime.now(timezone.utc).timestamp()
        addon = {
            "addonName": name,
            "clusterName": cluster,
            "status": "ACTIVE",
            "addonVersion": req.get("addonVersion") or ADDON_VERSION,
            "health": {"issues": []},
            "addonArn": f"arn:aws:eks:{self.region}:{self.account_id}:addon/{cluster}/{name}/{uuid.uuid4()}",
            "createdAt": now,
            "modifiedAt": now,
            "tags": req.get("tags") or {},
        }
        for field in ("serviceAccountRoleArn", "configurationValues"):
            if req.get(field):
                addon[field] = req[field]
        self.addons[(cluster, name)] = addon
        return _json(200, {"addon": addon})

    def _addon_tags(self, method: str, arn: str, raw_path: str, body: bytes) -> Reply:
        addon = next((a for a in self.addons.values() if a["addonArn"] == arn), None)
        if addon is None:
            return _error(404, "ResourceNotFoundException", f"No resource {arn}")
        if method == "GET":
            return _json(200, {"tags": addon["tags"]})
        if method == "POST":
            addon["tags"].update(json.loads(body or b"{}").get("tags", {}))
        if method == "DELETE":
            for key in re.findall(r"tagKeys=([^&]+)", raw_path):
                addon["tags"].pop(unquote(key), None)
        return _json(200, {})


def _json(status: int, doc: dict[str, Any]) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(doc).encode()


def _error(status: int, kind: str, message: str) -> Reply:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": kind}
    return status, headers, json.dumps({"message": message}).encode()
