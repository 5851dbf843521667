"""volume-mount-failed: a volume (EFS, bind mount, Docker volume) could not be created or mounted.

Signals: "failed to invoke EFS utils commands to set up EFS volumes"; CannotCreateVolumeError;
"mount.nfs4: Connection timed out"; "access denied by server while mounting"; "bind source path
does not exist"; Docker's volume plugin call ("VolumeDriver.Create: context deadline exceeded");
Docker failing to copy the image's files and owners into a fresh volume ("failed to chown
/var/lib/ecs/volumes/...: operation not permitted"); the ECS agent's HostConfigError for a mount
point it cannot bind ("Unable to resolve volume mounts; invalid path": a host volume without a source
path; "Invalid volume referenced"); Docker refusing a source that is no absolute path as a volume name
("includes invalid characters for a local volume name"), or a volume plugin that is not there ("error
looking up volume plugin"); Fargate failing to copy the image's contents into a task volume ("failed to
copy existing contents to task volume"). A runc reason ECS cut right after "rootfs_linux.go:N" (the
step that mounts volumes), at lower confidence. Facts: file_system (fs-...) or volume, cause
(network / access-denied / read-only / not-found). Near miss: a read-only host path or container
root file system is the instance or the image, not EFS or IAM.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Cause,
    Explanation,
    Facts,
    Match,
    Need,
    ReasonPattern,
    find_in_reasons,
    words,
)
from shared.scan import lazy_re

_SIGNAL = lazy_re(
    r"EFS utils|set up EFS volumes|CannotCreateVolumeError|mount\.nfs4?:|failed to mount|efs-utils"
    r"|error while mounting volume|bind source path does not exist|invalid mount config|mount target"
    r"|elasticfilesystem:Client(?:Mount|Write|RootAccess)|mount source path|error mounting|VolumeDriver\."
    r"|rootfs_linux\.go:\d+: mounting"
    # The same runc error cut where ECS clips a long reason, right after the file and line: runc's rootfs_linux.go
    # sets up the container's file system and its mounts, and what fails there is, in practice, a mount.
    r"|rootfs_linux\.go:\d+(?:\\*\")*\s*$"
    # The ECS agent turning a task's mountPoints into Docker binds (HostConfigError): a mount point whose host
    # volume has no source path (or no container path), or one that names a volume the task does not define.
    r"|Unable to resolve volume mounts|Invalid volume referenced"
    # Docker copying the image's files and their ownership into a fresh task volume (ECS's /var/lib/ecs/volumes, a
    # Docker volume): "failed to copy file info for <volume>: failed to chown <volume>: lchown ...: operation not
    # permitted" when the volume (an EFS access point's enforced POSIX user) refuses the image's owner.
    r"|(?:failed to copy file info for|failed to chown|lchown) /var/lib/(?:ecs|docker)/volumes/"
    # Fargate seeding a task volume with what the image holds at the mount path: "failed to copy existing contents to
    # task volume", "unable to copy contents from the image ...".
    r"|(?:failed|unable) to copy (?:existing )?contents (?:to (?:task )?volume|from the image)"
    # Docker refusing the volume itself: a source that is no absolute path is read as a volume name ('"./conf"
    # includes invalid characters for a local volume name'), or the volume driver (plugin) the volume names is not
    # there ('error looking up volume plugin amazon-ecs-volume-plugin: plugin "..." not found').
    r"|invalid characters for a local volume name|looking up volume plugin",
    re.IGNORECASE,
)
# The ECS agent's HostConfigError: "...; invalid path: <container> <sourceVolume>; <sourcePath> -> <containerPath>",
# either path possibly empty, and "Invalid volume referenced: <sourceVolume>".
_HOST_BIND = lazy_re(r"Unable to resolve volume mounts; invalid path: (?P<c>\S+) (?P<v>\S+); ?(?P<src>\S*) -> ?(?P<dst>\S*)",
                     re.IGNORECASE)
_BAD_REFERENCE = lazy_re(r"Invalid volume referenced: ([^\s;]+)", re.IGNORECASE)
_MOUNT_SAID = lazy_re(r"mount|EFS|volume", re.IGNORECASE)
# That cut reason: what failed in rootfs_linux.go is inferred, not read (see VolumeMountFailed.match).
_CUT_ROOTFS = lazy_re(r"rootfs_linux\.go:\d+(?:\\*\")*\s*$")
_FS = lazy_re(r"\bfs-(?:[0-9a-f]{8,17}|[0-9a-f]{4,16}x{2,})\b")  # reporters mask the tail: fs-0795841054xxxx
_AP = lazy_re(r"\bfsap-[0-9a-f]{8,17}\b")
_VOLUMES = (
    # the agent's own wordings: "...; invalid path: <container> <sourceVolume>; <sourcePath> -> <containerPath>"
    lazy_re(r"Unable to resolve volume mounts; invalid path: \S+ (\S+);", re.IGNORECASE),
    lazy_re(r"Invalid volume referenced: ([^\s;]+)", re.IGNORECASE),
    lazy_re(r"mount source path '([^']+)'"),
    lazy_re(r"\bcreate ([\w.-]+): VolumeDriver"),  # docker: "create pgdata: VolumeDriver.Create: ..."
    lazy_re(r"\"([^\"\s]+)\" includes invalid characters for a local volume name"),
    lazy_re(r"bind source path does not exist:?\s*['\"]?([\w/.-]{2,})", re.IGNORECASE),
    # runc: mounting \"/opt/conf/app\" to rootfs \"/var/lib/docker/...\" (quotes escaped once or more)
    lazy_re(r"rootfs_linux\.go:\d+: mounting \\*\"?(/[^\s\"\\]+)\\*\"? to rootfs"),
    lazy_re(r"volume\s+['\"]([\w/.-]{2,})['\"]", re.IGNORECASE),
    lazy_re(r"volume[\s:]+([\w/.-]{2,})", re.IGNORECASE),
)
_NOT_A_NAME = {"failed", "driver", "is", "not", "does", "mount", "mounting", "for", "the", "with", "error", "plugin",
               "on", "in", "to", "at", "of", "from", "unable", "name", "host", "copy", "contents"}
# "unable to copy contents to volume on host": the runtime copies the IMAGE's `VOLUME` directories into a fresh
# volume; a failure there is the image store, not a task volume or file system.
_IMAGE_VOLUME_COPY = lazy_re(r"copy contents to volume", re.IGNORECASE)


# Why the mount failed, first row that matches: a read-only file system, denied, a file system EFS
# does not know, a name that does not resolve, a missing path or volume, the network path.
_CAUSES = (
    Cause("read-only", words("read-only file system")),
    Cause("access-denied", words("access denied", "accessdenied", "permission denied",
                                 "not authorized", "operation not permitted")),
    Cause("not-found", words("filesystemnotfound")),
    Cause("network", words("failed to resolve")),
    Cause("not-found", words("does not exist", "no such file", "no such volume", "not found")),
    Cause("network", words("timed out", "timeout", "connection refused", "no route to host", "network is unreachable",
                           "connection reset")),
    # Go's wording of a timeout, when it is the mount (or the volume plugin mounting it) that never answered:
    # "VolumeDriver.Create: context deadline exceeded". Not the runtime reading the image ("failed to get image
    # reference: context deadline exceeded" while copying an image's VOLUME contents).
    Cause("network", lazy_re(r"(?:VolumeDriver\.\w+|\bmount(?:ing)?\b)[^\n]{0,120}?deadline exceeded", re.IGNORECASE)),
)


# "mounting fs-0124b682.efs.us-east-1.amazonaws.com:/var/jenkins_home failed, reason given by server: No such
# file or directory": the file system answered, so it exists; the directory it was asked for does not.
_SERVER_NO_DIR = lazy_re(r"\b(fs-[^:\n]*?)(?:\.efs\.[^:\n]*)?:(?P<path>/[^\s,']*)\s.*?"
                            r"(?:reason given by server|server).{0,20}no such file or directory", re.IGNORECASE | re.DOTALL)


# Docker's error creating a bind mount's host directory: "error while creating mount source path '/opt/x/data':
# mkdir /opt/x: read-only file system" (the path, then the directory mkdir failed on).
_SOURCE_PATH = lazy_re(r"(?:creating mount source path|bind source path)[^'\"\n]{0,20}['\"]?(?P<path>/[^'\"\s:]*)"
                       r"(?:['\"]?:?\s*(?P<verb>mkdir|stat|lstat|chown) (?P<parent>/[^:\s]*))?", re.IGNORECASE)
# runc creating a mount point in the container's root file system: Docker's overlay merged directory,
# 'mkdir /var/lib/docker/overlay2/<id>/merged/etc/nginx/sites-enabled: read-only file system', or containerd's task
# bundle (Fargate, containerd on EC2), 'mkdir /run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/rootfs/etc/x: ...'.
_ROOTFS_MKDIR = lazy_re(r"mkdir (?:/var/lib/docker/[\w-]+/[\w-]+/merged|/run/containerd/io\.containerd\.runtime\.v\d\.\w+"
                        r"/[\w.-]+/[\w.-]+/rootfs)(?P<path>/[^:\s]*): read-only file system", re.IGNORECASE)
_READ_ONLY = lazy_re(r"read-only file system|\bEROFS\b", re.IGNORECASE)


def _host_source(said: str) -> tuple[str, str, bool] | None:
    """(the bind mount's host path, the directory Docker failed on, whether it failed to create that directory)
    when the message names a host source path."""
    m = _SOURCE_PATH.search(said)
    if m is None:
        return None
    return m.group("path"), m.group("parent") or m.group("path"), (m.group("verb") or "").lower() == "mkdir"


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


# efs-utils' mount refused by the NFS server: the file system policy (IAM) decided, not POSIX permissions.
_SERVER_DENIED = lazy_re(r"access denied by server", re.IGNORECASE)
# The refusal names the IAM identity or action: IAM authorization was on, so the role's grant is what is missing.
_ROLE_NAMED = lazy_re(r"assumed-role/|is not authorized to perform|elasticfilesystem:Client", re.IGNORECASE)
# mount.nfs4 mounting the file system's own name, or a mount target's IP (efs-utils' fallback when the name does not
# resolve), rather than efs-utils' TLS tunnel on 127.0.0.1: no encryption in transit, and so no IAM authorization,
# which needs it.
_PLAIN_NFS = lazy_re(r"while mounting (?:(?P<fs>fs-[0-9a-f]+)\.efs\.|(?P<ip>(?!127\.)\d{1,3}(?:\.\d{1,3}){3}):)",
                     re.IGNORECASE)
# A plain NFS server (not EFS) refusing the mount: "access denied by server while mounting 10.0.5.20:/exports/data".
_NFS_TARGET = lazy_re(r"while mounting ([\w.-]+):(/[^\s'\"]*)", re.IGNORECASE)
_MASKED = lazy_re(r"x{2,}$")


def _efs_policy_refused_steps(ev: Evidence, fs: str | None, said: str) -> list[str]:
    """EFS refused the mount ("access denied by server"): lead with the volume's IAM authorization (what must change
    first when the file system policy requires IAM), read from the task definition, then the task role's grant."""
    region = remedy.region(ev) or remedy.REGION_UNKNOWN
    exact = fs if fs and not _MASKED.search(fs) else None
    pick = (f"volumes[?efsVolumeConfiguration.fileSystemId=='{exact}']" if exact else
            "volumes[?efsVolumeConfiguration]")
    show = remedy.describe_task_definition(ev, f"taskDefinition.{{taskRoleArn: taskRoleArn, volumes: {pick}}}")
    roll = remedy.roll_out(ev)
    enable = ("Set `\"authorizationConfig\": {\"iam\": \"ENABLED\"}` and `\"transitEncryption\": \"ENABLED\"` (IAM "
              "authorization needs it) in that volume's `efsVolumeConfiguration`, register the revision and roll it "
              f"out: {roll}")
    plain = _PLAIN_NFS.search(said)
    if plain:
        went = (f"`{plain.group('fs')}`'s own address" if plain.group("fs") else
                f"the mount target's IP `{plain.group('ip')}`")
        first = (f"The EFS server refused the mount, and it went to {went}, not through "
                 "efs-utils' TLS tunnel on 127.0.0.1: the volume mounts without `transitEncryption`, and so without "
                 "IAM authorization, which needs it, and a file system policy that grants access only to IAM "
                 f"principals refuses such an anonymous client. See the volume's `efsVolumeConfiguration`: `{show}`. "
                 + enable + ".")
    else:
        first = ("The EFS server refused the mount: its file system policy did not allow this client. See the "
                 f"volume's `efsVolumeConfiguration` (and the task role): `{show}`. If `authorizationConfig.iam` is "
                 "not `ENABLED`, the task mounts as an anonymous client, which a file system policy that grants "
                 "access only to IAM principals refuses. " + enable + ".")
    if exact:
        policy = f": `aws efs describe-file-system-policy --file-system-id {exact} --region {region}`"
    else:
        read = remedy.read_into("fs", remedy.describe_task_definition(
            ev, f"taskDefinition.{pick} | [0].efsVolumeConfiguration.fileSystemId"))
        policy = f", in bash: ```\n{read}\naws efs describe-file-system-policy --file-system-id \"$fs\" --region {region}\n```"
    second = ("With `iam` ENABLED, the task role (`taskRoleArn`, not the execution role) must be allowed "
              "`elasticfilesystem:ClientMount` (and `ClientWrite` if writing) on the file system, by its IAM policy or "
              "by the file system policy (an explicit Deny in either wins); read the file system policy" + policy)
    return [first, second]


