"""The Kubernetes manifests (deploy/k8s): every overlay renders, validates against Kubernetes'
own schemas (kubernetes-validate, offline) and keeps the invariants a deployment relies on;
their configuration is the one `make run` reads (bot/settings.py's catalogue)."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.bootstrap import Container
from bot.channels.admission import admission_settings
from bot.channels.callback import claim_lease_seconds
from bot.channels.settings import passive_reply_seconds, wechat_settings, wecom_settings
from bot.channels.turn_guard import guard_settings
from bot.settings import CONFIG_VARIABLES, LOCAL_VARIABLES, SECRET_VARIABLES, Settings
from scripts.k8s_secret import SecretInputError, secret_manifest
from scripts.render_manifests import (
    ENDPOINTS_CONFIG_MAP,
    LOCAL_ACTION_URL,
    UnsupportedKustomization,
    endpoints_config_map,
    pod_specs,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir())
# kubernetes-validate 1.28.3 bundles schemas up to 1.28: its later releases need `referencing`,
# which needs attrs >= 22.2, and Rasa 3.6 pins attrs 22.1.0. The kinds used here (apps/v1,
# batch/v1, autoscaling/v2, policy/v1, networking.k8s.io/v1) are unchanged since.
KUBERNETES_VERSION = "1.28.0"
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
EXAMPLE_STORES = {
    "FILING_DB_URL": "postgresql://assistant:pw@10.0.0.10:5432/filing",
    "TRACKER_STORE_URL": "postgresql://assistant:pw@10.0.0.10:5432/tracker",
    "CHANNEL_STORE_URL": "redis://:pw@10.0.0.20:6379/0",
    "LOCK_STORE_URL": "redis://:pw@10.0.0.20:6379/1",
    "EVENT_BROKER_URL": "postgresql://assistant:pw@10.0.0.10:5432/events",
}


def objects_of(overlay: str) -> list[dict[str, Any]]:
    return render(K8S / "overlays" / overlay)


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    return found


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [container for pod in pod_specs(obj) for container in pod["containers"]]


def secret_template() -> dict[str, Any]:
    return yaml.safe_load((K8S / "secret.template.yaml").read_text())


def base_config() -> dict[str, str]:
    return one(render(K8S / "base"), "ConfigMap", "assistant-config")["data"]


def variables_the_code_reads() -> set[str]:
    """Every string constant in bot/ and actions/ that looks like an environment variable's name."""
    names = set()
    for package in ("bot", "actions"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.match(node.value):
                    names.add(node.value)
    return names


# -- the schemas ----------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates_against_the_kubernetes_schemas(overlay):
    objects = objects_of(overlay)
    assert {obj["kind"] for obj in objects} >= {
        "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
        "Ingress", "Job", "CronJob", "NetworkPolicy",
    }
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)  # raises with the reason


def test_the_secret_template_and_a_generated_secret_validate():
    kubernetes_validate.validate(secret_template(), KUBERNETES_VERSION, strict=True)
    kubernetes_validate.validate(secret_manifest(EXAMPLE_STORES), KUBERNETES_VERSION, strict=True)


def test_a_manifest_kubernetes_would_refuse_fails_validation():
    # The check has teeth: a typo'd field and a wrong type are refused offline.
    deployment = one(objects_of("production"), "Deployment", "assistant-console")
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_has_its_namespace_and_a_registry_image(overlay):
    objects = objects_of(overlay)
    assert len({obj["metadata"]["namespace"] for obj in objects}) == 1
    images = {container["image"] for obj in objects for container in containers(obj)}
    assert len(images) == 1 and images.pop().count(":") == 1  # one image, with its tag, for every process


# -- one configuration source ----------------------------------------------------------------------

def test_the_catalogue_names_every_variable_the_code_reads_and_nothing_else():
    catalogue = set(SECRET_VARIABLES) | set(CONFIG_VARIABLES) | set(LOCAL_VARIABLES)
    assert len(catalogue) == len(SECRET_VARIABLES) + len(CONFIG_VARIABLES) + len(LOCAL_VARIABLES)  # disjoint
    read = variables_the_code_reads()
    assert read - catalogue == set(), "add these to bot/settings.py (and to deploy/k8s when deployed)"
    assert catalogue - read == set(), "no longer read: remove them from the catalogue"


