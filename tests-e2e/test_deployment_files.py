"""Static checks of the deployment files: compose.yaml, deploy/Dockerfile and deploy/k8s/.

They need no Docker engine or cluster. The one test that asks Docker to validate compose.yaml is
skipped unless `docker compose` is installed and an engine answers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S_DIR = ROOT / "deploy" / "k8s"
README = ROOT / "deploy" / "README.md"
NAMESPACE = "gatehouse"


@dataclass(frozen=True)
class Svc:
    name: str  # compose service, k8s Deployment/Service and DNS name
    directory: str  # under services/
    port: int
    url_var: str | None  # the *_URL variable other services reach it with; None for the gateway

    @property
    def package(self) -> str:
        return f"gatehouse-{self.name}"

    @property
    def script(self) -> str:
        return f"gatehouse-{self.name}"

    @property
    def module(self) -> str:
        return f"gatehouse_{self.directory}"


SERVICES = [
    Svc("gateway", "gateway", 3001, None),
    Svc("identity", "identity", 3101, "IDENTITY_URL"),
    Svc("management", "management", 3102, "MANAGEMENT_URL"),
    Svc("organizations", "organizations", 3103, "ORGANIZATIONS_URL"),
    Svc("hooks-audit", "hooks_audit", 3104, "HOOKS_AUDIT_URL"),
    Svc("experience", "experience", 3105, "EXPERIENCE_URL"),
]
BACKENDS = [s for s in SERVICES if s.url_var is not None]
SERVICE_IDS = [s.name for s in SERVICES]

MIGRATE_COMMANDS = [f"{s.script} migrate" for s in BACKENDS]
SEED_COMMAND = "gatehouse-management seed --bootstrap"

ENV_VARS = [
    "DATABASE_URL",
    "NATS_URL",
    "PUBLIC_URL",
    "HOST",
    "PORT",
    "LOG_LEVEL",
    "EVENTS_STREAM",
    "SUBJECT_PREFIX",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    *[s.url_var for s in BACKENDS if s.url_var],
    "BOOTSTRAP_FILE",
    "SECRET_VAULT_KEK",
]
SHARED_ENV = ["NATS_URL", "PUBLIC_URL", "LOG_LEVEL", "EVENTS_STREAM", "SUBJECT_PREFIX"] + [
    s.url_var for s in BACKENDS if s.url_var
]

_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: str) -> str:
    """Resolve compose `${VAR:-default}` references to their defaults (as with an empty shell)."""
    return _INTERPOLATION.sub(lambda m: m.group("default") or "", value)


# --------------------------------------------------------------------------------------------------
# Loading


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compose_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def compose_env(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment", {})
    if isinstance(env, list):
        parsed: dict[str, str | None] = {}
        for item in env:
            key, sep, value = str(item).partition("=")
            parsed[key] = value if sep else None
        return parsed
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def k8s_files() -> list[Path]:
    return sorted(p for p in K8S_DIR.glob("*.y*ml") if p.name != "kustomization.yaml")


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    data = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in k8s_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            assert isinstance(doc, dict), path
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), f"{path.name}: incomplete manifest"
            docs.append(doc)
    return docs


def by_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for doc in manifests:
        if doc["kind"] == kind:
            name = doc["metadata"]["name"]
            assert name not in found, f"duplicate {kind} {name}"
            found[name] = doc
    return found


def one_container(pod_spec: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec["containers"]
    assert len(containers) == 1
    return containers[0]


def container_env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def named_port(container: dict[str, Any], ref: int | str) -> int:
    for port in container.get("ports", []):
        if ref in (port.get("name"), port["containerPort"]):
            return int(port["containerPort"])
    raise AssertionError(f"container {container['name']} has no port {ref!r}")


def shell_lines(command: list[str]) -> list[str]:
    """The non-empty lines of a `/bin/sh -c` (or `-ec`) script given as an argv list."""
    assert command[0] in ("/bin/sh", "sh"), command
    assert command[1].startswith("-") and command[1].endswith("c"), command
    return [line.strip() for line in command[2].splitlines() if line.strip()]


def assert_migrate_script(lines: list[str], bootstrap_ref: str) -> None:
    """Every context's migrate, then seed (with --bootstrap when no credentials exist yet)."""
    assert lines[: len(MIGRATE_COMMANDS)] == MIGRATE_COMMANDS
    seed_lines = lines[len(MIGRATE_COMMANDS) :]
    assert seed_lines, "no seed after the migrations"
    assert all("migrate" not in line for line in seed_lines)
    script = "\n".join(seed_lines)
    assert SEED_COMMAND in script
    assert bootstrap_ref in script


