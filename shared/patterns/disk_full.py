"""disk-full: storage exhausted (task ephemeral storage or the host's Docker storage).

Signals: "No space left on device"; ENOSPC; Python "[Errno 28]"; devmapper "Thin Pool has N free
data blocks which is less than minimum required"; SQLite "database or disk is full"; Windows
"There is not enough space on the disk". Facts: path (where the write failed), container.
Most specific: an image pull that fails while extracting a layer for lack of space is disk-full,
not image-pull-failed.
"""

from __future__ import annotations

import re

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    container_for_line,
    container_for_reason,
    find_in_logs,
    find_in_reasons,
    log_proof,
    reason_proof,
    strip_quotes,
)
from shared.scan import lazy_re

_SIGNAL = lazy_re(
    r"no space left on device|\bENOSPC\b|\[Errno 28\]|Thin Pool has \d+ free data blocks"
    r"|database or disk is full|not enough space on the disk|disk quota exceeded",
    re.IGNORECASE,
)
# A process acting on a full disk: "Making agent offline temporarily due to the lack of disk space"
_LOW_DISK = lazy_re(r"due to (?:the )?(?:lack of|low|insufficient) (?:free )?disk space"
                       r"|\b(?:going offline|shutting down|stopping|exiting|aborting)\b.{0,60}\b(?:disk space|disk full)\b",
                       re.IGNORECASE)
_NEEDLES = ("no space left", "enospc", "errno 28", "thin pool", "disk is full", "not enough space", "quota exceeded")
_PATHS = (
    lazy_re(r"ENOSPC: no space left on device, \w+ '([^']+)'", re.IGNORECASE),
    lazy_re(r"\[Errno 28\] No space left on device: '([^']+)'", re.IGNORECASE),
    lazy_re(r"\b(?:write|open|mkdir|create|copy|rename|link|symlink|extract|mkdirat|openat)\s+(/[^\s:]+):\s*no space left",
               re.IGNORECASE),
    # A path, then ':' (tar's "Cannot write: "): the first '/' of a run of path characters (or the quote before it)
    # is the first start that can match, and every start in the run ends the path at the same place: the search starts
    # at runs only, skipping what comes before the first '/' (each '/' of a 16 KB "/a/a/..." run read the rest again).
    lazy_re(r"(?:(?<![^\s'\":])[^\s'\":/]*+|(?=['\"]/))(['\"]?/[^\s'\":]++['\"]?):\s*(?:Cannot write: )?No space left on device",
            re.IGNORECASE),
    lazy_re(r"No space left on device[^/\n]{0,40}(/[^\s'\",)]+)", re.IGNORECASE),
    lazy_re(r"\bpath:? ['\"](/[^'\"]+)['\"]"),
    lazy_re(r"(?<![\w./-])[\w.-]*+(/[\w./-]++) is full\b"),  # (the same: from the first '/' of a run)
    lazy_re(r"\b\w+\(\) \"(/[^\"]+)\" failed \((?:28|122): "),  # nginx: pwritev() "/path" failed (28: No space ...)
    lazy_re(r"(?:saving|writing|creating|opening|copying|moving) (?:the )?(?:file|directory|dir|to)?:? ['\"]?(/[^\s'\":,]+)",
               re.IGNORECASE),
    lazy_re(r"\((/(?:tmp|var|data|mnt|scratch|srv|home|app)/[^\s)]+)\)"),
)
_THIN_POOL = lazy_re(r"Thin Pool has (\d+) free data blocks which is less than minimum required (\d+)",
                        re.IGNORECASE)


# A directory where an application keeps its data (a database's data dir, a data store's WAL, /data):
# when it fills, the volume behind it is too small; Docker's image storage has nothing to do with it.
_DATA_DIR = lazy_re(
    r"^(?P<root>/data|/var/lib/(?!docker\b|containerd\b)[\w.-]+|(?:/[\w.-]+)*?/(?:pgdata|postgres(?:ql)?|mysql|mariadb|mongo(?:db)?|"
    r"redis|elasticsearch|opensearch|clickhouse|cassandra|influxdb|kafka(?:-logs)?|zookeeper|etcd|prometheus|"
    r"minio|rabbitmq|neo4j|couchdb|solr))(?:/|$)", re.IGNORECASE)


def data_root(path: object) -> str | None:
    """The data directory a full path lies in (/pgdata, /var/lib/mysql, /data), or None for Docker's
    own storage, temp files and other paths."""
    m = _DATA_DIR.match(str(path or ""))
    return m.group("root") if m else None


