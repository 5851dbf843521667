"""image-pull-failed: the container image could not be pulled.

Signals: CannotPullContainerError (and the agent's other CannotPull*Error names, such as
CannotPullImageManifestError); "pull image manifest has been retried"; "failed to resolve ref"; "pull
access denied"; "requested access to the resource is denied"; "manifest unknown"; "toomanyrequests".
A bare "timeout" is the network. Facts: image, cause
(not-found / access-denied / network / rate-limited / platform), container.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
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
    Proof,
    ReasonPattern,
    Stage,
    candidate_lines,
    classify,
    container_for_reason,
    find_in_reasons,
    log_proof,
    reason_proof,
    strip_quotes,
    words,
)
from shared.scan import lazy_re

_SIGNAL = lazy_re(
    # the agent's error names: CannotPullContainerError, CannotPullECRContainerError, CannotPullImageManifestError ...
    r"CannotPull\w*Error|pull image manifest|failed to resolve ref|pull access denied"
    # Docker's registry refusal (Docker Hub answers it for a repository that does not exist, too)
    r"|requested access to the resource is denied"
    r"|manifest unknown|toomanyrequests|error pulling image|failed to pull image|ImagePullBackOff"
    r"|ref pull has been retried|failed to (?:copy|fetch) (?:layer|manifest)",
    re.IGNORECASE,
)
_IMAGE = (
    lazy_re(r"repository ([^\s:]+(?::[\w.-]+)?) not found", re.IGNORECASE),
    lazy_re(r"pull access denied for ([^\s,]+)", re.IGNORECASE),
    lazy_re(r"manifest for ([^\s]+) not found", re.IGNORECASE),
    lazy_re(r"failed to resolve ref \"?([^\s\"]+?)\"?(?::\s|:?$)", re.IGNORECASE),
    # "pull image manifest has been retried": the word after "pull image" is not always the image
    lazy_re(r"(?:pulling|pull) image (?!manifest\b)\"?([^\s\"]+?)\"?[:\s]", re.IGNORECASE),
    lazy_re(r"\b((?:\d{12}\.dkr\.ecr\.[\w-]+\.amazonaws\.com|public\.ecr\.aws|ghcr\.io|quay\.io|docker\.io)/[^\s\"',:@]+(?::[\w.-]+)?(?:@sha256:[0-9a-f*]+)?)"),
)

_DIGEST_ONLY = lazy_re(r"(?:^|/)(?:library/)?sha256:[0-9a-f]{64}$")
_AGENT_PULL = lazy_re(r"Error while pulling (?:container|image)\b|error pulling image|CannotPullContainerError",
                         re.IGNORECASE)
_AGENT_NEEDLES = ("error while pulling", "error pulling image", "cannotpullcontainer", "failed to pull image",
                  "pull access denied", "failed to resolve ref", "manifest unknown")


_MASKED_REF = lazy_re(r"^[xX*#.]+$|^[xX*]{4,}[\w.-]*$")


def _image(text: str) -> str | None:
    for regex in _IMAGE:
        m = regex.search(text)
        if m:
            candidate = strip_quotes(m.group(1)).rstrip(".,")
            if "/v2/" in candidate + "/" or candidate.endswith("/v2"):
                continue  # a registry API URL, not the image reference
            return candidate
    return None


_REPOSITORY_MISSING = lazy_re(r"repository \S+ not found|RepositoryNotFoundException|name unknown: The repository",
                                 re.IGNORECASE)


def _missing_repository(text: str, m: re.Match[str], ev: Evidence) -> dict[str, Any]:
    return {"missing": "repository"} if _REPOSITORY_MISSING.search(text) else {}


def _architecture(text: str, m: re.Match[str], ev: Evidence) -> dict[str, Any]:
    return {"cpu_architecture": ev.cpu_architecture or None}


# Why the pull failed, first row that matches (the registries' wordings, most specific first).
_CAUSES = (
    # Docker Hub's answer for a private or misspelled repository: "pull access denied ... does not exist"
    # (\A: with DOTALL the lookaheads hold at the start whenever they hold anywhere; unanchored, each position
    # re-read the rest of the text, seconds on a 16 KB line)
    Cause("access-denied", lazy_re(r"\A(?=.*pull access denied)(?=.*does not exist)", re.IGNORECASE | re.DOTALL)),
    Cause("platform", words("no matching manifest", "does not contain descriptor matching platform",
                            "descriptor for platform", "image platform", "not match the detected host platform",
                            "unsupported platform", "is incompatible with a", "image operating system"), _architecture),
    Cause("rate-limited", words("toomanyrequests", "rate limit", "429 too many", "throttlingexception", "rate exceeded")),
    Cause("not-found", words("not found", "manifest unknown", "404", "does not exist", "name unknown", "no such image"),
          _missing_repository),
    Cause("access-denied", words("access denied", "accessdenied", "403", "unauthorized", "not authorized", "denied:",
                                 "no basic auth credentials", "authentication required", "forbidden")),
    Cause("network", words("i/o timeout", "dial tcp", "deadline exceeded", "timed out", "tls handshake timeout",
                           "no such host", "requesterror", "client.timeout", "connection reset", "connection refused",
                           "net/http: request canceled", "network is unreachable",
                           # the daemon tried every endpoint of the registry and none answered
                           "could not reach", "unable to reach", "failed to reach")),
    # the bare word, as the agent reports a pull that never finished ("CannotPullContainerError: timeout"); not a
    # part of a longer name (DockerTimeoutError)
    Cause("network", lazy_re(r"\btime-?out\b", re.IGNORECASE)),
    # containerd's token step for a registry that answered 401 to the pull: "failed to authorize: failed to fetch
    # anonymous token" (or "oauth token") and nothing after it; the registry wants credentials the task did not give
    # (repositoryCredentials). When a reason follows (a status, a TLS or network error), the rows above read it or
    # no cause is named: a certificate or a server error is no refusal.
    Cause("access-denied", lazy_re(r"failed to (?:authorize|fetch (?:anonymous|oauth) token)[.\s\"']*$",
                                   re.IGNORECASE | re.MULTILINE)),
)


# The registry's answer for a reference whose repository it let the pull read, and the words of a refused pull.
_MANIFEST_UNKNOWN = lazy_re(r"\bmanifest unknown\b", re.IGNORECASE)
_PULL_AUTH = lazy_re(r"pull access denied|\bunauthorized\b|denied: requested access|authentication required|"
                     r"no basic auth credentials", re.IGNORECASE)
# A dotted version's head (1.2 of 1.2.3, v3.1 of v3.1.4): a date (20240115), a build number or a hash-like tag has
# none, and filtering on its own text would list nothing but itself.
_VERSION_HEAD = lazy_re(r"^v?\d+\.\d+(?=[.-]|$)")


def _list_tags(registry: str | None, name: str, tag: str | None) -> str:
    """A command that lists a repository's tags: Docker Hub's API (filtered on the tag's major.minor), else skopeo."""
    if registry in (None, "", *_DOCKER_HUB):
        path = name if "/" in name else f"library/{name}"
        head = _VERSION_HEAD.match(tag or "")
        flt = f"&name={head.group(0)}" if head else ""
        return (f"curl -s 'https://hub.docker.com/v2/repositories/{path}/tags?page_size=100{flt}' "
                "| jq -r '.results[].name'")
    return f"skopeo list-tags docker://{registry}/{name}"


_FD_EXHAUSTED = lazy_re(r"too many open files|\bEMFILE\b", re.IGNORECASE)
_TIMED_OUT = lazy_re(r"\btime(?:d[ -]?)?out\b", re.IGNORECASE)
# Go's word for work whose context was cancelled by its caller: the pull was stopped part-way (the task was
# stopped or timed out while it pulled, the agent restarted), not refused by the registry.
_INTERRUPTED = lazy_re(r"\bcontext canceled\b", re.IGNORECASE)
_DOCKER_HUB = ("docker.io", "registry-1.docker.io", "index.docker.io", "registry.hub.docker.com")
_ECR_HOST = lazy_re(r"\b\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\b")


# A manifest the puller cannot read: an attestation (in-toto provenance/SBOM) or an index whose media type the
# runtime does not know; BuildKit adds provenance attestations by default, and a digest can name one of them.
_MEDIA_TYPE = lazy_re(r"unsupported media ?type|application/vnd\.in-toto\+json|unknown media ?type|"
                      r"unsupported manifest (?:media )?type", re.IGNORECASE)
# The registry asked for credentials (as opposed to naming no such repository): the anonymous token step failed,
# or it answered 401.
_WANTS_LOGIN = lazy_re(r"failed to (?:authorize|fetch (?:anonymous|oauth) token)|\bunauthorized\b|"
                       r"authentication required|no basic auth credentials|\b401\b", re.IGNORECASE)
# Words of an IAM refusal (the role lacks an ECR action), as opposed to the daemon's bare "pull access denied".
_IAM_DENIAL = lazy_re(r"not authorized to perform|AccessDenied|\bis not authorized\b|explicit deny|"
                      r"GetAuthorizationToken|BatchGetImage|GetDownloadUrlForLayer|no basic auth|\b403\b",
                      re.IGNORECASE)
# A layer that downloaded but did not unpack to what the image's config says ("wrong diff id calculated on
# extraction", "failed to register layer", "failed to extract layer"): the registry and the network did their part.
_EXTRACTION = lazy_re(r"wrong diff ?id calculated|failed to (?:register|extract|apply) layer|"
                      r"error (?:extracting|unpacking) (?:tar|layer)", re.IGNORECASE)
# Docker's layer applier exiting without a message of its own ("ApplyLayer exit status 1 stdout: stderr:").
_APPLY_LAYER_BARE = lazy_re(r"ApplyLayer exit status \d+(?:\s*stdout:\s*stderr:)?\s*(?:$|[\"'\n])", re.IGNORECASE)
_LAYERS_MISMATCH = lazy_re(r"number of layers and diffIDs don't match:?\s*(\d+)\s*!=\s*(\d+)", re.IGNORECASE)


def _compose_local(image: str | None) -> str | None:
    """An image `docker compose` names project_service and never pushes, as Docker Hub's library/ reads it:
    official images (the only ones under library/) have no underscore in their names."""
    ref = (image or "").strip()
    name = ref.removeprefix("docker.io/").removeprefix("library/").split("@")[0].split(":")[0]
    if "/" not in name and "_" in name and ("/" not in ref or ref.startswith(("docker.io/", "library/"))):
        return ref
    return None


_V2_REPO = lazy_re(r"/v2/(?P<repo>[\w.-]+(?:/[\w.-]+)*?)/(?:manifests|blobs)/")


_X509 = lazy_re(r"x509: [^:\n]*?(?:unknown authority|certificate is not valid[^:\n]*|certificate has expired)",
                re.IGNORECASE)


def _throttled_image(ev: Evidence, reason: str) -> str | None:
    """The task's image whose repository the registry URL in the message names (".../v2/library/redis/manifests/")."""
    hit = _V2_REPO.search(reason)
    if not hit:
        return None
    want = hit.group("repo").removeprefix("library/")
    for c in ev.detail.containers:
        if c.image and remedy.is_image_ref(c.image) and \
                remedy.image_parts(c.image)[1].removeprefix("library/") == want:
            return c.image
    return None


def _registry_host(image: str, reason: str) -> str | None:
    """The registry an image is pulled from: its host (docker.io for a reference with none), or None
    when neither the image nor the reason says. A private ECR host in the reason wins."""
    ecr = _ECR_HOST.search(reason) or _ECR_HOST.search(image)
    if ecr:
        return ecr.group(0)
    ref = image.strip()
    if ref and not ref.startswith(("<", "the ")):
        first = ref.split("/", 1)[0]
        if "/" in ref and ("." in first or ":" in first or first == "localhost"):
            return "docker.io" if first in _DOCKER_HUB else first
        return "docker.io"
    return "docker.io" if any(h in reason for h in _DOCKER_HUB) else None



def _throttled_elsewhere(cause: str | None, image: str | None, reason: str) -> bool:
    """A pull rate limit of a registry other than private ECR (Docker Hub, ECR Public, another): the fix is a
    cached copy in ECR or repositoryCredentials, both set in the task definition (ECR's own throttling is of API
    requests, fixed by staggering the launches)."""
    return cause == "rate-limited" and ".dkr.ecr." not in (_registry_host(image or "", reason) or "")


_WANTED = lazy_re(r"(?:matching platform|manifest for|descriptor for platform)\s*'?\"?(?P<os>linux|windows)/"
                     r"(?P<arch>[\w]+)", re.IGNORECASE)
_IMAGE_OS = lazy_re(r"image operating system \W*(?P<os>linux|windows)", re.IGNORECASE)


_WINDOWS_VERSIONS = lazy_re(r"Windows version (?P<image>10\.0\.\d+)-based image is incompatible with a "
                               r"(?P<host>10\.0\.\d+) host", re.IGNORECASE)
_WINDOWS_BUILDS = {"17763": "Windows Server 2019, build 10.0.17763", "20348": "Windows Server 2022, build 10.0.20348",
                   "26100": "Windows Server 2025, build 10.0.26100", "14393": "Windows Server 2016, build 10.0.14393"}


def os_mismatch(ev: Evidence, text: str, image: str | None) -> str | None:
    """The OS family the task must run on when the pull failed for the image's operating system, not
    its CPU architecture: "windows" for a Windows image on a Linux host, "linux" for a Linux-only image
    on a Windows host ("no matching manifest for windows/amd64 10.0.17763", 'image operating system
    "linux" cannot be used on this platform'); None for an architecture mismatch."""
    said = _IMAGE_OS.search(text)
    if said:
        return said.group("os").lower()
    wanted = _WANTED.search(text)
    if wanted and wanted.group("os").lower() == "windows":
        return "linux"  # a Windows host asked for a Windows variant the image does not have
    if wanted and remedy.is_windows_image(image):
        return "windows"  # a Linux host asked for linux/<arch> of a Windows image
    return None


def _platform_steps(ev: Evidence, m: Match, image: str) -> list[str]:
    text = m.proofs[0].text if m.proofs else ""
    ref = remedy.image(ev, m.container) or (image if remedy.is_image_ref(image) else None)
    want_os = os_mismatch(ev, text, ref)
    build = re.search(r"\b10\.0\.(\d{5})\b", text)
    versions = _WINDOWS_VERSIONS.search(text)
    if versions:  # a Windows image of another Windows Server version than the host's: process isolation needs the same
        image_v, host_v = versions.group("image"), versions.group("host")
        host_name = _WINDOWS_BUILDS.get(host_v.rsplit(".", 1)[-1], f"build {host_v}")
        return [f"`{ref or image}` is built on Windows {image_v} and the container instance runs {host_name}: "
                "Windows containers need the host's version (an operating-system version mismatch, not a CPU "
                f"one). Rebuild or pick the image's tag for {host_name} (its base image, e.g. servercore "
                "ltsc2019 for 10.0.17763 or ltsc2022 for 10.0.20348), or run the task on instances of the image's "
                "version (the ECS-optimized Windows AMI of that Windows Server release)."]
    if want_os == "linux":
        constraint = '[{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}]'
        return [f"`{ref or image}` is a Linux image and the task was placed on a Windows container instance, an "
                "operating-system mismatch (not a CPU one): run it on Linux container instances, a cluster or "
                "capacity provider of Linux instances, or pin it with the task definition's "
                f"`placementConstraints`: ```{constraint}```",
                "Or, to stay on Windows, use a Windows image of the software built for the host's Windows "
                "Server version" + (f" ({_WINDOWS_BUILDS.get(build.group(1), 'build ' + build.group(1))})"
                                    if build else "") + "."]
    if want_os == "windows":
        where = ('`"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": '
                 '"X86_64"}` (the family the image\'s base matches: 2019 or 2022, CORE or FULL)'
                 if remedy.is_fargate(ev) else
                 "Windows container instances (the ECS-optimized Windows AMI) and the task definition's "
                 '`placementConstraints`: ```[{"type": "memberOf", "expression": "attribute:ecs.os-type == windows"}]```')
        return [f"`{ref or image}` is a Windows image and the task runs on Linux, an operating-system mismatch "
                f"(not a CPU one): run it on Windows: {where}",
                "Or use a Linux image of the software."]
    wanted = _WANTED.search(text)
    arch = (wanted.group("arch").lower() if wanted else None) or str(m.facts.get("cpu_architecture") or "")
    target = "arm64" if "arm" in arch or "aarch64" in arch else "amd64"
    other = "X86_64" if target == "arm64" else "ARM64"
    lead = f"The image has no variant for linux/{target}, the platform the task runs on. "
    run_other = (f"Run the task on the architecture the image has: task definition "
                 f'`"runtimePlatform": {{"cpuArchitecture": "{other}", "operatingSystemFamily": "LINUX"}}`'
                 + ("." if remedy.is_fargate(ev) else f" on {other.lower()} container instances."))
    rebuild = remedy.rebuild_for(ev, ref, f"linux/{target}")
    if remedy.own_ecr(ev, ref):
        return [lead + rebuild[0], *rebuild[1:], "Or r" + run_other[1:]]
    return [lead + run_other, *rebuild]


class ImagePullFailedFacts(Facts):
    """The facts of image-pull-failed."""

    cause: str | None = Field(None, description="not-found, access-denied, network, rate-limited, platform.")
    cpu_architecture: str | None = Field(None, description="The task's CPU architecture.")
    image: str | None = Field(None, description="The image reference.")
    missing: str | None = Field(None, description="What the registry did not have (tag, digest, platform).")
    reference: str | None = Field(None, description="The tag or digest.")


class ImagePullFailed(ReasonPattern):
    id = "image-pull-failed"
    explained_by = ("image", "executionRoleArn")
    priority = 160
    severity = "critical"
    Facts = ImagePullFailedFacts
    key_facts = ("image", "cause")
    needs = frozenset({"network"})
    needles = _AGENT_NEEDLES
    signal = _SIGNAL
    causes = _CAUSES

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The network path only explains a network failure."""
        return self.needs if facts.get("cause") == "network" else frozenset()

    def match(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, self.signal)
        if not hit:
            return self._from_agent_log(ev)
        source, text, _ = hit
        container = container_for_reason(ev, source)
        image = _image(text)
        if source == "stoppedReason" and len(ev.detail.containers) > 1:
            # Which container? The one whose image the message names, else one that never got an exit code.
            named = next((c for c in ev.detail.containers if image and c.image and
                          (image in c.image or c.image.split("@")[0] in image)), None)
            never_ran = [c for c in ev.detail.containers if c.exit_code is None]
            chosen = named or (never_ran[0] if len(never_ran) == 1 else None)
            if chosen:
                container = chosen.name
        return self._build(ev, container, image, text, reason_proof(source, text), 0.95)

    def _from_agent_log(self, ev: Evidence) -> Match | None:
        """The ECS agent's own log (EC2 launch type, /var/log/ecs/ecs-agent.log pasted with the task's logs):
        "Error while pulling container web, will try to run anyway: ... repository ... not found". Only
        for a container that never ran (no exit code): an application may pull images itself (CI runners)."""
        for i in candidate_lines(ev, _AGENT_NEEDLES):
            text = ev.logs.texts[i]
            if not (_AGENT_PULL.search(text) or self.signal.search(text)):
                continue
            image = _image(text)
            named = [c for c in ev.detail.containers if c.name and (
                re.search(r"(?:container|\[)\s*\[?" + re.escape(c.name) + r"[\],\s]", text + " ")
                or (image and c.image and (image in c.image or c.image.split("@")[0].split(":")[0] in image)))]
            chosen = named[0] if len(named) == 1 else None
            if chosen is None or chosen.exit_code is not None:
                continue
            return self._build(ev, chosen.name, image, text, log_proof(ev, i), 0.85)
        return None

    def _build(self, ev: Evidence, container: str | None, image: str | None, text: str, proof: Proof,
               confidence: float) -> Match:
        c = ev.container(container)
        if image and _MASKED_REF.match(image):
            image = None  # a reporter's mask ("xxxxx.xxx"), not a reference: the event's image is the one
        if not image and c and c.image:
            image = c.image
        facts = {"image": image, "cause": None, "container": container, **classify(text, self.causes, ev)}
        ref = c.image if c and c.image else image or ""
        if _DIGEST_ONLY.search(ref):
            # "sha256:abc..." alone: Docker reads it as the repository library/sha256, which does not exist.
            facts.update(image=ref, cause="not-found", reference="digest without repository")
            facts.pop("cpu_architecture", None)  # not a platform mismatch after all
        return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=(proof,),
                     confidence=confidence, stage=Stage.PLATFORM, container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        image = f.get("image") or "the image"
        # The container's own image reference (the message's wording can yield a partial one)
        task_image = remedy.image(ev, f.get("container")) or image
        if "/" not in image and ":" not in image and "@" not in image and task_image != image \
                and image.split(":")[0] not in task_image:
            image = task_image  # a word of the message ("pull image manifest"), not a reference: use the task's
        cause = f.get("cause")
        if cause == "rate-limited":
            # The registry's URL in the message names the throttled repository: a sidecar's, maybe, not the app's.
            task_image = _throttled_image(ev, ev.reason_text + "\n" + "\n".join(p.text for p in m.proofs)) or task_image
        region = remedy.region(ev) or remedy.REGION_UNKNOWN
        ecr = ".dkr.ecr." in image
        registry, name, tag, digest = remedy.image_parts(image)
        repo_name = name if ecr else f"{registry}/{name}" if registry else name
        steps: list[str] = []
        reason = ev.reason_text + "\n" + "\n".join(p.text for p in m.proofs)
        layers = _LAYERS_MISMATCH.search(reason)
        local = _compose_local(task_image or image)
        if layers:
            # The registry served the image, but its manifest and layer list disagree: a build/push fault (most
            # often layers of mixed gzip/zstd compression in one manifest), not access, network or the name.
            ref = task_image or image
            steps.append(f"`{ref}` was found and downloaded, but its manifest lists {layers.group(1)} layers and its "
                         f"config {layers.group(2)} diffIDs: the image as pushed is inconsistent, most often layers "
                         "of mixed compression (gzip and zstd) from a build that reused cached layers. Inspect it "
                         f"(`docker buildx imagetools inspect --raw {remedy.q(ref)}` shows each layer's mediaType), "
                         # The rebuild pushes (push=true): to an ECR repository only after a login to it.
                         + (f"then {remedy.ecr_login(ev, ref)}, and " if ".dkr.ecr." in ref else "then ")
                         + "rebuild it with one compression (`docker buildx build --output type=image,"
                         "compression=gzip,force-compression=true,push=true ...`) and push it under a new tag. "
                         "Permissions and the network are not the fault.")
        elif _APPLY_LAYER_BARE.search(reason) and not remedy.is_fargate(ev):
            # Docker's layer applier exiting with no message of its own on an EC2 instance: the usual cause is the
            # instance's layer storage (a full Docker volume, or devicemapper's per-container base size, 10 GB on
            # older ECS-optimised AMIs), which a very large image fills; a faulty image says more than that.
            ref = task_image or image
            steps.append(f"`{ref}` downloaded, but Docker on the container instance could not unpack a layer "
                         "(`ApplyLayer exit status 1` with no message): check the instance's layer storage before the "
                         "image. On the instance run `docker info` (Storage Driver; with devicemapper, Base Device "
                         "Size and Data Space Available) and `df -h /var/lib/docker`: a full Docker volume, or an image "
                         "larger than devicemapper's base size (10 GB on older ECS-optimised AMIs), fails exactly so. "
                         "Give the instances a current ECS-optimised AMI (overlay2, no base size) with a Docker volume "
                         "larger than the image (the launch template's block device), or raise `dm.basesize`; and "
                         "slim the image (`docker image inspect --format '{{.Size}}' " + remedy.q(ref) + "` shows "
                         "its size).")
            steps.append("If the instance has room and the pull still fails, pull the image on another machine "
                         f"(`docker pull {remedy.q(ref)}`): failing there too, the image as pushed is faulty; rebuild "
                         "and push it under a new tag.")
        elif _EXTRACTION.search(reason):
            # The layers were found and downloaded, then failed to unpack to the digests the image's config lists:
            # the image as built and pushed is at fault (a cross-platform or attestation-laden buildx build, a
            # layer corrupted on push), not permissions, the network or the name.
            ref = task_image or image
            unpack = _EXTRACTION.search(reason)
            head = (f"`{ref}` was found and its layers downloaded, but a layer did not unpack to the digest the "
                    f"image's config lists (`{unpack.group(0) if unpack else 'extraction'}`): the image as pushed is "
                    "faulty, so permissions and the network path are not the cause.")
            if remedy.own_ecr(ev, ref):
                platform = "linux/arm64" if ev.cpu_architecture == "arm64" else "linux/amd64"
                reg, repo, old_tag, _ = remedy.image_parts(ref)
                new_ref = f"{reg}/{repo}:{old_tag or 'latest'}-rebuilt"
                steps.append(f"{head} Rebuild it for the task's platform and push it under a new tag (a build on "
                             "another architecture, such as Apple silicon, or with attestations is the usual "
                             f"source): {remedy.ecr_login(ev, ref)}, then `docker buildx build --platform {platform} "
                             f"--provenance=false --sbom=false --push -t {remedy.q(new_ref)} .`, and point the "
                             "task definition's image at that new tag.")
            else:
                steps.append(f"{head} Pin another tag or digest of it that pulls (`docker pull` from your machine "
                             "must succeed), or rebuild it into your own ECR repository and point the task "
                             "definition at that.")
        elif _MEDIA_TYPE.search(reason):
            # The registry served a manifest the container runtime cannot read: an attestation manifest (BuildKit's
            # default provenance) or an index the runtime does not know, not access, network or the name.
            ref = task_image or image
            steps.append(f"The registry served `{ref}` as a manifest type the container runtime cannot use (an "
                         "in-toto attestation or an image index that BuildKit adds by default, `--provenance`/"
                         "`--sbom`): rebuild and push the image without attestations (add `--provenance=false "
                         "--sbom=false` to the `docker buildx build` that pushes it, or set "
                         "`BUILDX_NO_DEFAULT_ATTESTATIONS=1` where a tool such as `cdk deploy` builds it), or point "
                         "the task definition at the digest of the image manifest itself (`docker buildx imagetools "
                         f"inspect {remedy.q(ref)}` lists the platform image's digest next to the attestation's).")
        elif local and cause in ("access-denied", "not-found"):
            steps.append(f"`{local}` looks like an image `docker compose` built locally (project_service name under "
                         "docker.io/library/, where only official images live): it was never pushed, so no registry "
                         "has it. Push it to an ECR repository of yours and use its full URI in the task definition; "
                         "registry credentials cannot pull an image that does not exist.")
        elif f.get("reference") == "digest without repository":
            steps.append(f"The task definition's image is only a digest (`{image}`): Docker reads that as the "
                         "repository `docker.io/library/sha256`, which does not exist. Name the repository too: "
                         f"`<the registry and repository of the image>@{image.split('@')[-1]}`; the CI step that "
                         "renders the task definition probably dropped the repository part.")
        elif cause == "not-found" and f.get("missing") == "repository":
            if ecr:
                steps.append(f"The repository `{repo_name}` does not exist in this account and region: check "
                             f"`aws ecr describe-repositories --repository-names {repo_name} --region {region}`; create "
                             "it and push the image, or fix the registry/account/region in the task definition's image.")
            else:
                steps.append(f"The repository of `{image}` does not exist (or is private): check its spelling and "
                             "registry.")
        elif cause == "not-found":
            if ecr:
                if digest and not tag:  # pinned by digest: an untagged image a lifecycle rule may have expired
                    steps.append(f"Check the digest exists: `aws ecr describe-images --repository-name {repo_name} "
                                 f"--image-ids imageDigest={digest} --region {region}`; an image that lost its tags is "
                                 "the first a lifecycle policy expires. Push the image again (or point the task "
                                 "definition at a digest or tag that exists), and keep what tasks run tagged.")
                else:
                    steps.append(f"Check the tag exists: `aws ecr describe-images --repository-name {repo_name} "
                                 f"--image-ids imageTag={tag or 'latest'} --region {region}`; push it or fix the "
                                 "image reference in the task definition.")
            else:
                # Docker Hub answers a private repository pulled without credentials as "not found" too: a user's
                # repository (user/name, not an official library/ image) may be private.
                hub_user = registry in (None, "", "docker.io", "index.docker.io") and "/" in name \
                    and not name.startswith("library/")
                # But "manifest unknown" is the registry's answer for a repository it let the pull read: Docker
                # Hub refuses a private one without credentials with "pull access denied" / "unauthorized", so
                # without such words the tag (or digest) is what does not exist.
                said = " ".join(p.text for p in m.proofs)
                tag_missing = bool(_MANIFEST_UNKNOWN.search(said)) and not _PULL_AUTH.search(said)
                creds = (" If it is a private Docker Hub repository, Docker Hub answers \"not found\" to a pull "
                         "without credentials: give the container definition `repositoryCredentials` (a Secrets "
                         "Manager secret with the account's username and password or access token) and let the "
                         "execution role read it." if hub_user and not tag_missing else "")
                official = registry in (None, "", "docker.io", "index.docker.io") and (
                    "/" not in name or name.startswith("library/"))
                latest = image.endswith(":latest") or (":" not in image.split("/")[-1] and "@" not in image)
                if latest and official:
                    # An official image is public, so "not found" means the tag: several (elasticsearch, kibana...)
                    # publish no latest.
                    steps.append(f"`{image}` asks for the tag `latest`, which this official image does not publish "
                                 "(several, e.g. elasticsearch, publish only version tags): pin a version tag that "
                                 "exists in the task definition's image (`docker pull` of it from your machine must "
                                 "succeed) and roll out the new revision.")
                elif latest:
                    # The tag defaulted to latest: some repositories (official elasticsearch, kibana...) publish none.
                    steps.append(f"`{image}` asks for the tag `latest`; check that the repository publishes it "
                                 "(some publish only version tags, e.g. the official elasticsearch image) and "
                                 "otherwise pin a version tag that exists in the task definition's image "
                                 "(`docker pull` of it from your machine must succeed) and roll out the new "
                                 f"revision.{creds}")
                elif tag_missing and digest and not tag:
                    # Pinned by digest: what the registry lacks is that manifest, not a tag.
                    steps.append(f"The registry answered \"manifest unknown\" for a digest: the repository of "
                                 f"`{image}` exists and was readable, but no manifest with the digest `{digest}` "
                                 "is in it (the manifest was deleted or its untagged image cleaned up, or the "
                                 "digest is wrong: copied from another repository or registry, or mistyped); a "
                                 "private repository pulled without credentials is refused (\"pull access "
                                 "denied\", \"unauthorized\") instead. Pin a tag or digest that exists: list the "
                                 f"tags (`{_list_tags(registry, name, None)}`), read the digest of the one you want "
                                 f"(`docker buildx imagetools inspect {registry + '/' if registry else ''}{name}:<tag>`), "
                                 "set it in the task definition's image and register the new revision.")
                elif tag_missing:
                    steps.append(f"The registry answered \"manifest unknown\": the repository of `{image}` exists and "
                                 "was readable, but it has no such tag (a typo, or a tag never published or deleted); "
                                 "a private repository pulled without credentials is refused (\"pull access denied\", "
                                 "\"unauthorized\") instead. List the tags it publishes "
                                 f"(`{_list_tags(registry, name, tag)}`), set one that exists in the task definition's "
                                 "image (`docker pull` of it from your machine must succeed) and register the new "
                                 "revision.")
                else:
                    steps.append(f"Check the image name and tag of `{image}` (typo, deleted tag, wrong registry); "
                                 f"`docker pull {image}` from your machine should succeed.{creds}")
        elif cause == "access-denied":
            said = " ".join(p.text for p in m.proofs)
            own_tag = tag or remedy.image_parts(task_image)[2] or "latest"
            owner = (remedy.image_parts(image)[0] or "").split(".", 1)[0]
            # The repository policy matters only for a repository of another account than the task's.
            other = owner.isdigit() and remedy.account(ev) is not None and owner != remedy.account(ev)
            if ecr and not other and not _IAM_DENIAL.search(said) and not remedy.is_fargate(ev):
                # The daemon's "pull access denied ... does not exist or may require 'docker login'" names no IAM
                # action: on EC2 the agent on the instance logs the daemon in, so first the repository and tag,
                # then the instance's agent and role, before the execution role.
                steps.append(f"The message names no IAM denial, so first check the image exists: `aws ecr "
                             f"describe-images --repository-name {repo_name} --image-ids imageTag={own_tag} "
                             f"--region {region}`; the repository's policy (`aws ecr get-repository-policy "
                             f"--repository-name {repo_name} --region {region}`) must not deny the role that pulls.")
                steps.append("On EC2 the ECS agent on the container instance logs Docker in to ECR with the "
                             "execution role (or, without one, the instance role): check the instance role still "
                             "has `AmazonEC2ContainerServiceforEC2Role` and the agent is current and connected "
                             f"({remedy.agent_log(ev)} on the instance shows its ECR login errors); an instance "
                             "whose agent is stuck with stale credentials pulls again after the agent is "
                             "restarted or the instance replaced (drain it and let the Auto Scaling group start "
                             "a new one).")
                steps.append("Then check the task EXECUTION role has the ECR pull permissions (managed policy "
                             "`AmazonECSTaskExecutionRolePolicy`: ecr:GetAuthorizationToken, ecr:BatchGetImage, "
                             "ecr:GetDownloadUrlForLayer).")
            elif ecr:
                steps.append("Give the task EXECUTION role the ECR pull permissions (managed policy "
                             "`AmazonECSTaskExecutionRolePolicy`: ecr:GetAuthorizationToken, ecr:BatchGetImage, "
                             "ecr:GetDownloadUrlForLayer)"
                             + (f"; the repository is in another account ({owner}), so its repository policy must "
                                f"also allow this account ({remedy.account(ev)})." if other else "."))
                said = " ".join(p.text for p in m.proofs).lower()
                # A refusal at the registry (the manifest: "pull access denied", "not authorized", GetAuthorizationToken)
                # happens before any layer is fetched from S3: the S3 endpoint policy cannot be the cause then.
                at_registry = any(w in said for w in ("pull access denied", "manifest", "not authorized",
                                                      "getauthorizationtoken", "batchgetimage", "no basic auth"))
                if not at_registry or re.search(r"starport|s3\.|amazonaws\.com/.*layer|\blayer", said):
                    steps.append("A 403 while fetching layers from S3 means an S3 gateway endpoint policy blocks the "
                                 f"ECR layer bucket: allow `{remedy.s3_arn(ev, f'prod-{region}-starport-layer-bucket/*')}`.")
                if "@sha256:" in image:
                    steps.append("A 403 on an `@sha256:` reference can also mean the digest no longer exists under "
                                 "that tag: re-resolve the digest or pin the tag again.")
            elif _WANTS_LOGIN.search(said) and "does not exist" not in said.lower():
                # The registry wants credentials and the task gave none: repositoryCredentials, read by the
                # execution role, is how ECS logs in to a registry other than ECR.
                reg_host = remedy.image_parts(task_image)[0] or "docker.io"
                secret_name = f"registry-credentials/{reg_host}"
                secret = remedy.secret_arn(ev, secret_name)
                where = ("the job definition's containerProperties" if remedy.launcher(ev) == "batch"
                         else "the container definition")
                steps.append(f"The registry {reg_host} asks for credentials and the task gave none: store them in "
                             "Secrets Manager, with `REGISTRY_CREDS` set in your shell to the JSON object of a registry "
                             "user's `username` and `password` (or access token): `aws secretsmanager "
                             f"create-secret --name {remedy.q(secret_name)} --secret-string \"$REGISTRY_CREDS\" "
                             f"--region {region}`; set {where}'s `repositoryCredentials.credentialsParameter` to "
                             f"the secret's name `{secret_name}` (or the full ARN the command prints), and give the "
                             "task EXECUTION role this statement (plus kms:Decrypt on the key if the secret uses a "
                             "customer managed key): "
                             f"`{json.dumps(remedy.statement(['secretsmanager:GetSecretValue'], secret))}`.")
            else:
                steps.append(f"`{image}` is private or misspelled: fix the name, or add `repositoryCredentials` "
                             "(a Secrets Manager secret with username/password) to the container definition and "
                             "allow the execution role to read it.")
        elif cause == "rate-limited" and (host := _registry_host(task_image or "", m.proofs[0].text if m.proofs else "")) \
                and host != "docker.io" and ".dkr.ecr." not in host:
            # Another registry's throttling: Docker Hub's pull-through rule and its credentials do not apply.
            where = ("the job definition's image" if remedy.launcher(ev) == "batch" else "the task definition")
            if host == "public.ecr.aws":
                path = (task_image or "").split("/", 1)[1] if "/" in (task_image or "") else "<repository>"
                cached = (f"{remedy.account(ev) or remedy.ACCOUNT_UNKNOWN}.dkr.ecr.{region}.amazonaws.com/"
                          f"ecr-public/{path}")
                steps.append(f"ECR Public (public.ecr.aws) throttles unauthenticated pulls per source IP, and every "
                             f"task behind the same NAT gateway shares it (here `{task_image}`): cache it in your "
                             "private ECR with a pull-through cache rule whose upstream is ECR Public, `aws ecr "
                             "create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url "
                             f"public.ecr.aws --region {region}`, and point {where} at `{cached}` (the execution "
                             "role needs ecr:BatchImportUpstreamImage and ecr:CreateRepository for the first pull).")
            else:
                steps.append(f"{host} rate-limits pulls (here of `{task_image}`): copy the image into a private ECR "
                             f"repository and point {where} at it, or authenticate to {host} with "
                             "`repositoryCredentials`.")
        elif cause == "rate-limited" and ".dkr.ecr." in (_registry_host(task_image or "", reason) or ""):
            # Private ECR throttles its API calls (GetAuthorizationToken, BatchGetImage...), per account and region:
            # a burst of launches, not an anonymous pull limit.
            # A deployment's maximumPercent staggers only a service's launches: a RunTask, schedule or Batch job
            # has none, so it staggers its own starts.
            stagger = {"service": "smaller batches, a deployment with a lower maximumPercent",
                       "batch": "smaller array or submission batches, fewer vCPUs in the compute environment at once",
                       }.get(remedy.launcher(ev), "fewer tasks per RunTask call and their starts spread over time, "
                             "scheduled jobs not all on the same minute")
            steps.append("ECR throttled the pull's API requests (GetAuthorizationToken / BatchGetImage / "
                         "GetDownloadUrlForLayer have per-account request-rate quotas in each region): too many "
                         f"tasks started at once. Stagger the launches ({stagger}) and retry with backoff, or "
                         "request a higher rate in Service Quotas "
                         f"(Amazon Elastic Container Registry) for {region}.{remedy.cite(m)}")
        elif cause == "rate-limited":
            steps.append(f"Docker Hub rate-limits anonymous pulls (here of `{task_image}`): mirror the image to ECR (an "
                         "ECR pull-through cache rule for docker.io, then point "
                         + ("the job definition's image" if remedy.launcher(ev) == "batch" else "the task definition")
                         + " at the cached reference) or authenticate with `repositoryCredentials`.")
        elif _FD_EXHAUSTED.search(reason):
            # EMFILE inside the pull (a DNS lookup, a dial): the puller could not open a socket, so no packet left
            # the host. The limit is the puller's on the container instance, not a route or an endpoint.
            if remedy.is_fargate(ev):
                steps.append("`too many open files`: the process pulling the image ran out of file descriptors, so "
                             "it could not open a socket; no packet reached the network. On Fargate that process is "
                             "AWS's: start the task again, and if it repeats open an AWS Support case with the task "
                             "ARN.")
            else:
                steps.append("`too many open files`: the process pulling the image on the container instance (the "
                             "ECS agent, or Docker) ran out of file descriptors, so it could not open a socket; no "
                             "packet reached the network, so routes and endpoints are not the fault. On the instance, "
                             "compare the agent's open files with its limit: `sudo ls /proc/$(pidof agent)/fd | wc "
                             "-l` and `grep 'open files' /proc/$(pidof agent)/limits` (and the same for `dockerd`). "
                             "Recover with `sudo systemctl restart ecs` (or drain and replace the instance); if the "
                             "count grows again, raise `LimitNOFILE` in the docker service's systemd unit and update "
                             "the ECS agent and Docker (a descriptor leak).")
        elif cause == "network" and remedy.endpoint_unreachable_step(ev, m.proofs[0].text if m.proofs else ""):
            steps.append(remedy.endpoint_unreachable_step(ev, m.proofs[0].text) or "")
        elif cause == "network" or (cause is None and _TIMED_OUT.search(reason)):
            # A pull that timed out (with no other cause named) never got an answer: the network path, first.
            host = _registry_host(f.get("image") or "", m.proofs[0].text if m.proofs else "")
            # On EC2 the agent on the container instance pulls, over the instance's network, in any network mode.
            who, its = ("The task", "its") if remedy.is_fargate(ev) else (
                "The container instance (the ECS agent on it pulls the image)", "the instances'")
            if host is None or ".dkr.ecr." in host:
                steps.append(f"{who} cannot reach the registry: give {its} subnets a route to a NAT gateway"
                             + (" (or assignPublicIp ENABLED in a public subnet)" if remedy.public_ip_allowed(ev) else "")
                             + ", or add the VPC endpoints "
                             f"`com.amazonaws.{region}.ecr.api`, `com.amazonaws.{region}.ecr.dkr` and the S3 "
                             "gateway endpoint; check the security group allows outbound 443.")
            else:
                # VPC endpoints reach only AWS services: a registry on the internet needs a route out.
                steps.append(f"{who} cannot reach {host}, a registry on the internet, to pull `{task_image}`: give "
                             f"{its} subnets a route to a NAT gateway"
                             + (" (or assignPublicIp ENABLED in a public subnet)" if remedy.public_ip_allowed(ev) else "")
                             + " and check the security "
                             "group and NACLs allow outbound 443; VPC endpoints cannot reach it. To pull without "
                             "internet access, mirror the image to ECR (an ECR pull-through cache rule) and use "
                             "the ECR and S3 endpoints.")
        elif cause == "platform":
            steps += _platform_steps(ev, m, image)
        elif x509 := _X509.search(reason):
            # The registry's certificate did not verify: something between the puller and the registry (a
            # TLS-inspecting proxy or firewall) presents its own certificate; not a permission or a name.
            steps.append(f"The pull's TLS connection to the registry failed certificate verification "
                         f"(`{x509.group(0)}`): a TLS-inspecting proxy or firewall on the way out "
                         "presents its own certificate. Exempt the registry's hosts from inspection (for Docker Hub: "
                         "registry-1.docker.io, auth.docker.io, production.cloudflare.docker.com), or pull from a "
                         "private ECR copy through the ECR and S3 VPC endpoints.")
        elif any(remedy.cut_by_ecs(p.text) for p in m.proofs) or remedy.cut_by_ecs(ev.stopped_reason):
            # ECS itself cut the reason at its length limit: describe-tasks returns the same text, so the
            # registry's answer is read by pulling again (or, on EC2, in the agent's log, which keeps all of it).
            where = ("" if remedy.is_fargate(ev) else
                     f"; on EC2 the ECS agent's log on the container instance ({remedy.agent_log(ev)}) has the whole "
                     "error")
            steps.append("ECS cut the stop reason at its length limit before the registry's answer, and "
                         "describe-tasks returns the same cut text: reproduce the pull to read the answer, "
                         + (f"`docker pull {image}` with the execution role's ECR credentials" if ecr else
                            f"`docker pull {image}` from your machine")
                         + f"{where}. Then check "
                         + ("the image reference, the execution role's ECR permissions and the network path to the "
                            "registry." if ecr else "the network path to the registry."))
        elif reason.rstrip().endswith(("...", "\u2026")):
            # The console or a tool cut the reason before the registry's answer: ECS keeps the whole one an hour.
            steps.append("The stop reason is cut off before the registry's answer; read the whole one (ECS keeps a "
                         f"stopped task about an hour): `{remedy.describe_task(ev)} --query "
                         "'tasks[0].[stoppedReason, containers[].reason]'`. Then check "
                         + ("the image reference, the execution role's ECR permissions and the network path to the "
                            "registry." if ecr else
                            f"that `{image}` exists (`docker pull {image}` from your machine), and the network path to "
                            "the registry."))
        elif cause is None and _INTERRUPTED.search(reason):
            steps.append("The pull was interrupted, not refused (`context canceled`: whoever waited for it gave up "
                         "part-way: the task was stopped or timed out while it pulled, or the ECS agent restarted), "
                         f"so it is usually transient: {remedy.rerun(ev)}"
                         + ("" if remedy.is_fargate(ev) else
                            f". If it recurs, the pull is slow: the ECS agent's log on the container instance "
                            f"({remedy.agent_log(ev)}) shows how long it ran; a large image on a slow disk or link "
                            "outlasts the agent's pull timeouts (`ECS_IMAGE_PULL_INACTIVITY_TIMEOUT`, "
                            "`ECS_IMAGE_PULL_TIMEOUT` in /etc/ecs/ecs.config)")
                         + ".")
        else:
            steps.append(f"Reproduce with `docker pull {image}`"
                         + (" using the execution role's credentials and read the registry's answer; check the image "
                            "reference, the execution role's ECR permissions and the network path to the registry."
                            if ecr else " and read the registry's answer; check the image reference and the network "
                            "path to the registry."))
        if steps:
            steps[0] += remedy.cite(m)
        # An AWS Batch job's image and repositoryCredentials are set in its job definition.
        steps = [remedy.definition_words(ev, s) for s in steps]
        # A fix in the task definition (repositoryCredentials, runtimePlatform, the image) needs its new revision.
        # A rate limit of a registry other than ECR is fixed by a cached copy or repositoryCredentials, both in the
        # task definition: the same revision would pull from the throttled registry again.
        changes_td = ((cause in ("platform", "access-denied") and not ecr) or cause in ("platform", "not-found")
                      or bool(_EXTRACTION.search(reason)) or _throttled_elsewhere(cause, task_image, reason))
        interrupted = cause is None and bool(_INTERRUPTED.search(reason)) and bool(steps) \
            and steps[0].startswith("The pull was interrupted")
        if not interrupted:  # (an interrupted pull's first step already starts it again)
            steps.append("Then start fresh tasks so the pull is tried again"
                         + (f" (on the new task definition revision, if you changed it): {remedy.roll_out_any(ev)}."
                            if changes_td and remedy.launcher(ev) not in ("batch", "stepfunctions", "jenkins")
                            else f": {remedy.rerun(ev)}."))
        return Explanation(
            title=f"Image pull failed: {image}" + (f" ({cause})" if cause else ""),
            summary=(f"ECS could not pull `{image}`" + (f" ({cause.replace('-', ' ')})" if cause else "")
                     + ", so the task never started."),
            remediation=steps,
        )


PATTERN = ImagePullFailed()
