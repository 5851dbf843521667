"""Service deployments and service revisions on the stand-in (moto 5 has neither).

ECS records every deployment of a service (ListServiceDeployments, DescribeServiceDeployments) and
the configuration it rolled out, a service revision (DescribeServiceRevisions): the task definition,
the container images with their resolved digests, load balancers, network configuration, capacity
provider strategy and Service Connect. Here they are driven by moto's own CreateService and
UpdateService, with the shapes of botocore's ECS service model (moto serialises the answers with it):

- CreateService, and an UpdateService that changes the task definition, network, load balancers,
  capacity providers or Service Connect (or forces a new deployment), starts a service deployment
  (IN_PROGRESS) with a new service revision. The deployment it replaces, if it had no failed task, ran
  healthy: SUCCESSFUL. DescribeServices shows both (PRIMARY and ACTIVE) and `currentServiceDeployment`.
- A task started by the deployment (startedBy = its ecs-svc/ id, as ECS's scheduler starts them) that
  StopTask ends with a failure (the demo's stop-code/exit-code tags, see demo.standin) counts towards
  the deployment circuit breaker: threshold max(3, ceil(desiredCount / 2)), at most 200. When it trips
  with rollback enabled, the service goes back to the source revision and the deployment reads
  ROLLBACK_SUCCESSFUL with `rollback.serviceRevisionArn`; without rollback, STOPPED.
- An image in the stand-in's ECR resolves to that image's digest (so pushing the same tag again gives
  a new digest); any other image to a digest derived from its name.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import secrets
import string
from typing import Any

DEPLOYMENT_FIELDS = ("taskDefinition", "networkConfiguration", "loadBalancers", "capacityProviderStrategy",
                     "serviceConnectConfiguration", "forceNewDeployment")
FAILED_STOPS = frozenset({"TaskFailedToStart", "EssentialContainerExited"})


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _store(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "_autopsy_deployments"):
        backend._autopsy_deployments = {}  # arn -> ServiceDeployment (dict), oldest first
        backend._autopsy_revisions = {}  # arn -> ServiceRevision (dict)
    return backend._autopsy_deployments


def _revisions(backend: Any) -> dict[str, dict[str, Any]]:
    _store(backend)
    return backend._autopsy_revisions


def resolve_digest(account: str, region: str, image: str) -> str:
    """The digest ECS would resolve the image to: the stand-in ECR's, else one derived from the name."""
    from moto.ecr.models import ecr_backends

    host, _, rest = image.partition("/")
    if "@" in rest:
        return rest.split("@", 1)[1]
    if rest and ".dkr.ecr." in host:
        repo, sep, tag = rest.rpartition(":")
        if not sep:
            repo, tag = rest, "latest"
        try:
            repository = ecr_backends[host.split(".", 1)[0]][region].repositories.get(repo)
        except KeyError:
            repository = None
        if repository is not None:
            hit = next((i for i in reversed(repository.images) if tag in i.image_tags), None)
            if hit is not None:
                return str(hit.get_image_digest())
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def _revision(backend: Any, service: Any, cluster: Any) -> dict[str, Any]:
    td = backend.describe_task_definition(service.task_definition)
    rid = "".join(secrets.choice(string.digits) for _ in range(19))
    arn = f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:service-revision/{cluster.name}/{service.name}/{rid}"
    network = getattr(service, "network_configuration", None) or None
    revision: dict[str, Any] = {
        "serviceRevisionArn": arn,
        "serviceArn": service.arn,
        "clusterArn": cluster.arn,
        "taskDefinition": td.arn,
        "launchType": service.launch_type,
        "platformFamily": "EC2" if service.launch_type == "EC2" else "LINUX",
        "loadBalancers": list(service.load_balancers or []),
        "serviceRegistries": list(service.service_registries or []),
        "containerImages": [{"containerName": c.get("name"), "image": c.get("image"),
                             "imageDigest": resolve_digest(backend.account_id, backend.region_name, c.get("image") or "")}
                            for c in td.container_definitions],
        "createdAt": _now(),
    }
    if service.platform_version:
        revision["platformVersion"] = service.platform_version
    if network:
        revision["networkConfiguration"] = network
    strategy = getattr(service, "capacity_provider_strategy", None)
    if strategy:
        revision["capacityProviderStrategy"] = strategy
        revision.pop("launchType", None)
    connect = getattr(service, "service_connect_configuration", None)
    if connect:
        revision["serviceConnectConfiguration"] = connect
    _revisions(backend)[arn] = revision
    return revision


def _breaker(service: Any) -> tuple[bool, bool]:
    config = (getattr(service, "deployment_configuration", None) or {}).get("deploymentCircuitBreaker") or {}
    return bool(config.get("enable")), bool(config.get("rollback"))


