#!/usr/bin/env python3
"""Renders a kustomization of deploy/k8s without kubectl: the subset of Kustomize those files use.

    scripts/render_manifests.py deploy/k8s/overlays/production > production.yaml
    scripts/render_manifests.py --write-endpoints   # after editing endpoints.yml: its ConfigMap copy

`kubectl kustomize DIR` gives the same objects; this exists so `make test` can validate them on
a machine without kubectl (tests/unit/test_k8s_manifests.py). Supported: `resources` (YAML files
and directories with a kustomization), `namespace`, `images` (name, newName, newTag), `replicas`
and `patches` as JSON 6902 operation lists (add, replace, remove; inline `patch` or `path`) with
a `target` of kind and name. Anything else is refused, so the manifests cannot come to rely on
a feature rendered here differently from Kustomize.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS_CONFIG_MAP = ROOT / "deploy" / "k8s" / "base" / "endpoints.yaml"
LOCAL_ACTION_URL = "http://127.0.0.1:5055/webhook"  # as endpoints.yml names it for `make run`
CLUSTER_ACTION_URL = "http://assistant-actions:5055/webhook"  # the action server's Service
SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "IngressClass",
                        "PriorityClass", "CustomResourceDefinition", "PersistentVolume"}


class UnsupportedKustomization(ValueError):
    """The kustomization uses a feature outside the subset rendered here."""


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects the kustomization in `directory` produces, in resource order."""
    directory = Path(directory)
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text()) or {}
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedKustomization(f"{directory}: not rendered here: {', '.join(sorted(unknown))}")
    objects: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if path.is_dir():
            objects += render(path)
        else:
            objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for patch in kustomization.get("patches", []):
        apply_patch(objects, patch, directory)
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED_KINDS:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        set_image(objects, image)
    for replicas in kustomization.get("replicas", []):
        set_replicas(objects, replicas)
    return objects


def apply_patch(objects: list[dict[str, Any]], patch: dict[str, Any], directory: Path) -> None:
    if set(patch) - {"target", "patch", "path"} or set(patch.get("target") or {"none"}) - {"kind", "name"}:
        raise UnsupportedKustomization(f"{directory}: a patch needs only a target (kind, name) and patch or path")
    operations = yaml.safe_load(patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text())
    if not isinstance(operations, list):
        raise UnsupportedKustomization(f"{directory}: only JSON 6902 patches (a list of operations) are rendered here")
    target = patch["target"]
    targets = [obj for obj in objects if obj["kind"] == target.get("kind", obj["kind"])
               and obj["metadata"]["name"] == target.get("name", obj["metadata"]["name"])]
    if not targets:
        raise UnsupportedKustomization(f"{directory}: no object matches the patch target {patch['target']}")
    for obj in targets:
        for operation in operations:
            apply_operation(obj, operation)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise UnsupportedKustomization(f"not a JSON pointer: {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def apply_operation(obj: dict[str, Any], operation: dict[str, Any]) -> None:
    """One JSON 6902 operation (RFC 6902: add, replace, remove) on `obj`, in place."""
    op, *parents_and_last = operation["op"], *_pointer(operation["path"])
    *parents, last = parents_and_last
    if op not in {"add", "replace", "remove"}:
        raise UnsupportedKustomization(f"JSON patch operation {op!r} is not rendered here")
    node: Any = obj
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        index = len(node) if (op == "add" and last == "-") else int(last)
        if op == "add":
            node.insert(index, copy.deepcopy(operation["value"]))
        elif op == "replace":
            node[index] = copy.deepcopy(operation["value"])
        else:
            del node[index]
        return
    if op in {"replace", "remove"} and last not in node:
        raise UnsupportedKustomization(f"{op} of a missing member: {operation['path']}")
    if op == "remove":
        del node[last]
    else:
        node[last] = copy.deepcopy(operation["value"])


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod specs inside a workload object (none for other kinds)."""
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    return [template["spec"]] if isinstance(template, dict) and "spec" in template else []


def set_image(objects: list[dict[str, Any]], image: dict[str, Any]) -> None:
    if set(image) - {"name", "newName", "newTag"}:
        raise UnsupportedKustomization(f"images: only name, newName and newTag are rendered here ({image})")
    for obj in objects:
        for pod in pod_specs(obj):
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"


def set_replicas(objects: list[dict[str, Any]], replicas: dict[str, Any]) -> None:
    matched = [obj for obj in objects if obj["kind"] in {"Deployment", "StatefulSet", "ReplicaSet"}
               and obj["metadata"]["name"] == replicas["name"]]
    if not matched:
        raise UnsupportedKustomization(f"replicas: no workload named {replicas['name']}")
    for obj in matched:
        obj["spec"]["replicas"] = int(replicas["count"])


def endpoints_config_map(endpoints_yml: str) -> str:
    """The ConfigMap `assistant-endpoints`: the project's endpoints.yml with the action server at its Service."""
    if LOCAL_ACTION_URL not in endpoints_yml:
        raise ValueError(f"endpoints.yml no longer names {LOCAL_ACTION_URL}: update scripts/render_manifests.py")
    body = endpoints_yml.replace(LOCAL_ACTION_URL, CLUSTER_ACTION_URL)
    indented = "".join(f"    {line}" if line.strip() else "\n" for line in body.splitlines(keepends=True))
    return f"""# Generated from endpoints.yml by `scripts/render_manifests.py --write-endpoints` (a test fails
# when it is stale): the project's file with the action server at its Service.
apiVersion: v1
kind: ConfigMap
metadata:
  name: assistant-endpoints
  labels:
    app.kubernetes.io/name: icp-assistant
data:
  endpoints.yml: |
{indented}"""


class _BlockStrings(yaml.SafeDumper):
    """Multi-line strings (endpoints.yml in its ConfigMap) as `|` blocks, as they are written."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_BlockStrings.add_representer(str, _string)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="render a deploy/k8s kustomization (the subset it uses)")
    parser.add_argument("directory", type=Path, nargs="?", help="e.g. deploy/k8s/overlays/production")
    parser.add_argument("--write-endpoints", action="store_true", help=f"regenerate {ENDPOINTS_CONFIG_MAP.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.write_endpoints:
        ENDPOINTS_CONFIG_MAP.write_text(endpoints_config_map((ROOT / "endpoints.yml").read_text()))
        return
    if args.directory is None:
        parser.error("name a kustomization directory (or --write-endpoints)")
    yaml.dump_all(render(args.directory), sys.stdout, Dumper=_BlockStrings, sort_keys=False, allow_unicode=True)


if __name__ == "__main__":
    main()