def test_the_config_map_holds_exactly_the_configuration_variables():
    assert set(base_config()) == set(CONFIG_VARIABLES)


def test_the_secret_template_holds_exactly_the_secret_variables_and_no_values():
    template = secret_template()
    assert list(template["stringData"]) == list(SECRET_VARIABLES)
    assert set(template["stringData"].values()) == {""}


def test_the_config_map_values_parse_as_the_processes_parse_them():
    env = {**base_config(), **EXAMPLE_STORES, "RASA_API_TOKEN": "t", "ACTION_SERVER_TOKEN": "t"}
    settings = Settings.from_env(env)
    settings.lock_lease_seconds(), settings.retention_days(), settings.handoff_timeout(), settings.analytics_poll_seconds()
    assert settings.event_broker_queue == "rasa_analytics_events"
    assert settings.console().port == 5080 and settings.action_server().port == 5055
    assert settings.sanic_workers == "1" and settings.rasa_server_url == "http://assistant-rasa:5005"
    Container(settings).working_hours  # noqa: B018 -- parses the hours and the calendar
    passive_reply_seconds(env), claim_lease_seconds(env), admission_settings(env), guard_settings(env)
    assert wechat_settings(env) is None and wecom_settings(env) is None  # the channels are off until set
    with_wechat = {**env, "WECHAT_TOKEN": "token", "WECHAT_APP_ID": "wx0000000000000000"}
    assert wechat_settings(with_wechat).api_base == "https://api.weixin.qq.com"


def test_the_endpoints_config_map_is_the_projects_with_the_action_service():
    # Stale after an edit of endpoints.yml: run `scripts/render_manifests.py --write-endpoints`.
    assert ENDPOINTS_CONFIG_MAP.read_text() == endpoints_config_map((ROOT / "endpoints.yml").read_text())
    endpoints = one(render(K8S / "base"), "ConfigMap", "assistant-endpoints")["data"]["endpoints.yml"]
    actions = one(render(K8S / "base"), "Service", "assistant-actions")
    url = f"http://{actions['metadata']['name']}:{actions['spec']['ports'][0]['port']}/webhook"
    assert endpoints == (ROOT / "endpoints.yml").read_text().replace(LOCAL_ACTION_URL, url)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ports_of_the_configuration_are_the_ports_of_the_pods_and_services(overlay):
    objects, config = objects_of(overlay), base_config()
    [actions] = containers(one(objects, "Deployment", "assistant-actions"))
    [console] = containers(one(objects, "Deployment", "assistant-console"))
    [rasa] = containers(one(objects, "Deployment", "assistant-rasa"))
    assert actions["ports"][0]["containerPort"] == int(config["ACTION_SERVER_PORT"])
    assert console["ports"][0]["containerPort"] == int(config["CONSOLE_PORT"])
    rasa_port = rasa["ports"][0]["containerPort"]
    assert rasa["args"][rasa["args"].index("--port") + 1] == str(rasa_port)
    service = one(objects, "Service", "assistant-rasa")
    assert config["RASA_SERVER_URL"] == f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"