def start_deployment(backend: Any, service: Any, *, reason: str = "") -> dict[str, Any]:
    """A new service deployment of the service's current configuration (the previous one is replaced)."""
    cluster = backend._get_cluster(service.cluster_name)
    service.task_definition = backend.describe_task_definition(service.task_definition).arn
    deployments = _store(backend)
    mine = [d for d in deployments.values() if d["serviceArn"] == service.arn]
    sources = []
    for d in mine:
        if d["status"] in ("IN_PROGRESS", "PENDING"):
            d["status"] = "SUCCESSFUL" if not d["_failed"] else "STOPPED"
            d["finishedAt"] = d["updatedAt"] = _now()
    last = next((d for d in reversed(mine) if d["status"] in ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL")), None)
    if last is not None:
        current = last.get("rollback", {}).get("serviceRevisionArn") or last["targetServiceRevision"]["arn"]
        sources.append({"arn": current, "requestedTaskCount": service.desired_count,
                        "runningTaskCount": service.desired_count, "pendingTaskCount": 0})
    revision = _revision(backend, service, cluster)
    did = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(21))
    arn = f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:service-deployment/{cluster.name}/{service.name}/{did}"
    enabled, _rollback = _breaker(service)
    now = _now()
    deployment: dict[str, Any] = {
        "serviceDeploymentArn": arn, "serviceArn": service.arn, "clusterArn": cluster.arn,
        "createdAt": now, "startedAt": now, "updatedAt": now,
        "sourceServiceRevisions": sources,
        "targetServiceRevision": {"arn": revision["serviceRevisionArn"], "requestedTaskCount": service.desired_count,
                                  "runningTaskCount": 0, "pendingTaskCount": service.desired_count},
        "status": "IN_PROGRESS", "statusReason": reason or "ECS deployment in progress.",
        "deploymentConfiguration": getattr(service, "deployment_configuration", None)
        or {"maximumPercent": 200, "minimumHealthyPercent": 100},
        "deploymentCircuitBreaker": {"status": "MONITORING" if enabled else "DISABLED", "failureCount": 0,
                                     "threshold": min(200, max(3, math.ceil(service.desired_count / 2)))},
        "_failed": 0,
    }
    deployments[arn] = deployment
    # What DescribeServices shows: the new deployment PRIMARY, the one it replaces ACTIVE.
    ecs_id = f"ecs-svc/{secrets.randbelow(10**19):019d}"
    deployment["_ecs_id"] = ecs_id
    for d in service.deployments:
        d["status"] = "ACTIVE"
    service.deployments[:] = [{
        "id": ecs_id, "status": "PRIMARY", "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count, "pendingCount": service.desired_count, "runningCount": 0,
        "failedTasks": 0, "createdAt": now, "updatedAt": now, "launchType": service.launch_type,
        "networkConfiguration": revision.get("networkConfiguration"),
        "capacityProviderStrategy": revision.get("capacityProviderStrategy"),
        "serviceConnectConfiguration": revision.get("serviceConnectConfiguration"),
        "rolloutState": "IN_PROGRESS", "rolloutStateReason": f"ECS deployment {ecs_id} in progress.",
    }, *[d for d in service.deployments if d.get("status") == "ACTIVE"][:1]]
    service.current_service_deployment = arn
    service.current_service_revisions = [deployment["targetServiceRevision"]]
    return deployment


def task_stopped(backend: Any, task: Any, failed: bool) -> None:
    """Count a failed task of a deployment; trip the circuit breaker at its threshold."""
    started_by = getattr(task, "started_by", "") or ""
    if not failed or not started_by.startswith("ecs-svc/"):
        return
    deployment = next((d for d in _store(backend).values() if d.get("_ecs_id") == started_by), None)
    if deployment is None or deployment["status"] != "IN_PROGRESS":
        return
    deployment["_failed"] += 1
    breaker = deployment["deploymentCircuitBreaker"]
    breaker["failureCount"] = deployment["_failed"]
    service = next((s for s in backend.services.values() if s.arn == deployment["serviceArn"]), None)
    if service is None:
        return
    for d in service.deployments:
        if d.get("id") == started_by:
            d["failedTasks"] = deployment["_failed"]
    if breaker["status"] == "DISABLED" or deployment["_failed"] < breaker["threshold"]:
        return
    breaker["status"] = "TRIGGERED"
    now = _now()
    reason = "ECS deployment circuit breaker: tasks failed to start."
    deployment.update(updatedAt=now, stoppedAt=now, finishedAt=now, statusReason=reason)
    _, rollback = _breaker(service)
    source = (deployment["sourceServiceRevisions"] or [{}])[0].get("arn")
    if not rollback or not source:
        deployment["status"] = "STOPPED"
        for d in service.deployments:
            if d.get("id") == started_by:
                d["rolloutState"], d["rolloutStateReason"] = "FAILED", reason
        return
    previous = _revisions(backend)[source]
    deployment["status"] = "ROLLBACK_SUCCESSFUL"
    deployment["rollback"] = {"reason": f"{reason} Rolling back to the previous service revision.",
                              "startedAt": now, "serviceRevisionArn": source}
    service.task_definition = previous["taskDefinition"]
    ecs_id = f"ecs-svc/{secrets.randbelow(10**19):019d}"
    service.deployments[:] = [{
        "id": ecs_id, "status": "PRIMARY", "taskDefinition": previous["taskDefinition"],
        "desiredCount": service.desired_count, "pendingCount": 0, "runningCount": service.desired_count,
        "failedTasks": 0, "createdAt": now, "updatedAt": now, "launchType": service.launch_type,
        "rolloutState": "COMPLETED", "rolloutStateReason": f"ECS deployment {ecs_id} completed.",
    }]


# -- the API --------------------------------------------------------------------------------------
def _brief(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt", "finishedAt", "status",
            "statusReason")
    out = {k: d[k] for k in keys if d.get(k) is not None}
    out["targetServiceRevisionArn"] = d["targetServiceRevision"]["arn"]
    return out


def _public(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def install() -> None:
    """Add the three APIs to moto's ECS responses and drive them from CreateService/UpdateService/StopTask."""
    from moto.core.responses import ActionResult
    from moto.ecs import models
    from moto.ecs.exceptions import ServiceNotFoundException
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    if getattr(R, "_autopsy_deployments", False):
        return
    create, update = R.create_service, R.update_service

    def create_service(self: Any) -> Any:
        params = self._get_params()
        result = create(self)
        backend = self.ecs_backend
        service = backend._get_service(params.get("cluster", "default"), params["serviceName"])
        service.health_check_grace_period_seconds = params.get("healthCheckGracePeriodSeconds")
        service.capacity_provider_strategy = params.get("capacityProviderStrategy")
        service.service_connect_configuration = params.get("serviceConnectConfiguration")
        service.deployment_configuration = params.get("deploymentConfiguration")
        service.deployments[:] = []
        start_deployment(backend, service)
        return result

    def update_service(self: Any) -> Any:
        params = self._get_params()
        result = update(self)
        backend = self.ecs_backend
        service = backend._get_service(params.get("cluster", "default"), params["service"])
        if any(params.get(k) is not None for k in DEPLOYMENT_FIELDS if k != "forceNewDeployment") \
                or params.get("forceNewDeployment"):
            start_deployment(backend, service)
        return ActionResult({"service": service}) if result is None else result

    def list_service_deployments(self: Any) -> Any:
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        name = self._get_param("service").split("/")[-1]
        if f"{cluster.name}:{name}" not in backend.services:
            raise ServiceNotFoundException
        service = backend.services[f"{cluster.name}:{name}"]
        statuses = self._get_param("status") or []
        window = self._get_param("createdAt") or {}
        found = []
        for d in reversed(list(_store(backend).values())):  # newest first
            if d["serviceArn"] != service.arn or (statuses and d["status"] not in statuses):
                continue
            created = d["createdAt"]
            if window.get("before") and created >= _ts(window["before"]):
                continue
            if window.get("after") and created <= _ts(window["after"]):
                continue
            found.append(_brief(d))
        start = int(self._get_param("nextToken") or 0)
        size = int(self._get_param("maxResults") or 20)
        page = found[start:start + size]
        out: dict[str, Any] = {"serviceDeployments": page}
        if start + size < len(found):
            out["nextToken"] = str(start + size)
        return ActionResult(out)

    def describe_service_deployments(self: Any) -> Any:
        store = _store(self.ecs_backend)
        found, failures = [], []
        for arn in self._get_param("serviceDeploymentArns") or []:
            if arn in store:
                found.append(_public(store[arn]))
            else:
                failures.append({"arn": arn, "reason": "MISSING"})
        return ActionResult({"serviceDeployments": found, "failures": failures})

    def describe_service_revisions(self: Any) -> Any:
        store = _revisions(self.ecs_backend)
        found, failures = [], []
        for arn in self._get_param("serviceRevisionArns") or []:
            if arn in store:
                found.append(store[arn])
            else:
                failures.append({"arn": arn, "reason": "MISSING"})
        return ActionResult({"serviceRevisions": found, "failures": failures})

    R.create_service = create_service
    R.update_service = update_service
    R.list_service_deployments = list_service_deployments
    R.describe_service_deployments = describe_service_deployments
    R.describe_service_revisions = describe_service_revisions
    R._autopsy_deployments = True

    stop = models.EC2ContainerServiceBackend.stop_task

    def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        task = stop(self, cluster_str, task_str, reason)
        exits = [getattr(c, "exitCode", None) for c in task.containers]
        failed = (getattr(task, "stop_code", None) in FAILED_STOPS
                  and (getattr(task, "stop_code", None) == "TaskFailedToStart" or any(e not in (None, 0) for e in exits)))
        task_stopped(self, task, failed)
        return task

    models.EC2ContainerServiceBackend.stop_task = stop_task


def _ts(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "").isdigit()):
        return datetime.datetime.fromtimestamp(float(value), datetime.UTC)
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