def _data_volume_steps(ev: Evidence, f: dict, path: str, root: str, m: Match) -> list[str]:
    """The filesystem behind an application data directory is full: find the volume, grow it, find what grows."""
    name = f.get("container") or ev.primary
    query = (f"taskDefinition.{{mounts: containerDefinitions[?name=='{name}'].mountPoints, volumes: volumes}}"
             if name else "taskDefinition.{mounts: containerDefinitions[].mountPoints, volumes: volumes}")
    layer = "the task's ephemeral storage" if remedy.is_fargate(ev) else "the container instance's Docker storage"
    grow = ("an ECS-managed EBS volume (`configuredAtLaunch`) sized for the data" if remedy.is_fargate(ev) else
            "an EBS volume sized for the data: an ECS-managed EBS volume (`configuredAtLaunch`), or a host path "
            "on a larger data volume of the instances")
    return [f"`{path}` is the application's data (`{root}`), not Docker's image cache: the filesystem behind "
            f"`{root}` is full. See which volume the task definition mounts there: "
            f"`{remedy.describe_task_definition(ev, query)}`. A volume: grow it (the EBS volume's size; EFS does "
            f"not fill). No volume: the data lives in the container's writable layer on {layer}, and is lost with "
            f"every replacement task; give `{root}` {grow}.{remedy.cite(m)}",
            f"Then find what keeps growing under `{root}` and bound it: {_grower(ev, name, path)}, a cache without "
            "eviction, old backups or logs, data past its retention."]


def _grower(ev: Evidence, name: str | None, path: str) -> str:
    """What usually grows in this data store: by the image or path (a Postgres WAL is not a Prometheus WAL)."""
    what = f"{remedy.image(ev, name) or ''} {path}".lower()
    if "prometheus" in what:
        return ("the Prometheus TSDB (its WAL and blocks; cap it with `--storage.tsdb.retention.size` and "
                "`--storage.tsdb.retention.time`)")
    if "postgres" in what or "pgdata" in what:
        return "Postgres' write-ahead log (a stuck replication slot or failing WAL archiving)"
    return "a data store's write-ahead log or journal"


class DiskFullFacts(Facts):
    """The facts of disk-full."""

    during: str | None = Field(None, description="What was being written (image extraction, the application).")
    free_blocks: int | None = Field(None, description="Free blocks reported.")
    path: str | None = Field(None, description="The full path or mount.")
    required_blocks: int | None = Field(None, description="Blocks needed.")
    storage: str | None = Field(None, description="ephemeral storage, a volume, ...")


# Run inside the container that did the writing (a fresh one shows only the image's files)
_DU_CMD = "du -xh / 2>/dev/null | sort -h | tail -20"