# -- secrets ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_reference_names_a_key_of_the_secret_template_and_every_key_is_used(overlay):
    keys, used = set(secret_template()["stringData"]), set()
    for obj in objects_of(overlay):
        for container in containers(obj):
            assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == ["assistant-config"]
            for variable in container.get("env", []):
                ref = variable["valueFrom"]["secretKeyRef"]  # no literal values: configuration is the ConfigMap's
                assert ref["name"] == "assistant-secrets" and ref["key"] in keys and ref["key"] == variable["name"]
                used.add(ref["key"])
    assert used == keys


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_process_falls_back_to_a_sqlite_file_of_its_own_pod(overlay):
    # Unset, each URL means a SQLite file under var/: in a pod, a database nobody else sees.
    for obj in objects_of(overlay):
        for container in containers(obj):
            names = [variable["name"] for variable in container.get("env", [])]
            assert len(names) == len(set(names)), f"{obj['metadata']['name']}: a variable given twice"
            given = set(names)
            if container["command"][2] == "bot.channels.courier":  # the one process without the filing database
                assert "CHANNEL_STORE_URL" in given and "WECHAT_APP_SECRET" in given
                continue
            assert "FILING_DB_URL" in given, obj["metadata"]["name"]  # every other process opens the filing database
            if "ports" in container:  # every server serves /metrics behind the token
                assert "METRICS_TOKEN" in given
            if container["name"] == "rasa":
                assert {"TRACKER_STORE_URL", "CHANNEL_STORE_URL", "LOCK_STORE_URL", "EVENT_BROKER_URL"} <= given
            if container["command"][2] == "bot.retention":
                assert "TRACKER_STORE_URL" in given
            if container["command"][2] == "bot.analytics.consume":
                assert "EVENT_BROKER_URL" in given


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_value_is_in_the_manifests(overlay):
    objects = objects_of(overlay)
    assert not [obj for obj in objects if obj["kind"] == "Secret"]
    config_values = set(base_config().values())
    assert not {value for value in config_values if "://" in value and "@" in value}  # no URL with credentials


def test_a_generated_secret_has_fresh_tokens_and_every_key():
    first, second = secret_manifest(EXAMPLE_STORES), secret_manifest(EXAMPLE_STORES)
    assert list(first["stringData"]) == list(SECRET_VARIABLES)
    for name in ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "WEBCHAT_SESSION_SECRET", "METRICS_TOKEN"):
        assert len(first["stringData"][name]) >= 32 and first["stringData"][name] != second["stringData"][name]
    assert first["stringData"]["LOCK_STORE_URL"] == EXAMPLE_STORES["LOCK_STORE_URL"]
    assert first["stringData"]["WECHAT_TOKEN"] == ""  # the channel stays off


def test_a_secret_may_turn_the_analytics_off_or_stream_to_rabbitmq():
    for broker in ("off", "amqp://assistant:pw@10.0.0.30:5672/assistant"):
        assert secret_manifest({**EXAMPLE_STORES, "EVENT_BROKER_URL": broker})["stringData"]["EVENT_BROKER_URL"] == broker


@pytest.mark.parametrize("name, value", [
    ("LOCK_STORE_URL", ""), ("LOCK_STORE_URL", "postgresql://x@db/locks"), ("EVENT_BROKER_URL", ""),
    ("EVENT_BROKER_URL", "sqlite:///var/events.db"), ("EVENT_BROKER_URL", "offline"),
    ("EVENT_BROKER_URL", EXAMPLE_STORES["TRACKER_STORE_URL"]),
    ("CHANNEL_STORE_URL", "sqlite:///var/channels.db"), ("TRACKER_STORE_URL", "sqlite:///var/tracker.db"),
])
def test_a_secret_with_a_store_the_replicas_would_not_share_is_refused(name, value):
    with pytest.raises(SecretInputError, match=name):
        secret_manifest({**EXAMPLE_STORES, name: value})


# -- the public entry ------------------------------------------------------------------------------

def nginx_public_paths() -> set[tuple[str, str]]:
    """(path, "exact" | "prefix") of every location deploy/nginx/assistant.conf proxies."""
    conf = (ROOT / "deploy" / "nginx" / "assistant.conf").read_text()
    paths = set()
    for exact, path, body in re.findall(r"location\s+(=\s+)?(\S+)\s*\{([^}]*)\}", conf):
        if "proxy_pass" in body:
            paths.add((path, "exact" if exact else "prefix"))
    return paths