class VolumeMountFailedFacts(Facts):
    """The facts of volume-mount-failed."""

    cause: str | None = Field(None, description="access-denied, read-only, not-found, network, ...")
    file_system: str | None = Field(None, description="The file system id.")
    volume: str | None = Field(None, description="The volume name.")
    access_point: str | None = Field(None, description="The EFS access point.")


# Docker's copy-up into a fresh volume refused at the chown: "failed to chown <volume>: lchown ...: operation not permitted".
_COPY_UP_CHOWN = lazy_re(r"(?:failed to chown|lchown)[^\n]{0,300}?operation not permitted", re.IGNORECASE)
# The runtime refusing an image that declares VOLUME: "unsupported: Dockerfile contains VOLUME instruction".
# Docker copying the image's files into a fresh task volume ("copy up"): "failed to copy file info for
# /var/lib/ecs/volumes/<volume>", "failed to chown /var/lib/docker/volumes/<volume>".
_TASK_VOLUME_COPY = lazy_re(r"failed to (?:copy file info for|chown) /var/lib/(?:ecs|docker)/volumes/", re.IGNORECASE)
_VOLUME_INSTRUCTION = lazy_re(r"contains VOLUME instruction|VOLUME instruction[^\n]{0,40}not supported", re.IGNORECASE)
# "VolumeDriver.Create: docker-legacy: Create: data: failed": a Docker volume plugin's name; else the plugin's
# socket the daemon called: "Post http://%2Frun%2Fdocker%2Fplugins%2Famazon-ecs-volume-plugin.sock/VolumeDriver.Create"
_DRIVER = lazy_re(r"VolumeDriver\.\w+: ([\w./:-]+?):? |(?:/|%2F)plugins(?:/|%2F)([\w.-]+?)\.sock\b"
                  r"|looking up volume plugin ([\w./:-]+?):", re.IGNORECASE)
