"""volume-mount-failed: a volume (EFS, bind mount, Docker volume) could not be created or mounted.

Signals: "failed to invoke EFS utils commands to set up EFS volumes"; CannotCreateVolumeError;
"mount.nfs4: Connection timed out"; "access denied by server while mounting"; "bind source path
does not exist". Facts: file_system (fs-...) or volume, cause (network / access-denied /
not-found).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Explanation,
    Facts,
    Match,
    Need,
    Pattern,
    Stage,
    container_for_reason,
    find_in_reasons,
    reason_proof,
)

_SIGNAL = re.compile(
    r"EFS utils|set up EFS volumes|CannotCreateVolumeError|mount\.nfs4?:|failed to mount|efs-utils"
    r"|error while mounting volume|bind source path does not exist|invalid mount config|mount target"
    r"|elasticfilesystem:Client(?:Mount|Write|RootAccess)|mount source path|error mounting|VolumeDriver\."
    r"|rootfs_linux\.go:\d+: mounting",
    re.IGNORECASE,
)
_FS = re.compile(r"\bfs-(?:[0-9a-f]{8,17}|[0-9a-f]{4,16}x{2,})\b")  # reporters mask the tail: fs-0795841054xxxx
_AP = re.compile(r"\bfsap-[0-9a-f]{8,17}\b")
_VOLUMES = (
    re.compile(r"mount source path '([^']+)'"),
    re.compile(r"\bcreate ([\w.-]+): VolumeDriver"),  # docker: "create pgdata: VolumeDriver.Create: ..."
    re.compile(r"bind source path does not exist:?\s*['\"]?([\w/.-]{2,})", re.IGNORECASE),
    # runc: mounting \"/opt/conf/app\" to rootfs \"/var/lib/docker/...\" (quotes escaped once or more)
    re.compile(r"rootfs_linux\.go:\d+: mounting \\*\"?(/[^\s\"\\]+)\\*\"? to rootfs"),
    re.compile(r"volume\s+['\"]([\w/.-]{2,})['\"]", re.IGNORECASE),
    re.compile(r"volume[\s:]+([\w/.-]{2,})", re.IGNORECASE),
)
_NOT_A_NAME = {"failed", "driver", "is", "not", "does", "mount", "mounting", "for", "the", "with", "error", "plugin"}


def _cause(text: str) -> str | None:
    low = text.lower()
    if "read-only file system" in low:
        return "access-denied"
    if ("access denied" in low or "accessdenied" in low or "permission denied" in low
            or "not authorized" in low or "operation not permitted" in low):
        return "access-denied"
    if "filesystemnotfound" in low:
        return "not-found"
    if ("does not exist" in low or "no such file" in low or "no such volume" in low or "not found" in low or "filesystemnotfound" in low):
        return "not-found" if "failed to resolve" not in low else "network"
    if any(w in low for w in ("timed out", "timeout", "failed to resolve", "connection refused",
                              "no route to host", "network is unreachable", "connection reset")):
        return "network"
    return None


# "mounting fs-0124b682.efs.us-east-1.amazonaws.com:/var/jenkins_home failed, reason given by server: No such
# file or directory": the file system answered, so it exists; the directory it was asked for does not.
_SERVER_NO_DIR = re.compile(r"\b(fs-[^:\n]*?)(?:\.efs\.[^:\n]*)?:(?P<path>/[^\s,']*)\s.*?"
                            r"(?:reason given by server|server).{0,20}no such file or directory", re.IGNORECASE | re.DOTALL)


def _missing_directory(m: Match) -> str | None:
    """The directory of an EFS file system that does not exist (the volume's rootDirectory or its access
    point's path), when the server said so; "/" for an access point whose own root is missing."""
    for p in m.proofs:
        hit = _SERVER_NO_DIR.search(p.text)
        if hit:
            return hit.group("path")
    return None


def _create_directory_steps(ev: Evidence, known_fs: str | None, path: str, access_point: str | None) -> list[str]:
    """Create the directory the mount asked for: an access point that creates it, or mkdir from the root.
    A file system id the message masked is read from the task definition into `$fs` first."""
    region = remedy.region(ev) or remedy.REGION_UNKNOWN
    fs = known_fs or '"$fs"'
    steps = _create_directory(ev, fs, path, access_point, region)
    if not known_fs:
        query = ("taskDefinition.volumes[?efsVolumeConfiguration.rootDirectory=='" + path + "'] | "
                 "[0].efsVolumeConfiguration.fileSystemId" if path != "/" else
                 "taskDefinition.volumes[?efsVolumeConfiguration] | [0].efsVolumeConfiguration.fileSystemId")
        steps[0] = (f"The message does not give the file system id: read it first, `fs=$({remedy.describe_task_definition(ev, query)} "
                    "--output text)`. " + steps[0].replace(f"{fs} answered", "The file system answered", 1))
    return steps


def _create_directory(ev: Evidence, fs: str, path: str, access_point: str | None, region: str) -> list[str]:
    if access_point or path == "/":
        ap = f"`{access_point}`" if access_point else "the volume's access point"
        return [f"{fs} answered, so it exists, but the root directory of {ap} does not exist on it and the access "
                "point has no `CreationInfo` to create it. Create the access point again with `CreationInfo` "
                "(owner uid/gid and permissions the container's user needs), or create the directory from an "
                f"instance in the VPC: mount the file system's root with `sudo mount -t efs {fs}:/ /mnt/efs` and "
                "`mkdir -p` the access point's path under /mnt/efs. Read its path: "
                f"`aws efs describe-access-points --file-system-id {fs} --region {region}`."]
    create = (f"aws efs create-access-point --file-system-id {fs} --region {region} --root-directory "
              f"{remedy.q(f'Path={path},CreationInfo={{OwnerUid=1000,OwnerGid=1000,Permissions=755}}')}")
    return [f"{fs} answered, so it exists, but the directory `{path}` (the volume's `rootDirectory`) does not exist "
            f"on it. Create it from an instance in the VPC: mount the file system's root with "
            f"`sudo mount -t efs {fs}:/ /mnt/efs`, run `sudo mkdir -p /mnt/efs{path}` and `chown` it to the "
            "container's user; or set the volume's `rootDirectory` to `/`.",
            f"Or let EFS create it: an access point whose `CreationInfo` makes `{path}` (use the uid/gid the "
            f"container runs as; 1000 is a common default): `{create}`, then in the task "
            "definition's `efsVolumeConfiguration` set `authorizationConfig.accessPointId` to its id, "
            '`"transitEncryption": "ENABLED"` and `rootDirectory` `/`.']


class VolumeMountFailedFacts(Facts):
    """The facts of volume-mount-failed."""

    cause: str | None = Field(None, description="access-denied, not-found, network, ...")
    file_system: str | None = Field(None, description="The file system id.")
    volume: str | None = Field(None, description="The volume name.")
    access_point: str | None = Field(None, description="The EFS access point.")


# "VolumeDriver.Create: docker-legacy: Create: data: failed": a Docker volume plugin's name
_DRIVER = re.compile(r"VolumeDriver\.\w+: ([\w./:-]+?):? ")


class VolumeMountFailed(Pattern):
    id = "volume-mount-failed"
    priority = 170
    severity = "critical"
    Facts = VolumeMountFailedFacts
    key_facts = ("file_system", "volume", "cause")
    needs = frozenset({"network"})

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The network path only explains a network failure."""
        return self.needs if facts.get("cause") == "network" else frozenset()

    def match(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, _SIGNAL)
        if not hit:
            return None
        source, text, _ = hit
        container = container_for_reason(ev, source)
        facts: dict = {"container": container, "cause": _cause(text)}
        fs = _FS.search(text)
        if fs is None:
            # ECS's reason often says only "127.0.0.1:/"; the agent's or efs-utils' log names the file system.
            fs = next((m for i in ev.logs.lines_with("fs-") if (m := _FS.search(ev.logs.texts[i]))), None)
        if fs:
            facts["file_system"] = fs.group(0)
        ap = _AP.search(text)
        if ap:
            facts["access_point"] = ap.group(0)
        if not fs:
            for regex in _VOLUMES:
                vol = regex.search(text)
                if vol and vol.group(1).lower() not in _NOT_A_NAME:
                    facts["volume"] = vol.group(1)
                    break
        return Match(facts={k: v for k, v in facts.items() if v is not None},
                     proofs=(reason_proof(source, text),), confidence=0.95, stage=Stage.PLATFORM,
                     container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        target = f.get("file_system") or f.get("volume")
        name = f"`{target}`" if target else "the volume"
        cause = f.get("cause")
        region = remedy.region(ev) or remedy.REGION_UNKNOWN
        steps: list[str] = []
        if cause in ("network", None) and f.get("file_system"):
            steps.append(f"Make sure {name} has a mount target in every subnet/AZ the task uses "
                         f"(`aws efs describe-mount-targets --file-system-id {f['file_system']}`), and that the "
                         "mount target's security group admits TCP 2049 (NFS) from the task's security group.")
            steps.append("The VPC needs DNS resolution and DNS hostnames enabled for "
                         f"`{f['file_system']}.efs.{region}.amazonaws.com` to resolve.")
        if cause == "access-denied":
            steps.append(f"Allow the TASK role `elasticfilesystem:ClientMount` (and `ClientWrite` if writing) on "
                         f"{name} (IAM authorization needs `authorizationConfig.iam: ENABLED` and "
                         "`transitEncryption: ENABLED` in the task definition's efsVolumeConfiguration), check the "
                         "file system policy, and the access point's POSIX user/permissions.")
        missing_dir = _missing_directory(m) if cause == "not-found" else None
        if missing_dir is not None:
            steps += _create_directory_steps(ev, f.get("file_system"), missing_dir, f.get("access_point"))
        elif cause == "not-found":
            where = ("fileSystemId, accessPointId, rootDirectory" if remedy.is_fargate(ev) or f.get("file_system")
                     else "fileSystemId, accessPointId, rootDirectory, or the bind mount's host `sourcePath`")
            steps.append(f"Check {name} exists in {region} and the task definition's `volumes[]` ({where}).")
        driver = next((d.group(1) for p in m.proofs if (d := _DRIVER.search(p.text))), None)
        if driver and not steps:
            # A Docker volume plugin on the container instance: the host, not the task's network.
            steps.append(f"The Docker volume plugin `{driver}` on the container instance could not create or find "
                         f"{name}: on the instance check the plugin is installed and enabled (`docker plugin ls`) and "
                         "read its errors (`sudo journalctl -u docker`); the task definition's "
                         "`dockerVolumeConfiguration` (driver, driverOpts, scope, autoprovision) must name a volume "
                         "the plugin can create, or, with scope shared and autoprovision false, one that already "
                         "exists (`docker volume ls`)."
                         + (" Fargate tasks cannot use Docker volume plugins at all: use EFS." if remedy.is_fargate(ev)
                            else " Install the plugin in the instances' user data so every new instance has it."))
        if not steps:
            steps.append("Check the task definition's `volumes[]` and `mountPoints[]`, and that the volume "
                         "driver or file system is reachable from the task's subnets.")
        pv = ev.detail.platform_version or ""
        if remedy.is_fargate(ev) and f.get("file_system") and pv not in ("LATEST",) and not pv.startswith("1.4"):
            steps.append(f"On Fargate, EFS needs platform version 1.4.0 or later (this task ran {pv or 'an unknown version'}).")
        steps[0] += remedy.cite(m)
        return Explanation(
            title=f"Could not mount {target or 'a volume'}" + (f" ({cause})" if cause else ""),
            summary=(f"ECS could not create or mount {name} for the task, so the container never started"
                     + (f": {cause.replace('-', ' ')}." if cause else ".")),
            remediation=steps,
        )


PATTERN = VolumeMountFailed()