class DiskFull(Pattern):
    id = "disk-full"
    priority = 200
    severity = "critical"
    Facts = DiskFullFacts
    key_facts = ("path",)
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, _SIGNAL)
        if hit:
            source, text, _ = hit
            return self._build(text, [reason_proof(source, text)], container_for_reason(ev, source),
                               Stage.PLATFORM, None, ev)
        found = find_in_logs(ev, _NEEDLES, _SIGNAL)
        warned = None if found else self._last_word_warning(ev)
        if warned:
            # The process was stopped because its disk ran low (the stop may even look user-initiated:
            # a CI controller takes the agent offline): a resource outside the application.
            i = warned[0]
            return self._build(ev.logs.texts[i], [log_proof(ev, i)], container_for_line(ev, i), Stage.PLATFORM, i, ev)
        if found:
            i, _ = found
            logs = ev.logs
            # The path is often on a neighbouring line of the same entry (Node error objects, tracebacks).
            lo, hi = max(logs.block_start(i), i - 8), min(logs.block_end(i), i + 8)
            near = [logs.texts[i]] + [logs.texts[j] for j in range(lo, hi + 1) if j != i]
            # Then the lines just before each earlier report of the same error: apps often log what they
            # were writing ("Exception when saving file: /pgdata/...") and then the OSError.
            for k in reversed(logs.lines_with(*_NEEDLES)):
                if k < lo and logs.containers[k] == logs.containers[i]:
                    near.extend(logs.texts[max(0, k - 2) : k + 1])
            return self._build("\n".join(near), [log_proof(ev, i)], container_for_line(ev, i), Stage.APP, i, ev)
        return None

    def _last_word_warning(self, ev: Evidence) -> tuple[int, re.Match[str]] | None:
        """A warning that the disk is (nearly) full, when it is the failing container's last line before
        the stop (Jenkins: "Making agent offline temporarily due to the lack of disk space"). Earlier in a
        log such warnings are common and say nothing about why the task stopped."""
        logs = ev.logs
        mine = (ev.primary, None)
        if not logs.holds(*mine):
            return None  # (no line of its own: not one to walk back through a sidecar's long log for)
        containers, texts = logs.containers, logs.texts
        last = next((i for i in range(len(logs) - 1, -1, -1) if containers[i] in mine and texts[i].strip()), None)
        if last is None:
            return None
        m = _LOW_DISK.search(logs.texts[last])
        return (last, m) if m and logs.level(last) in (None, "warn", "error", "fatal") else None

    def _build(self, text, proofs, container, stage, anchor, ev) -> Match:
        facts: dict = {"container": container}
        thin = _THIN_POOL.search(text)
        if thin:
            facts["path"] = "docker devicemapper thin pool"
            facts["storage"] = "host docker storage"
            facts["free_blocks"], facts["required_blocks"] = int(thin.group(1)), int(thin.group(2))
        else:
            for regex in _PATHS:
                m = regex.search(text)
                if m:
                    facts["path"] = strip_quotes(m.group(1))
                    break
            fargate = (ev.detail.launch_type or "").upper() == "FARGATE" or "containerd" in text
            pulling = "extract" in text.lower() or "pull" in text.lower()
            facts["storage"] = "task ephemeral storage" if fargate else "host docker storage"
            if pulling:
                facts["during"] = "image pull (layer extraction)"
            elif data_root(facts.get("path")):
                # The app's data directory filled: the filesystem behind it, which the evidence does not name.
                facts["storage"] = f"the filesystem behind {data_root(facts.get('path'))}"
        return Match(facts=facts, proofs=tuple(proofs), confidence=0.95, stage=stage, anchor=anchor,
                     container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        path = f.get("path")
        where = f" writing `{path}`" if path else ""
        size = ev.detail.model_extra.get("ephemeralStorage") if ev.detail.model_extra else None
        gib = size.get("sizeInGiB") if isinstance(size, dict) else None
        img = remedy.image(ev, f.get("container")) or "<the image of the task>"
        steps: list[str] = []
        root = None if f.get("during") else data_root(path)
        # The runtime could not create the container (a full thin pool, CannotCreateContainerError): the app never
        # ran, so nothing it wrote, no mount of its own, is involved; the instance's Docker storage is.
        thin = bool(f.get("free_blocks"))
        never_created = thin or any("CannotCreateContainerError" in p.text for p in m.proofs)
        if thin:
            steps.append(f"The devicemapper thin pool has {f['free_blocks']} free blocks, below the "
                         f"{f['required_blocks']} Docker needs to create a container: clean up the instance "
                         "or replace it with a current ECS-optimised AMI (overlay2, no thin pool)." + remedy.cite(m))
            steps.append("On the instance, `docker info` shows the thin pool's usage (Data Space Used / Available, "
                         "Metadata Space Available; `df` does not see it): free it by removing stopped containers "
                         "and unused images (`docker container prune -f`, `docker image prune -a -f`), lower "
                         "`ECS_IMAGE_CLEANUP_INTERVAL` / `ECS_IMAGE_MINIMUM_CLEANUP_AGE` / "
                         "`ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION` in /etc/ecs/ecs.config, or give the instances a "
                         "larger Docker data volume in the launch template.")
        elif root:
            steps += _data_volume_steps(ev, f, str(path), root, m)
        elif f.get("storage") == "task ephemeral storage":
            pv = ev.detail.platform_version or ""
            # Only Linux has platform versions before 1.4.0; Windows on Fargate starts at 1.0.0, which honours
            # ephemeralStorage.
            windows = remedy.is_windows(ev)
            old_pv = bool(re.match(r"1\.[0-3]\.", pv)) and not windows
            if old_pv:
                # Platform versions before 1.4.0 give a task 10 GB (the image's layers included) and cannot be
                # raised: ephemeralStorage is honoured from 1.4.0 on, whose default is 20 GiB.
                steps.append(
                    f"The task ran on Fargate platform version {pv}, which gives a task a fixed 10 GB (image layers "
                    "included) and ignores `ephemeralStorage`: run it on platform version 1.4.0 or LATEST "
                    "(`platformVersion` of the service or run-task call; 20 GiB by default there) and, if that is "
                    'still too small, also set `"ephemeralStorage": {"sizeInGiB": 50}` (21-200 GiB) in the task '
                    f"definition, register the revision and roll it out: {remedy.roll_out(ev)}.{remedy.cite(m)}")
            else:
                current = f" (now {gib} GiB)" if gib else (" (20 GiB by default)" if windows else
                                                            " (20 GiB by default on platform 1.4.0+)")
                steps.append(
                    "Raise the task's ephemeral storage" + current + ': in the task definition set '
                    '`"ephemeralStorage": {"sizeInGiB": 50}` ('
                    + ("21-200 GiB" if windows else "21-200 GiB on Fargate platform 1.4.0+") + '), '
                    f"register the revision and roll it out: {remedy.roll_out(ev)}.{remedy.cite(m)}"
                )
            if f.get("during"):
                steps.append("The image itself does not fit: slim it (multi-stage build, no build caches, "
                             "`pip install --no-cache-dir`, drop test data) and check its size with "
                             f"`docker image inspect --format '{{{{.Size}}}}' {remedy.q(img)}`.")
        elif path and not f.get("during") and not never_created:
            # The app wrote a named path: find the file system behind it before blaming Docker's image storage.
            mounts = remedy.describe_task_definition(
                ev, remedy.container_query(ev, f.get("container"), "mountPoints"))
            steps.append(f"`{path}` filled up: find the file system that holds it. The task definition's mountPoints "
                         f"(`{mounts}`) say whether a volume is mounted at or above that path (then it is that "
                         "volume: the instance's disk at the volume's sourcePath, an EBS or EFS volume); otherwise it "
                         "is the container's writable layer in the instance's Docker storage. On the instance, "
                         "`df -h` shows which is full; grow that volume or move the data to a dedicated one, and find "
                         "what grew (for a database: WAL, logs, temp files)." + remedy.cite(m))
            steps.append("If it is the Docker storage: `docker system df`, prune unused images (lower "
                         "`ECS_IMAGE_CLEANUP_INTERVAL` / `ECS_IMAGE_MINIMUM_CLEANUP_AGE` in /etc/ecs/ecs.config) or "
                         "grow the instances' storage in the launch template (the root volume: current ECS-optimized "
                         "AMIs keep Docker on it; a separate data volume only on older AMIs that mount one for Docker).")
        else:
            steps.append("Free or grow the container instance's Docker storage: `docker system df`, prune "
                         "unused images (lower `ECS_IMAGE_CLEANUP_INTERVAL` / `ECS_IMAGE_MINIMUM_CLEANUP_AGE` "
                         "in /etc/ecs/ecs.config) or grow the instances' storage in the launch template (the root "
                         "volume: current ECS-optimized AMIs keep Docker on it; a separate data volume only on older "
                         "AMIs that mount one for Docker)."
                         + remedy.cite(m))
            instance = ev.detail.container_instance_arn
            if f.get("during") and remedy.image(ev, f.get("container")):
                # The pull unpacks this image's layers on the instance: the volume must hold it, unpacked, beside the
                # images the instance keeps. Name the instance and the image, so the size is measured, not guessed.
                # A private ECR repository refuses an anonymous pull ("no basic auth credentials"): log in first.
                login = (remedy.ecr_login_command(ev, img) + "\n"
                         if ".dkr.ecr." in (remedy.image_parts(img)[0] or "") else "")
                steps.append(f"The pull downloads and unpacks `{img}` on the instance, so its Docker storage must hold "
                             "the image unpacked beside the images it keeps. Measure the image on a machine with "
                             f"room: ```\n{login}docker pull {remedy.q(img)}\ndocker image inspect --format '{{{{.Size}}}}' "
                             f"{remedy.q(img)}\n``` (bytes), then set the launch template's root volume to that plus "
                             "the instance's other images, with headroom, and replace the instances.")
                if instance:
                    # A Windows container instance has no df and keeps Docker's data on C: (C:\ProgramData\docker).
                    space = ("(Session Manager or RDP) PowerShell's `Get-PSDrive C` shows the space left on C:, where "
                             "Docker keeps its images (C:\\ProgramData\\docker)," if remedy.is_windows(ev) else
                             "(Session Manager or SSH) `df -h /var/lib/docker` shows the space left")
                    steps.append("The instance that failed (its EC2 id): ```\naws ecs describe-container-instances "
                                 f"--cluster {remedy.q(remedy.cluster(ev))} --container-instances {remedy.q(instance)} "
                                 f"--query 'containerInstances[0].ec2InstanceId' --output text\n```; on it {space} "
                                 "and `docker system df` what holds it.")
        if (not f.get("during") and not root and not never_created
                and not (path and f.get("storage") != "task ephemeral storage")):
            # On Fargate a bind mount lives on the task's ephemeral storage too, so it frees nothing.
            volume = ("EFS; a bind mount on Fargate uses the same ephemeral storage" if remedy.is_fargate(ev)
                      else "EFS or a bind mount")
            steps.append("If the application fills the disk (logs, temp files, caches), write to a mounted volume "
                         f"({volume}) or clean up. Find the biggest writers where the data is: in a copy of "
                         "the task that has done the same work for a while (a fresh container from the image has "
                         f"written nothing yet, so it shows only the image's own files): `{_DU_CMD}`.")
        return Explanation(
            title=("The container instance's Docker thin pool is full: the container was never created" if thin
                   else f"Out of disk space{where}"),
            summary=(f"The task ran out of storage{where} ({f.get('storage', 'storage')}). "
                     "Nothing can be written until space is freed or the storage is enlarged."),
            remediation=steps,
        )


PATTERN = DiskFull()