# --------------------------------------------------------------------------------------------------
# The list of services matches the workspace


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_service_is_a_workspace_package(svc: Svc) -> None:
    pyproject = ROOT / "services" / svc.directory / "pyproject.toml"
    assert pyproject.is_file()
    assert f'name = "{svc.package}"' in pyproject.read_text()
    assert (ROOT / "services" / svc.directory / "src" / svc.module).is_dir()


# --------------------------------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_installs_with_frozen_uv_sync() -> None:
    text = DOCKERFILE.read_text()
    assert "uv sync --frozen" in text
    syncs = re.findall(r"uv sync[^\n]*(?:\\\n[^\n]*)*", text)
    assert syncs
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync, sync
    assert '--package "gatehouse-${SERVICE}"' in text


def test_dockerfile_stages() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG SERVICE$", text, re.M)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M)
    froms = re.findall(r"^FROM (\S+)(?: AS (\S+))?$", text, re.M)
    stages = {alias: image for image, alias in froms}
    assert {"service", "migrate"} <= stages.keys()
    assert froms[-1][1] == "service", "the service image must be the default (last) target"
    # Only the virtualenv crosses into the final images; nothing is copied from the context there.
    final = text[text.index("FROM ${PYTHON_IMAGE} AS runtime") :]
    assert not re.search(r"^COPY (?!--from=)", final, re.M)
    assert "COPY --from=build-service /app/.venv /app/.venv" in final
    assert "COPY --from=build-migrate /app/.venv /app/.venv" in final
    assert "uv" not in re.findall(r"COPY --from=(\S+)", final)


def test_dockerfile_final_stage_is_non_root_and_serves() -> None:
    text = DOCKERFILE.read_text()
    service_stage = text[text.index("AS service") :]
    user = re.search(r"^USER (\S+)$", service_stage, re.M)
    assert user and user.group(1).split(":")[0] not in ("root", "0")
    cmd = re.search(r"^CMD (.+)$", service_stage, re.M)
    assert cmd
    argv = yaml.safe_load(cmd.group(1))  # exec form is a JSON array
    assert argv[-1] == "exec gatehouse-${GATEHOUSE_SERVICE} serve"
    assert "GATEHOUSE_SERVICE=${SERVICE}" in service_stage
    assert "HEALTHCHECK" in service_stage and "/health" in service_stage
    migrate_stage = text[text.index("AS migrate") : text.index("AS service")]
    user = re.search(r"^USER (\S+)$", migrate_stage, re.M)
    assert user and user.group(1).split(":")[0] not in ("root", "0")


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_dockerfile_accepts_service(svc: Svc) -> None:
    assert f"{svc.name}:{svc.port}" in DOCKERFILE.read_text()


def test_dockerfile_migrate_target_runs_migrations_then_seed() -> None:
    text = DOCKERFILE.read_text()
    migrate_stage = text[text.index("AS build-migrate") : text.index("AS runtime")]
    for svc in BACKENDS:
        assert f"--package {svc.package}" in migrate_stage
    assert "--package gatehouse-gateway" not in migrate_stage
    stage = text[text.index("AS migrate") : text.index("AS service")]
    cmd = re.search(r"^CMD (.+)$", stage, re.M)
    assert cmd
    assert_migrate_script(shell_lines(yaml.safe_load(cmd.group(1))), '"$BOOTSTRAP_FILE"')