def ingress_paths(ingress: dict[str, Any]) -> set[tuple[str, str]]:
    """The same, from the Ingress: a Kubernetes Prefix /chat is nginx's `= /chat` plus `/chat/`."""
    paths = set()
    for rule in ingress["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            if entry["pathType"] == "Exact":
                paths.add((entry["path"], "exact"))
            else:
                assert entry["pathType"] == "Prefix", entry
                paths |= {(entry["path"], "exact"), (entry["path"].rstrip("/") + "/", "prefix")}
    return paths


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_exposes_only_the_public_paths_of_the_nginx_entry(overlay):
    objects = objects_of(overlay)
    [ingress] = [obj for obj in objects if obj["kind"] == "Ingress"]
    assert nginx_public_paths() == {("/webhooks/wechat/webhook", "exact"), ("/webhooks/wecom/webhook", "exact"),
                                    ("/chat", "exact"), ("/chat/", "prefix")}
    assert ingress_paths(ingress) == nginx_public_paths()
    assert "defaultBackend" not in ingress["spec"]
    rasa = one(objects, "Service", "assistant-rasa")
    for rule in ingress["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            assert entry["backend"]["service"] == {"name": "assistant-rasa", "port": {"name": rasa["spec"]["ports"][0]["name"]}}
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "64k"


# -- availability ----------------------------------------------------------------------------------

def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
    return spec["template"]["metadata"]["labels"]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_disruption_budget_covers_one_deployment_and_leaves_room_to_drain_a_node(overlay):
    objects = objects_of(overlay)
    deployments = [obj for obj in objects if obj["kind"] == "Deployment"]
    hpas = {obj["spec"]["scaleTargetRef"]["name"]: obj for obj in objects if obj["kind"] == "HorizontalPodAutoscaler"}
    budgets = [obj for obj in objects if obj["kind"] == "PodDisruptionBudget"]
    least = {d["metadata"]["name"]: hpas[d["metadata"]["name"]]["spec"]["minReplicas"] if d["metadata"]["name"] in hpas
             else d["spec"]["replicas"] for d in deployments}
    covered = set()
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        [deployment] = [d for d in deployments if matches(selector, pod_labels(d))]
        assert deployment["spec"]["selector"]["matchLabels"] == selector
        name = deployment["metadata"]["name"]
        assert budget["spec"]["minAvailable"] < least[name], f"{name}: a drain could never evict a pod"
        covered.add(name)
    # Every Deployment of several pods has a budget; a single pod (the analytics consumer, the
    # courier) has none, as a budget keeping it would block every node drain.
    assert covered == {name for name, count in least.items() if count > 1}
    assert least["assistant-analytics"] == 1 and least["assistant-courier"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployments_roll_with_no_unavailable_pod_and_probe_readiness(overlay):
    for deployment in [obj for obj in objects_of(overlay) if obj["kind"] == "Deployment"]:
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        assert deployment["spec"]["strategy"]["type"] == "RollingUpdate" and rolling["maxUnavailable"] == 0
        assert rolling["maxSurge"] >= 1
        for container in containers(deployment):
            if "ports" not in container:  # a worker that serves nothing (the analytics consumer, the courier)
                assert "readinessProbe" not in container and deployment["spec"]["replicas"] == 1
                continue
            probe = container["readinessProbe"]["httpGet"]
            assert probe["port"] in {port["name"] for port in container["ports"]}
            assert container["livenessProbe"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rasa_is_ready_on_its_model_scaled_on_cpu_and_not_pinned_to_a_count(overlay):
    objects = objects_of(overlay)
    rasa = one(objects, "Deployment", "assistant-rasa")
    [container] = containers(rasa)
    # GET /webhooks/rest/ is 200 only once a model is loaded (bot/channels/rest.py, tested in
    # tests/integration/test_http_channels.py); Rasa's /status would need the API token.
    assert container["readinessProbe"]["httpGet"]["path"] == "/webhooks/rest/"
    assert container["startupProbe"]["httpGet"]["path"] == "/webhooks/rest/"
    assert "replicas" not in rasa["spec"]  # the autoscaler owns it
    hpa = one(objects, "HorizontalPodAutoscaler", "assistant-rasa")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "assistant-rasa"}
    assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 2  # replicas need the shared lock: it is always exercised
    assert container["resources"]["requests"]["cpu"]  # utilisation is relative to the request


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_has_only_our_variables_limits_and_no_privileges(overlay):
    for obj in objects_of(overlay):
        for pod in pod_specs(obj):
            # Service links would add e.g. ASSISTANT_CONSOLE_PORT=tcp://...; a Service named
            # `console` would even set CONSOLE_PORT, which the console parses as its port.
            assert pod["enableServiceLinks"] is False and pod["automountServiceAccountToken"] is False
            assert pod["securityContext"]["runAsNonRoot"] is True
            for container in pod["containers"]:
                assert set(container["resources"]) == {"requests", "limits"}
                assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_a_deployment_and_target_a_named_port(overlay):
    objects = objects_of(overlay)
    for service in [obj for obj in objects if obj["kind"] == "Service"]:
        [deployment] = [d for d in objects if d["kind"] == "Deployment" and matches(service["spec"]["selector"], pod_labels(d))]
        names = {port["name"] for container in containers(deployment) for port in container["ports"]}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= names


def test_the_migration_job_and_the_purge_run_the_projects_commands():
    objects = render(K8S / "base")
    [migrate] = containers(one(objects, "Job", "assistant-migrate"))
    [purge] = containers(one(objects, "CronJob", "assistant-purge"))
    assert migrate["command"] == ["python", "-m", "bot.migrations"]
    assert purge["command"] == ["python", "-m", "bot.retention", "purge"]


# -- the image -------------------------------------------------------------------------------------

def test_the_dockerfile_builds_from_the_lock_with_a_trained_model_as_the_pods_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.10-slim-bookworm", dockerfile, re.M)
    assert "COPY requirements/lock.txt /tmp/lock.txt" in dockerfile and "pip install --quiet -r /tmp/lock.txt" in dockerfile
    assert "RUN python scripts/train_if_needed.py" in dockerfile
    [uid] = re.findall(r"^USER (\d+)", dockerfile, re.M)
    for obj in render(K8S / "base"):
        for pod in pod_specs(obj):
            assert pod["securityContext"]["runAsUser"] == int(uid)


# -- the renderer ----------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_rendering_command_prints_the_objects_as_yaml(overlay):
    printed = subprocess.run([sys.executable, str(ROOT / "scripts" / "render_manifests.py"), str(K8S / "overlays" / overlay)],
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert list(yaml.safe_load_all(printed)) == objects_of(overlay)
    assert "endpoints.yml: |" in printed  # readable: the file as a block


def write_kustomization(directory: Path, body: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(body))
    return directory


def test_the_renderer_applies_json_patches_images_replicas_and_the_namespace(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "app.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "labels": {"a/b": "1"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "img"}]}}},
    }))
    write_kustomization(tmp_path / "base", {"resources": ["app.yaml"]})
    overlay = write_kustomization(tmp_path / "overlay", {
        "resources": ["../base"], "namespace": "ns",
        "images": [{"name": "img", "newName": "registry/img", "newTag": "v2"}],
        "replicas": [{"name": "app", "count": 4}],
        "patches": [{"target": {"kind": "Deployment", "name": "app"}, "patch": yaml.safe_dump([
            {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"},
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "d", "image": "img:v1"}},
        ])}],
    })
    [deployment] = render(overlay)
    assert deployment["metadata"] == {"name": "app", "labels": {"a/b": "2"}, "namespace": "ns"}
    assert deployment["spec"]["replicas"] == 4
    assert [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]] == ["registry/img:v2"] * 2


@pytest.mark.parametrize("body", [
    {"resources": [], "commonLabels": {"a": "b"}},
    {"resources": [], "patches": [{"path": "strategic.yaml"}]},
    {"resources": [], "patches": [{"target": {"kind": "Deployment", "name": "nothing"}, "patch": "[]"}]},
])
def test_the_renderer_refuses_what_it_does_not_render_as_kustomize_would(tmp_path, body):
    (tmp_path / "strategic.yaml").write_text("kind: Deployment\n")
    with pytest.raises(UnsupportedKustomization):
        render(write_kustomization(tmp_path, body))