# Docker did not find the volume plugin itself (not the volume): 'error looking up volume plugin X: plugin "X" not found'.
_PLUGIN_MISSING = lazy_re(r"looking up volume plugin [^\n]*?plugin \S+ not found", re.IGNORECASE)
# Docker read a source that is no absolute path as a volume name: '"./conf" includes invalid characters for a local
# volume name'.
_RELATIVE_SOURCE = lazy_re(r"\"(\.{1,2}/[^\"\s]*|[^/\"\s][^\"\s]*/[^\"\s]*)\" includes invalid characters for a local volume name")


class VolumeMountFailed(ReasonPattern):
    id = "volume-mount-failed"
    priority = 170
    severity = "critical"
    Facts = VolumeMountFailedFacts
    key_facts = ("file_system", "volume", "cause")
    needs = frozenset({"network"})
    signal = _SIGNAL
    causes = _CAUSES
    container_fact = True

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The network path only explains a network failure."""
        return self.needs if facts.get("cause") == "network" else frozenset()

    def find(self, ev: Evidence) -> tuple[str, str, re.Match[str]] | None:
        return find_in_reasons(ev, self.signal)  # the stop reasons only, never a pasted log line

    def match(self, ev: Evidence) -> Match | None:
        m = super().match(ev)
        if m is not None and all(_CUT_ROOTFS.search(p.text) and not _MOUNT_SAID.search(p.text) for p in m.proofs):
            # The reason stops at runc's rootfs_linux.go: a mount, most likely, but not read. Still more specific
            # than a bare "could not start the container", less sure than a reason that says so.
            m = replace(m, confidence=0.6)
        return m

    def facts(self, text: str, m: re.Match[str], ev: Evidence) -> dict:
        facts: dict = {}
        fs = _FS.search(text)
        if fs is None:
            # ECS's reason often says only "127.0.0.1:/"; the agent's or efs-utils' log names the file system.
            fs = next((f for i in ev.logs.lines_with("fs-") if (f := _FS.search(ev.logs.texts[i]))), None)
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
        return facts

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        target = f.get("file_system") or f.get("volume")
        name = f"`{target}`" if target else "the volume"
        cause = f.get("cause")
        region = remedy.region(ev) or remedy.REGION_UNKNOWN
        steps: list[str] = []
        said = " ".join([ev.reason_text, *(p.text for p in m.proofs)])
        # An EFS mount that failed on the network, with or without the file system's id in the message: the id
        # is read from the task definition when the message does not give it, so the command runs as pasted.
        # amazon-ecs-volume-plugin is the ECS agent's own plugin that mounts EFS volumes on EC2 instances: its
        # failure is the NFS path (mount target, port 2049, DNS), not a third-party plugin to install.
        ecs_plugin = "amazon-ecs-volume-plugin" in said.lower()
        efs = f.get("file_system") or ecs_plugin or ("efs" in said.lower() and not f.get("volume"))
        if cause in ("network", None) and efs:
            fs = f.get("file_system")
            read = "" if fs else (remedy.read_into("fs", remedy.describe_task_definition(
                ev, "taskDefinition.volumes[?efsVolumeConfiguration] | [0].efsVolumeConfiguration.fileSystemId")) + "\n")
            targets = "aws efs describe-mount-targets --file-system-id " + (fs or '"$fs"')
            listing = f"`{targets}`" if fs else f"```\n{read}{targets}\n```"
            timed = re.search(r"(?i)timed? ?out|deadline exceeded", said)
            sg = f"the mount target's security group admits TCP 2049 (NFS) from {remedy.sender_groups(ev)}"
            steps.append((f"The NFS mount timed out, which is what a security group that drops it gives: make sure "
                          f"{sg}, and that the file system has a mount target in every subnet/AZ the task uses: "
                          f"{listing}" if timed and not fs else
                          f"Make sure {name if fs else 'the EFS file system'} has a mount target in every subnet/AZ "
                          f"the task uses ({listing}), and that {sg}") + ".")
            # Only a name that did not resolve points at the VPC's DNS settings; a mount that timed out resolved.
            if re.search(r"(?i)resolve|resolution|name or service not known|no such host|getaddrinfo|dns", said):
                steps.append("The VPC needs DNS resolution and DNS hostnames enabled for "
                             + (f"`{fs}.efs.{region}.amazonaws.com`" if fs else "the file system's name")
                             + " to resolve. (Why: the file system's name did not resolve.)")
        if cause == "access-denied" and _COPY_UP_CHOWN.search(said):
            # Docker copying the image's files AND owners into a fresh volume: an EFS access point (or a file system)
            # that enforces its own POSIX user refuses the chown; IAM is not involved.
            steps.append("Docker copies what the image holds at the mount path, with its owners, into the new volume, "
                         "and the volume refused to change the owner (`lchown`: operation not permitted), which an "
                         "EFS access point that enforces a POSIX user does: make the image's directory at the "
                         "mount path owned by the access point's posixUser uid:gid (a `chown` in the Dockerfile), or "
                         "mount the volume at a path that is empty in the image so nothing is copied, or use an "
                         "access point whose posixUser matches the files' owner.")
        elif cause == "read-only" and not efs and (inside := _ROOTFS_MKDIR.search(said)):
            # runc making the mount point inside the container's own root file system, which is read-only: the
            # container path does not exist in the image. Not the volume, nor EFS.
            target = "/" + inside.group("path").strip("/\\\"")
            parent = posixpath.dirname(target) or "/"
            steps.append(f"The mount point `{target}` does not exist in the container, and runc could not create it "
                         f"because `{parent}` is read-only there: either the container's root file system is "
                         "(`readonlyRootFilesystem: true` in its container definition), or another of its "
                         f"`mountPoints` with `readOnly: true` covers `{parent}` and has no `{posixpath.basename(target)}` "
                         f"in it. Create the directory where it is missing (`RUN mkdir -p {target}` in the "
                         "Dockerfile, or in the host directory the other mount brings), or mount at a path that "
                         f"already exists; then roll it out: {remedy.roll_out(ev)}.")
        elif cause in ("access-denied", "read-only") and not efs and (host_path := _host_source(said)):
            # Docker on the container instance could not create (or use) a bind mount's host directory: the
            # instance's own file system, not EFS or IAM.
            path, parent, made = host_path
            if _READ_ONLY.search(said):
                above = posixpath.dirname(parent.rstrip("/")) or "/"
                steps.append(f"Docker could not create the bind mount's host directory `{path}` on the container "
                             f"instance: making `{parent}` failed because that part of the instance's file system is "
                             "read-only (as on Bottlerocket and other immutable hosts, whose root file system is "
                             "read-only). Move the volume's host `sourcePath` to a directory on a writable file "
                             f"system of the instance (`findmnt -no OPTIONS -T {remedy.q(above)}` on the instance "
                             "shows `ro` there; the new directory's must read `rw`), register the revision and roll "
                             f"it out: {remedy.roll_out(ev)}. Creating the directory ahead in the AMI helps only a "
                             "container that never writes there.")
            else:
                # A directory mkdir could not create does not exist: what denied it is its existing parent.
                inspect = (posixpath.dirname(parent.rstrip("/")) or "/") if made else parent
                steps.append(f"Docker could not create or use the bind mount's host directory `{path}` on the "
                             "container instance: on the instance check its parent's owner and mode and any SELinux "
                             f"label (`ls -ldZ {remedy.q(inspect)}`), create the directory in the instances' user "
                             "data, or move the volume's host `sourcePath` to a directory Docker may create.")
        elif cause == "access-denied" and efs and _SERVER_DENIED.search(said) and not _ROLE_NAMED.search(said):
            # The NFS server (the file system policy) refused the client, and no role is named: a task mounting with
            # IAM authorization off is anonymous, which a policy granting only IAM principals refuses. Which way the
            # volume mounts is read first; only with IAM on does the task role's grant matter.
            steps += _efs_policy_refused_steps(ev, f.get("file_system"), said)
        elif cause == "access-denied" and not efs and _SERVER_DENIED.search(said) and (nfs := _NFS_TARGET.search(said)):
            # Another NFS server (a volume plugin's, an instance's own mount) refused the export: its export list
            # decides, not EFS or IAM.
            host, path = nfs.group(1), nfs.group(2)
            steps.append(f"The NFS server `{host}` refused to export `{path}` to this client (`access denied by "
                         "server`): its export list does not allow the container instance's address, or does not "
                         f"export that path. On the instance, `showmount -e {remedy.q(host)}` lists what it exports "
                         "to whom; on the server, add the instance's address or subnet to that path's entry in "
                         "`/etc/exports` and run `exportfs -ra`, or fix the volume's path.")
        elif cause in ("access-denied", "read-only"):
            steps.append(f"Allow the TASK role `elasticfilesystem:ClientMount` (and `ClientWrite` if writing) on "
                         f"{name} (IAM authorization needs `authorizationConfig.iam: ENABLED` and "
                         "`transitEncryption: ENABLED` in the task definition's efsVolumeConfiguration), check the "
                         "file system policy, and the access point's POSIX user/permissions.")
        missing_dir = _missing_directory(m) if cause == "not-found" else None
        if missing_dir is not None:
            steps += _create_directory_steps(ev, f.get("file_system"), missing_dir, f.get("access_point"))
        elif cause == "not-found" and not any(_PLUGIN_MISSING.search(p.text) for p in m.proofs):
            where = ("fileSystemId, accessPointId, rootDirectory" if remedy.is_fargate(ev) or f.get("file_system")
                     else "fileSystemId, accessPointId, rootDirectory, or the bind mount's host `sourcePath`")
            steps.append(f"Check {name} exists in {region} and the task definition's `volumes[]` ({where}).")
        driver = next((d.group(1) or d.group(2) or d.group(3) for p in m.proofs if (d := _DRIVER.search(p.text))), None)
        relative = next((r.group(1) for p in m.proofs if (r := _RELATIVE_SOURCE.search(p.text))), None)
        if relative and not steps:
            steps.append(f"`{relative}` is not an absolute path, so Docker took it for the name of a volume and refused "
                         "it: give the volume's `host.sourcePath` an absolute path on the container instance (in a "
                         "compose file, write the host side of the bind mount as an absolute path), then register "
                         f"the revision. See what the task definition says: `{remedy.describe_task_definition(ev, 'taskDefinition.volumes')}`.")
            driver = None
        said = " ".join(p.text for p in m.proofs)
        image_copy = not steps and not f.get("file_system") and bool(_IMAGE_VOLUME_COPY.search(said))
        if image_copy:
            timed_out = re.search(r"deadline exceeded|timed? ?out", said, re.IGNORECASE)
            if remedy.is_fargate(ev):
                # Fargate: no instance of the team's to drain or read; the host is AWS's.
                steps.append("No task volume or file system is involved: the runtime was copying the image's own "
                             "`VOLUME` directories (declared in its Dockerfile) into a fresh volume on the Fargate "
                             "host, and "
                             + ("the runtime timed out reading the image: a fault of that host, which is AWS's. "
                                if timed_out else "that copy failed on the host's image store. ")
                             + f"Retry the task ({remedy.start_again(ev)}); if it recurs, open an AWS Support case "
                               "with the task ARN and the time of the stop.")
            else:
                steps.append("No task volume or file system is involved: the runtime was copying the image's own "
                             "`VOLUME` directories (declared in its Dockerfile) into a fresh volume on the container "
                             "instance, and "
                             + ("the runtime timed out reading the image, which points at a slow or overloaded "
                                "instance: its disk I/O (EBS burst balance, IOPS) or a busy Docker/containerd. "
                                if timed_out else "that copy failed on the instance's image store. ")
                             + "Retry the task; if it recurs on the same instance, drain and replace it, and read "
                               "`sudo journalctl -u docker -u containerd` there.")
            steps.append("To avoid the copy altogether, drop the `VOLUME` instruction from the image (or mount a "
                         "task volume at that path), so nothing is copied at container creation.")
            driver = None
        copy_up = _TASK_VOLUME_COPY.search(said) if not steps else None
        if copy_up:
            # Docker fills an empty task volume with what the image holds at the mount path (files and owners)
            # when it creates the container: that copy failed on the host, no driver or network was involved.
            query = "taskDefinition.[volumes, containerDefinitions[].[name, image, mountPoints]]"
            steps.append("Docker was copying what the image holds at the mount's container path (files and their "
                         "owners) into the new, empty task volume on the "
                         + ("Fargate host" if remedy.is_fargate(ev) else "container instance")
                         + ", and the copy (its chown) failed; no volume driver or network is involved. Find the "
                         "mount's `containerPath` and the image: "
                         f"`{remedy.describe_task_definition(ev, query)}`, and list what the image has there "
                         + (f"(`ls -la` of that path in `docker run --rm -it --entrypoint sh {remedy.q(image)}`)"
                            if (image := remedy.image(ev, f.get("container") or ev.primary)) else
                            "(`ls -la` of that path in a shell of the image)")
                         + ". Mount the volume at a path that is "
                         "empty in the image (so nothing is copied), or fix the files' owners in the image (a "
                         "`chown` in the Dockerfile to the user the container runs as)"
                         + ("." if remedy.is_fargate(ev) else
                            "; on the instance, check that the file system under the volume path accepts owners "
                            "(not a full disk, nor an NFS/EFS mount that squashes root): `df -h /var/lib/ecs/volumes` "
                            "and `sudo journalctl -u docker`."))
        if not steps and _VOLUME_INSTRUCTION.search(said):
            # The platform refuses images that declare VOLUME (Windows containers on Fargate): no task volume is
            # involved, whatever name the message seems to give.
            image = remedy.image(ev, f.get("container") or ev.primary)
            steps.append("The image declares a `VOLUME` in its Dockerfile (or inherits one from its base image), "
                         + ("which Windows containers on Fargate do not support" if remedy.is_windows(ev) else
                            "which this platform refuses")
                         + ": remove the `VOLUME` lines (a base image's too: rebuild FROM one without them), or "
                         "run the task on EC2 instances; list what the image declares with "
                         + (f"`docker inspect --format '{{{{json .Config.Volumes}}}}' {remedy.q(image)}`" if image
                            else "`docker inspect --format '{{json .Config.Volumes}}' IMAGE`")
                         + f". Then push the new image and roll it out: "
                         f"{remedy.roll_out_image(ev, f.get('container') or ev.primary)}.")
            driver = None
        if driver and not steps and driver.lower() == "amazon-ecs-volume-plugin" and \
                any(_PLUGIN_MISSING.search(p.text) for p in m.proofs):
            # The ECS agent's own plugin (it mounts EFS volumes on EC2) is a service of ecs-init, not a managed plugin.
            steps.append("Docker did not find `amazon-ecs-volume-plugin`, the ECS agent's plugin that mounts EFS "
                         "volumes on EC2 instances: it ships with `ecs-init` (the ECS-optimized AMI has it) and runs "
                         "as a service, which is not running on this instance. On the instance run `sudo systemctl "
                         "enable --now amazon-ecs-volume-plugin`, and add the same command to the instances' user "
                         "data so every new instance has it.")
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
        cut = next((c for p in m.proofs if (c := _CUT_ROOTFS.search(p.text))), None)
        if cut and not steps:
            at = cut.group(0).rstrip('\\" \n')
            steps.append(f"ECS cut the runtime's message at `{at}`: runc's step that mounts the task's volumes and bind "
                         "mounts into the container's file system, so a mount failed, but which one and why was cut "
                         "off. List the container's `mountPoints[]` and the task's `volumes[]`: "
                         f"`{remedy.describe_task_definition(ev, 'taskDefinition.[volumes, containerDefinitions[].[name, mountPoints]]')}`. "
                         "For each mount, the container path must be one the image can take a mount at (a file over a "
                         "directory, or the reverse, fails there); for an EFS volume (with or without an access point), "
                         "the file system needs a mount target in the task's subnets whose security group admits TCP "
                         "2049 from " + remedy.sender_groups(ev) + ", and the access point's root directory must exist "
                         "or be created by its `CreationInfo`.")
        bind = _HOST_BIND.search(said) if not steps else None
        if bind:
            # The ECS agent could not turn a mount point into a Docker bind: the task definition, not the network.
            cname, vol, dst = bind.group("c"), bind.group("v"), bind.group("dst")
            query = (f"taskDefinition.[volumes[?name=='{vol}'], containerDefinitions[?name=='{cname}'].mountPoints]"
                     if re.fullmatch(r"[\w.-]+", vol) and re.fullmatch(r"[\w.-]+", cname) else
                     "taskDefinition.[volumes, containerDefinitions[].[name, mountPoints]]")
            if not dst:
                what = (f"the mount point of `{vol}` has no `containerPath`: set it (an absolute path in the "
                        "container)")
            else:
                what = (f"the volume `{vol}` resolved to no host path (source empty -> `{dst}`): give it "
                        "`host.sourcePath` (an absolute path on the instance) for a bind mount; a scratch volume with "
                        "no source path is created by the ECS agent, so if that is what you meant, update the agent "
                        "(old agents created it through a helper container, which fails when the instance's Docker "
                        "storage is full: check `docker info` there)")
            steps.append(f"The ECS agent could not bind volume `{vol}` into container `{cname}`: {what}. See what "
                         f"the task definition says: `{remedy.describe_task_definition(ev, query)}`.")
        referenced = _BAD_REFERENCE.search(said) if not steps else None
        if referenced:
            steps.append(f"A mount point names the volume `{referenced.group(1)}`, which the task definition's "
                         "`volumes[]` does not define: make its `sourceVolume` match a volume's `name` exactly (case "
                         "and punctuation), or add that volume; then register the revision. See both: "
                         f"`{remedy.describe_task_definition(ev, 'taskDefinition.[volumes[].name, containerDefinitions[].[name, mountPoints]]')}`.")
        if not steps:
            steps.append("Check the task definition's `volumes[]` and `mountPoints[]`, and that the volume "
                         "driver or file system is reachable from "
                         + ("the task's subnets." if remedy.network_mode(ev) == "awsvpc" else
                            "the container instances (bridge/host networking: the instance mounts it)."))
        pv = ev.detail.platform_version or ""
        if remedy.is_fargate(ev) and f.get("file_system") and pv not in ("LATEST",) and not pv.startswith("1.4"):
            steps.append(f"On Fargate, EFS needs platform version 1.4.0 or later (this task ran {pv or 'an unknown version'}).")
        steps[0] += remedy.cite(m)
        return Explanation(
            title=("Could not copy the image's VOLUME contents on the container instance" if image_copy else
                   "The image declares a VOLUME, which this platform refuses" if _VOLUME_INSTRUCTION.search(said) else
                   f"Could not mount {target or 'a volume'}" + (f" ({cause})" if cause else "")),
            summary=("The container runtime failed at the step that mounts the task's volumes into the container (ECS "
                     "cut its message there), so the container never started." if cut and not cause and not target else
                     f"ECS could not create or mount {name} for the task, so the container never started"
                     + (": a directory had to be created on a read-only file system." if cause == "read-only" else f": {cause.replace('-', ' ')}." if cause else ".")),
            remediation=steps,
        )


PATTERN = VolumeMountFailed()