# --------------------------------------------------------------------------------------------------
# compose.yaml


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_compose_service_container(compose_services: dict[str, dict[str, Any]], svc: Svc) -> None:
    service = compose_services[svc.name]
    build = service["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == "deploy/Dockerfile"
    assert build.get("target", "service") == "service"
    assert build["args"]["SERVICE"] == svc.name
    assert int(build["args"]["PORT"]) == svc.port
    assert service["command"] == [svc.script, "serve"]
    env = compose_env(service)
    assert env["PORT"] == str(svc.port)
    assert env["HOST"] == "0.0.0.0"
    assert interpolate(service["image"]).startswith(f"gatehouse/{svc.name}:")


def test_compose_only_gateway_publishes_a_port(compose_services: dict[str, dict[str, Any]]) -> None:
    published = {name: svc["ports"] for name, svc in compose_services.items() if svc.get("ports")}
    assert published == {"gateway": ["3001:3001"]}
    for service in compose_services.values():
        assert "network_mode" not in service


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_compose_service_dependencies(compose_services: dict[str, dict[str, Any]], svc: Svc) -> None:
    depends_on = compose_services[svc.name]["depends_on"]
    assert depends_on["postgres"] == {"condition": "service_healthy"}
    assert depends_on["nats"] == {"condition": "service_healthy"}
    assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
    for other, dependency in depends_on.items():
        assert other in compose_services
        if other in SERVICE_IDS:
            assert svc.name == "gateway", "only the gateway waits for other services"
            assert dependency == {"condition": "service_healthy"}


def test_compose_gateway_waits_for_backends(compose_services: dict[str, dict[str, Any]]) -> None:
    depends_on = compose_services["gateway"]["depends_on"]
    for svc in BACKENDS:
        assert depends_on[svc.name] == {"condition": "service_healthy"}


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_compose_service_healthcheck(compose_services: dict[str, dict[str, Any]], svc: Svc) -> None:
    test = compose_services[svc.name]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "urllib.request.urlopen" in test[3]
    assert f"'http://127.0.0.1:{svc.port}/health'" in test[3]
    compile(test[3], "<healthcheck>", "exec")


def test_compose_postgres(compose_services: dict[str, dict[str, Any]]) -> None:
    postgres = compose_services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in postgres["healthcheck"]["test"]
    env = compose_env(postgres)
    url = urlsplit(compose_env(compose_services["identity"])["DATABASE_URL"] or "")
    assert (url.username, url.password, url.path) == (
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
        f"/{env['POSTGRES_DB']}",
    )
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def test_compose_nats(compose_services: dict[str, dict[str, Any]]) -> None:
    nats = compose_services["nats"]
    assert nats["image"].startswith("nats:2.10")
    command = nats["command"]
    assert "-js" in command
    assert command[command.index("-sd") + 1] == "/data"
    assert "healthcheck" in nats and "/healthz" in " ".join(nats["healthcheck"]["test"])
    assert any(v.endswith(":/data") for v in nats["volumes"])


def test_compose_migrate_job(compose: dict[str, Any], compose_services: dict[str, dict[str, Any]]) -> None:
    migrate = compose_services["migrate"]
    assert migrate["build"]["dockerfile"] == "deploy/Dockerfile"
    assert migrate["build"]["target"] == "migrate"
    assert migrate.get("restart", "no") == "no"
    assert "ports" not in migrate and "healthcheck" not in migrate
    assert migrate["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "nats": {"condition": "service_healthy"},
    }
    # `$$` is compose's escape for a literal `$`, left for the shell.
    assert_migrate_script(shell_lines(migrate["command"]), '"$$BOOTSTRAP_FILE"')
    env = compose_env(migrate)
    bootstrap_file = env["BOOTSTRAP_FILE"]
    assert bootstrap_file
    mounts = dict(v.split(":", 1) for v in migrate["volumes"])
    volume = next((src for src, dst in mounts.items() if bootstrap_file.startswith(dst.rstrip("/") + "/")), None)
    assert volume in compose["volumes"], "the bootstrap file must be written to a named volume"
    assert env["DATABASE_URL"] == compose_env(compose_services["identity"])["DATABASE_URL"]


@pytest.mark.parametrize("name", [*SERVICE_IDS, "migrate"])
def test_compose_env_points_at_compose_hostnames(compose_services: dict[str, dict[str, Any]], name: str) -> None:
    env = compose_env(compose_services[name])
    database = urlsplit(env["DATABASE_URL"] or "")
    assert database.scheme in ("postgresql", "postgres")
    assert (database.hostname, database.port) == ("postgres", 5432)
    assert env["NATS_URL"] == "nats://nats:4222"
    for svc in BACKENDS:
        assert svc.url_var
        assert env[svc.url_var] == f"http://{svc.name}:{svc.port}"
        assert svc.name in compose_services
    public = urlsplit(interpolate(env["PUBLIC_URL"] or ""))
    assert public.port == 3001 and public.hostname in ("127.0.0.1", "localhost")
    assert env["EVENTS_STREAM"] == "GATEHOUSE_EVENTS"
    assert env["SUBJECT_PREFIX"] == "gatehouse"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in env
    assert {k: v for k, v in env.items() if v is not None and "${" in v and ":-" not in v} == {}


def test_compose_declares_every_named_volume(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used == declared


# --------------------------------------------------------------------------------------------------
# deploy/k8s


def test_kustomization_lists_every_manifest(kustomization: dict[str, Any]) -> None:
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    assert sorted(resources) == sorted(p.name for p in k8s_files())
    assert kustomization["namespace"] == NAMESPACE


def test_kustomization_images_cover_every_deployment(
    kustomization: dict[str, Any], manifests: list[dict[str, Any]]
) -> None:
    names = {image["name"] for image in kustomization.get("images", [])}
    workloads = [*by_kind(manifests, "Deployment").values(), *by_kind(manifests, "Job").values()]
    for workload in workloads:
        image = one_container(workload["spec"]["template"]["spec"])["image"]
        if image.startswith("gatehouse/"):
            assert image.rsplit(":", 1)[0] in names


def test_k8s_namespace(manifests: list[dict[str, Any]]) -> None:
    assert NAMESPACE in by_kind(manifests, "Namespace")
    for doc in manifests:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, doc["metadata"]["name"]


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_k8s_deployment(manifests: list[dict[str, Any]], svc: Svc) -> None:
    deployment = by_kind(manifests, "Deployment")[svc.name]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    container = one_container(pod)
    assert container["image"].startswith(f"gatehouse/{svc.name}:")
    assert container["command"] == [svc.script, "serve"]
    assert named_port(container, "http") == svc.port
    env = container_env(container)
    assert env["HOST"]["value"] == "0.0.0.0"
    assert env["PORT"]["value"] == str(svc.port)
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "gatehouse-database",
        "key": "DATABASE_URL",
    }
    assert {"configMapRef": {"name": "gatehouse-config"}} in container["envFrom"]
    resources = container["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert {"cpu", "memory"} <= resources["limits"].keys()
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_k8s_probes(manifests: list[dict[str, Any]], svc: Svc) -> None:
    container = one_container(by_kind(manifests, "Deployment")[svc.name]["spec"]["template"]["spec"])
    readiness = container["readinessProbe"]["httpGet"]
    liveness = container["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/ready"
    assert liveness["path"] == "/health"
    assert named_port(container, readiness["port"]) == svc.port
    assert named_port(container, liveness["port"]) == svc.port
    if "startupProbe" in container:
        assert container["startupProbe"]["httpGet"]["path"] == "/health"


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_k8s_service_matches_deployment(manifests: list[dict[str, Any]], svc: Svc) -> None:
    deployment = by_kind(manifests, "Deployment")[svc.name]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    container = one_container(deployment["spec"]["template"]["spec"])
    # Named after the DNS name the *_URL variables use.
    service = by_kind(manifests, "Service")[svc.name]
    selector = service["spec"]["selector"]
    assert selector and selector.items() <= pod_labels.items()
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert port["port"] == svc.port
    assert named_port(container, port.get("targetPort", port["port"])) == svc.port


def test_k8s_every_service_selects_pods(manifests: list[dict[str, Any]]) -> None:
    pod_templates = [
        doc["spec"]["template"]["metadata"]["labels"]
        for doc in manifests
        if doc["kind"] in ("Deployment", "StatefulSet")
    ]
    for name, service in by_kind(manifests, "Service").items():
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_templates), name


def test_k8s_configmap_points_at_cluster_services(manifests: list[dict[str, Any]]) -> None:
    data = by_kind(manifests, "ConfigMap")["gatehouse-config"]["data"]
    services = by_kind(manifests, "Service")
    for var in SHARED_ENV:
        assert var in data, var
    assert "DATABASE_URL" not in data, "DATABASE_URL belongs in the Secret"
    for svc in BACKENDS:
        assert svc.url_var
        url = urlsplit(data[svc.url_var])
        assert (url.scheme, url.hostname, url.port) == ("http", svc.name, svc.port)
        assert any(p["port"] == svc.port for p in services[svc.name]["spec"]["ports"])
    nats = urlsplit(data["NATS_URL"])
    assert nats.scheme == "nats" and nats.hostname in services
    assert any(p["port"] == nats.port for p in services[nats.hostname]["spec"]["ports"])
    assert data["EVENTS_STREAM"] == "GATEHOUSE_EVENTS"
    assert data["SUBJECT_PREFIX"] == "gatehouse"


def test_k8s_public_url_matches_ingress(manifests: list[dict[str, Any]]) -> None:
    public = urlsplit(by_kind(manifests, "ConfigMap")["gatehouse-config"]["data"]["PUBLIC_URL"])
    assert public.scheme in ("http", "https") and public.hostname
    for ingress in by_kind(manifests, "Ingress").values():
        rules = ingress["spec"]["rules"]
        assert {rule["host"] for rule in rules} == {public.hostname}
        for rule in rules:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] == "gateway"


def test_k8s_database_secret_is_a_placeholder(manifests: list[dict[str, Any]]) -> None:
    secret = by_kind(manifests, "Secret")["gatehouse-database"]
    url = secret["stringData"]["DATABASE_URL"]
    assert urlsplit(url).scheme in ("postgresql", "postgres")
    assert "CHANGE_ME" in url
    assert "PLACEHOLDER" in (K8S_DIR / "secret.yaml").read_text()
    # PostgreSQL is reached by URL; no database is deployed in the cluster.
    for kind in ("Deployment", "StatefulSet"):
        for workload in by_kind(manifests, kind).values():
            image = one_container(workload["spec"]["template"]["spec"])["image"]
            assert not image.startswith("postgres")


def test_k8s_migrate_job(manifests: list[dict[str, Any]]) -> None:
    (job,) = by_kind(manifests, "Job").values()
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("OnFailure", "Never")
    container = one_container(pod)
    assert container["image"].startswith("gatehouse/migrate:")
    assert_migrate_script(shell_lines(container["command"]), '"$BOOTSTRAP_FILE"')
    env = container_env(container)
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "gatehouse-database"
    assert {"configMapRef": {"name": "gatehouse-config"}} in container["envFrom"]
    bootstrap_file = env["BOOTSTRAP_FILE"]["value"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [n for n, path in mounts.items() if bootstrap_file.startswith(path.rstrip("/") + "/")]
    claim = volumes[mount]["persistentVolumeClaim"]["claimName"]
    assert claim in by_kind(manifests, "PersistentVolumeClaim")


def test_k8s_nats_statefulset(manifests: list[dict[str, Any]]) -> None:
    statefulset = by_kind(manifests, "StatefulSet")["nats"]
    spec = statefulset["spec"]
    assert spec["replicas"] == 1
    container = one_container(spec["template"]["spec"])
    assert container["image"].startswith("nats:2.10")
    argv = [*container.get("command", []), *container.get("args", [])]
    assert "-js" in argv
    store_dir = argv[argv.index("-sd") + 1]
    assert any(m["mountPath"] == store_dir for m in container["volumeMounts"])
    assert any(t["metadata"]["name"] == "data" for t in spec["volumeClaimTemplates"])
    assert named_port(container, "client") == 4222
    services = by_kind(manifests, "Service")
    headless = services[spec["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert container["readinessProbe"]["httpGet"]["path"].startswith("/healthz")
    assert container["livenessProbe"]["httpGet"]["path"].startswith("/healthz")
    assert "cluster" in (K8S_DIR / "nats.yaml").read_text().lower()


def test_k8s_kustomize_build() -> None:
    kubectl = shutil.which("kubectl")
    kustomize = shutil.which("kustomize")
    if kubectl:
        argv = [kubectl, "kustomize", str(K8S_DIR)]
    elif kustomize:
        argv = [kustomize, "build", str(K8S_DIR)]
    else:
        pytest.skip("neither kubectl nor kustomize is installed")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc]
    assert kinds.count("Deployment") == len(SERVICES)


# --------------------------------------------------------------------------------------------------
# README and Docker itself


def test_readme_documents_every_env_var() -> None:
    text = README.read_text()
    for var in ENV_VARS:
        assert f"`{var}`" in text, var
    for needle in ("docker build", "docker compose up", "kubectl apply -k"):
        assert needle in text


def _docker_engine_available() -> str | None:
    """None if `docker compose` and a Docker engine are usable, otherwise why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker CLI not installed"
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        return "the docker compose plugin is not installed"
    probe = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        return "no Docker engine answers `docker info`"
    return None


def test_docker_compose_config_is_valid() -> None:
    reason = _docker_engine_available()
    if reason:
        pytest.skip(f"docker compose config not run: {reason}")
    docker = shutil.which("docker")
    assert docker
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
