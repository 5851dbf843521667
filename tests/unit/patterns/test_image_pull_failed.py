"""image-pull-failed: CannotPullContainerError in its real wordings, one cause each."""

from __future__ import annotations

import pytest

from shared.patterns.image_pull_failed import PATTERN
from tests.support.fixcheck import problems
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import IMAGE, assert_finding, box, failed_to_start

ID = "image-pull-failed"
ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"

POSITIVES = [
    pytest.param(failed_to_start("CannotPullContainerError: Error response from daemon: Get https://"
                                 f"{ECR}/v2/: net/http: request canceled while waiting for connection "
                                 "(Client.Timeout exceeded while awaiting headers)"),
                 {"cause": "network", "image": IMAGE}, id="ecr-unreachable-image-from-the-event"),
    pytest.param(failed_to_start("CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: "
                                 "httpReadSeeker: failed open: failed to do request: Get \"https://prod-us-east-1-"
                                 "starport-layer-bucket.s3.us-east-1.amazonaws.com/a1b2-111122223333-c3d4/0a1b.layer"
                                 "\": dial tcp 52.216.10.2:443: i/o timeout"),
                 {"cause": "network"}, id="layer-bucket-timeout"),
    pytest.param(failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed "
                                 "to resolve ref docker.io/library/nginx:latestt: docker.io/library/nginx:latestt: "
                                 "not found"),
                 {"cause": "not-found", "image": "docker.io/library/nginx:latestt"}, id="docker-hub-tag-typo"),
    pytest.param(failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed "
                                 f"to resolve ref {ECR}/orders-api:v2: {ECR}/orders-api:v2: not found"),
                 {"cause": "not-found", "image": f"{ECR}/orders-api:v2"}, id="ecr-tag-not-pushed"),
    pytest.param(failed_to_start(f"CannotPullContainerError: API error (404): repository {ECR}/orders-api not "
                                 "found"), {"cause": "not-found", "image": f"{ECR}/orders-api"}, id="api-error-404"),
    pytest.param(failed_to_start("CannotPullContainerError: Error response from daemon: pull access denied for "
                                 f"{ECR}/orders-api, repository does not exist or may require 'docker login': "
                                 "denied: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/8f3a is "
                                 "not authorized to perform: ecr:BatchGetImage on resource: "
                                 "arn:aws:ecr:us-east-1:111122223333:repository/orders-api"),
                 {"cause": "access-denied", "image": f"{ECR}/orders-api"}, id="execution-role-lacks-ecr"),
    pytest.param(failed_to_start("CannotPullContainerError: Error response from daemon: pull access denied for "
                                 "acme/private-api, repository does not exist or may require 'docker login': denied: "
                                 "requested access to the resource is denied"),
                 {"cause": "access-denied", "image": "acme/private-api"}, id="docker-hub-private"),
    pytest.param(failed_to_start("CannotPullContainerError: Error response from daemon: toomanyrequests: You have "
                                 "reached your pull rate limit. You may increase the limit by authenticating and "
                                 "upgrading: https://www.docker.com/increase-rate-limit"),
                 {"cause": "rate-limited"}, id="docker-hub-rate-limit"),
    pytest.param(failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): image "
                                 "Manifest does not contain descriptor matching platform 'linux/arm64'",
                                 attributes=[{"name": "ecs.cpu-architecture", "value": "arm64"}]),
                 {"cause": "platform", "cpu_architecture": "arm64"}, id="no-arm64-variant"),
    pytest.param({"containers": [box(None, reason="CannotPullContainerError: API error (404): repository "
                                                  "serverless-batch not found: does not exist or no pull access")]},
                 {"cause": "not-found", "image": "serverless-batch"}, id="reason-on-the-container-only"),
    pytest.param(failed_to_start("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to "
                                 "resolve ref docker.io/library/sha256:" + "8" * 64 + ": pull access denied, "
                                 "repository does not exist or may require authorization: server message: "
                                 "insufficient_scope: authorization failed", box(None, image="sha256:" + "8" * 64)),
                 {"cause": "not-found", "image": "sha256:" + "8" * 64, "reference": "digest without repository"},
                 id="digest-without-repository"),
    pytest.param(failed_to_start("CannotPullContainerError failed to find a descriptor for platform 0xc0004d52c0 "
                                 "0xc0004d5320"), {"cause": "platform"}, id="no-descriptor-for-platform"),
    # The agent's other pull error names, and Docker's registry refusal in the daemon's multi-line form.
    pytest.param(failed_to_start("Task failed to start", box(None, reason="CannotPullImageManifestError: Error response "
                                 "from daemon: errors:\ndenied: requested access to the resource is denied\n"
                                 "unauthorized: authentication required")),
                 {"cause": "access-denied"}, id="manifest-error-name-registry-denied"),
    # A pull that never finished, in the agent's one word.
    pytest.param(failed_to_start("CannotPullContainerError: timeout"), {"cause": "network", "image": IMAGE},
                 id="bare-timeout-is-the-network"),
]


@pytest.mark.parametrize(("detail", "facts"), POSITIVES)
def test_positive(detail, facts):
    assert_finding(run([], **detail), ID, facts)


def test_the_sidecar_whose_image_failed_is_named():
    sidecar = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
    detail = failed_to_start(f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
                             f"resolve ref {sidecar}: {sidecar}: not found",
                             box(None, "app"), box(None, "otel", image=sidecar))
    assert_finding(run([], **detail), ID, {"container": "otel", "image": sidecar})


def test_platform_failure_beats_the_app_log():
    detail = failed_to_start(f"CannotPullContainerError: API error (404): repository {ECR}/orders-api not found")
    finding = run(["Traceback (most recent call last):", '  File "/app/a.py", line 1, in <module>',
                   "ModuleNotFoundError: No module named 'x'"], **detail)
    assert finding.pattern == ID


def test_remediation_for_ecr_not_found_checks_the_tag():
    finding = run([], **failed_to_start(f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                                        f"failed to resolve ref {ECR}/orders-api:v2: {ECR}/orders-api:v2: not found"))
    assert "aws ecr describe-images --repository-name orders-api --image-ids imageTag=v2" in finding.remediation[0]


NEGATIVES = [
    pytest.param(failed_to_start("CannotPullContainerError: failed to register layer: Error processing tar file(exit "
                                 "status 1): write /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1: no space left on "
                                 "device"), "disk-full", True, id="disk-full-while-extracting-beats-pull"),
    pytest.param(failed_to_start("ResourceInitializationError: unable to pull secrets or registry auth: execution "
                                 "resource retrieval failed: unable to retrieve ecr registry auth: service call has "
                                 "been retried 3 time(s): RequestError: send request failed caused by: Post "
                                 "\"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 10.0.0.1:443: i/o timeout"),
                 "secrets-retrieval-failed", False, id="registry-auth-is-secrets-stage"),
    pytest.param(failed_to_start("CannotStartContainerError: Error response from daemon: failed to create shim task: "
                                 "OCI runtime create failed: runc create failed: unable to start container process: "
                                 "exec: \"uvicorn\": executable file not found in $PATH: unknown"),
                 "container-start-failed", False, id="image-pulled-but-entrypoint-missing"),
    # The runtime timing out on a container it had pulled: the platform, not a pull with a network cause.
    pytest.param(failed_to_start("DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s"),
                 "platform-error", False, id="docker-timeout-is-no-pull"),
]


@pytest.mark.parametrize(("detail", "expected", "fires"), NEGATIVES)
def test_nearest_neighbour(detail, expected, fires):
    assert run([], **detail).pattern == expected
    assert (PATTERN.match(evidence([], **detail)) is not None) is fires


_TOKEN = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
          "\"registry.example.com/team/api:1.4\": failed to authorize: failed to fetch ")


@pytest.mark.parametrize(("tail", "cause"), [
    # the registry asked for credentials and containerd's token step got none: the task gives no repositoryCredentials
    pytest.param("oauth token.", "access-denied", id="token-refused-without-a-status"),
    pytest.param("anonymous token: unexpected status: 401 Unauthorized", "access-denied", id="token-refused-401"),
    # near misses: the token endpoint never answered, or answered with a server error (no refusal)
    pytest.param("anonymous token: Get \"https://registry.example.com/token?scope=repository%3Ateam%2Fapi%3Apull\": "
                 "dial tcp 10.1.2.3:443: i/o timeout", "network", id="token-endpoint-unreachable"),
    pytest.param("anonymous token: unexpected status: 503 Service Unavailable", None, id="token-endpoint-server-error"),
    pytest.param("anonymous token: Get \"https://registry.example.com/token\": tls: failed to verify certificate: x509: "
                 "certificate signed by unknown authority", None, id="token-endpoint-certificate-not-trusted"),
])
def test_the_registry_token_step_names_its_cause(tail, cause):
    finding = run([], **failed_to_start(_TOKEN + tail))
    assert finding.pattern == ID
    assert finding.facts.get("cause") == cause
    assert finding.facts.get("image") == "registry.example.com/team/api:1.4"


AGENT_LOG = ["2018-08-30T10:04:07Z [WARN] Error while pulling container web, will try to run anyway: API error (404): "
             "repository 111122223333.dkr.ecr.us-east-1.amazonaws.com/web not found",
             "2018-08-30T10:04:07Z [WARN] error transitioning container [web] to [CREATED]: no such image"]


def test_the_agent_log_tells_a_pull_failure_the_stop_reason_does_not():
    detail = {"stoppedReason": "Essential container in task exited", "stopCode": "EssentialContainerExited",
              "containers": [box(None, name="web", image="111122223333.dkr.ecr.us-east-1.amazonaws.com/web")]}
    finding = run(AGENT_LOG, **detail)
    assert_finding(finding, ID, {"cause": "not-found", "container": "web", "missing": "repository",
                                 "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/web"})
    assert "describe-repositories --repository-names web" in finding.remediation[0]


def test_an_app_that_pulls_images_itself_and_exits_is_not_an_image_pull_failure():
    # A CI runner logs its job's pull errors; the task's own container ran and returned an exit code.
    logs = ["ERROR: Job failed: failed to pull image \"registry.example.org/build:1\" with specified policies "
            "[always]: Error response from daemon: manifest unknown"]
    detail = {"containers": [box(1, name="runner", image="gitlab/gitlab-runner:latest")]}
    assert PATTERN.match(evidence(logs, **detail)) is None
    assert run(logs, **detail).pattern != ID


def test_a_digest_without_repository_is_explained_as_such():
    detail = failed_to_start("CannotPullContainerError: failed to resolve ref docker.io/library/sha256:" + "8" * 64
                             + ": pull access denied", box(None, image="sha256:" + "8" * 64))
    assert "docker.io/library/sha256" in "\n".join(run([], **detail).remediation)


PARAMS_DOCKERHUB_TIMEOUT = failed_to_start(
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
    "docker.io/tryretool/backend:2.110.5: failed to do request: Head \"https://registry-1.docker.io/v2/tryretool/"
    "backend/manifests/2.110.5\": dial tcp 34.205.13.154:443: i/o timeout")


def test_a_batch_job_is_resubmitted_not_run_task():
    job = "2f0b3c9e-7a41-4d16-9b0e-5c8d2a7e1f63"
    finding = run([], **PARAMS_DOCKERHUB_TIMEOUT, group="family:samtools-job",
                  startedBy=f"arn:aws:batch:us-east-1:111122223333:job/{job}",
                  clusterArn="arn:aws:ecs:us-east-1:111122223333:cluster/AWSBatch-ce-8c1d0b9f")
    text = " ".join(finding.remediation)
    assert "run-task" not in text and "update-service" not in text, text
    assert f"resubmit the AWS Batch job (`aws batch describe-jobs --jobs {job} --region us-east-1`" in text


def test_a_docker_hub_timeout_gets_no_ecr_endpoint_advice():
    finding = run([], **PARAMS_DOCKERHUB_TIMEOUT)
    assert_finding(finding, ID, {"cause": "network"})
    text = " ".join(finding.remediation)
    assert "ecr.api" not in text and "ecr.dkr" not in text, text
    assert "docker.io" in text and "NAT gateway" in text
    ecr = run([], **failed_to_start("CannotPullContainerError: Error response from daemon: Get https://"
                                    f"{ECR}/v2/: net/http: request canceled while waiting for connection "
                                    "(Client.Timeout exceeded while awaiting headers)"))
    assert "ecr.dkr" in " ".join(ecr.remediation)


# -------------------------------------------------------------------------------------------------
# Platform: an image of someone else is never rebuilt and pushed to; an OS mismatch is not a CPU one
# -------------------------------------------------------------------------------------------------
_NO_AMD64 = ("CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not "
             "contain descriptor matching platform 'linux/amd64'.")


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def test_pull_image_manifest_is_not_read_as_the_image_name():
    finding = run([], **failed_to_start(_NO_AMD64))
    assert finding.facts["image"] == IMAGE
    assert "-t manifest" not in _fix(finding)


def test_own_ecr_image_is_rebuilt_into_its_repository_and_rolled_out_as_a_new_revision():
    finding = run([], **failed_to_start(_NO_AMD64))
    assert f"docker buildx build --platform linux/amd64 -t {IMAGE} --push ." in finding.remediation[0]
    assert '"cpuArchitecture": "ARM64"' in finding.remediation[1]
    assert "--task-definition orders-api" in finding.remediation[-1]  # not --force-new-deployment
    assert not [p for ps in problems(finding).values() for p in ps]


@pytest.mark.parametrize("image", ["nginx:1.27", "grafana/loki:3.0.0",
                                   "999988887777.dkr.ecr.us-east-1.amazonaws.com/shared/base:1"])
def test_someone_elses_image_is_never_pushed_to(image):
    finding = run([], **failed_to_start(_NO_AMD64, box(None, image=image)))
    fix = _fix(finding)
    assert f"-t {image}" not in fix and f"-t docker.io/{image}" not in fix
    assert '"cpuArchitecture": "ARM64"' in finding.remediation[0]
    assert f"docker buildx imagetools inspect {image}" in fix
    assert "-t 111122223333.dkr.ecr.us-east-1.amazonaws.com/" in fix  # a copy goes to the team's own ECR
    assert not [p for ps in problems(finding).values() for p in ps]


def test_a_linux_image_on_a_windows_instance_is_an_os_mismatch():
    reason = ("CannotPullContainerError: Error response from daemon: no matching manifest for windows/amd64 "
              "10.0.17763 in the manifest list entries")
    detail = failed_to_start("Essential container in task exited", box(None, image="nginx:latest", reason=reason),
                             launchType="EC2")
    finding = run([], **detail)
    fix = _fix(finding)
    assert "attribute:ecs.os-type == linux" in finding.remediation[0]
    assert "buildx" not in fix and "cpuArchitecture" not in fix and "Windows Server 2019" in fix


def test_a_windows_image_on_linux_runs_on_windows():
    reason = ('CannotPullContainerError: image operating system "windows" cannot be used on this platform')
    detail = failed_to_start(reason, box(None, image="mcr.microsoft.com/dotnet/framework/aspnet:4.8"))
    finding = run([], **detail)
    assert "WINDOWS_SERVER" in finding.remediation[0] and "buildx" not in _fix(finding)


def test_near_miss_linux_arm64_missing_on_a_linux_host_stays_an_architecture_fix():
    reason = "CannotPullContainerError: no matching manifest for linux/arm64/v8 in the manifest list entries"
    finding = run([], **failed_to_start(reason, box(None, image="nginx:1.27")))
    assert '"cpuArchitecture": "X86_64"' in finding.remediation[0] and "ecs.os-type" not in _fix(finding)


def test_a_windows_image_of_another_windows_version_is_a_version_mismatch():
    reason = "CannotPullContainerError: a Windows version 10.0.18363-based image is incompatible with a 10.0.17763 host"
    finding = run([], **failed_to_start(reason, box(None, image="registry.example.com/svc:1"), launchType="EC2"))
    assert "Windows Server 2019" in finding.remediation[0] and "cpuArchitecture" not in _fix(finding)


def test_a_linux_image_on_a_windows_instance_is_an_os_mismatch_not_a_cpu_one():
    """"no matching manifest for windows/amd64": run on Linux instances, no rebuild for another CPU; near miss:
    "descriptor matching platform 'linux/amd64'" builds for linux/amd64 and rolls out a new revision."""
    win = ("CannotPullContainerError: Error response from daemon: no matching manifest for windows/amd64 10.0.17763 in "
           "the manifest list entries")
    f = run([], **failed_to_start(win, box(None, image="nginx:latest")))
    text = "\n".join(f.remediation)
    assert "ecs-os-type" in text.replace(".", "-") and "buildx" not in text, text
    lin = ("CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain "
           "descriptor matching platform 'linux/amd64'")
    f = run([], **failed_to_start(lin), group="service:web")
    text = "\n".join(f.remediation)
    assert "--platform linux/amd64" in text and "--task-definition" in text and "--force-new-deployment" in text, text


def test_a_word_of_the_message_is_not_shown_as_the_image():
    """"pull image manifest has been retried": the title names the container's image, not "manifest"."""
    reason = ("CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain "
              "descriptor matching platform 'linux/amd64'")
    f = run([], **failed_to_start(reason))
    assert IMAGE in f.title and "manifest (" not in f.title, f.title


@pytest.mark.parametrize(("image", "latest"), [("elasticsearch", True), ("elasticsearch:8.13.0", False)])
def test_a_missing_latest_tag_is_pinned_and_a_missing_version_is_checked(image, latest):
    reason = f"CannotPullContainerError: Error response from daemon: manifest for {image}{'' if ':' in image else ':latest'} not found: manifest unknown: manifest unknown"
    f = run([], **failed_to_start(reason, box(None, image=image)))
    if f.facts.get("cause") != "not-found":
        pytest.skip(str(f.facts))
    assert ("pin a version tag" in f.remediation[0]) == latest, f.remediation[0]


def test_a_reference_the_reporter_masked_falls_back_to_the_events_image():
    reason = ('CannotPullContainerError: inspect image has been retried 1 time(s): failed to resolve ref "xxxxx.xxx": '
              "unexpected status code [manifests 6981141]: 403 Forbidden")
    finding = run([], **failed_to_start(reason))
    assert finding.facts["image"] == IMAGE and "ECR pull permissions" in finding.remediation[0]


def test_near_miss_a_real_reference_in_the_message_is_kept():
    reason = ('CannotPullContainerError: failed to resolve ref "docker.io/acme/xapp:1": pull access denied')
    finding = run([], **failed_to_start(reason, box(None, image="acme/xapp:1")))
    assert finding.facts["image"] == "docker.io/acme/xapp:1"


def test_a_push_refused_in_the_applications_log_is_no_pull_failure():
    """Near miss: a CI job that ran and logged Docker's registry refusal of its own `docker push` (exit 1) did
    pull its image; the words in its log are not why ECS could not start it."""
    logs = ["The push refers to repository [docker.io/acme/builder]", "denied: requested access to the resource is denied"]
    detail = {"stoppedReason": "Essential container in task exited", "containers": [box(1)]}
    assert PATTERN.match(evidence(logs, **detail)) is None
    assert run(logs, **detail).pattern != ID


@pytest.mark.parametrize("reason", [
    "CannotPullContainerError: Could not reach any registry endpoint",
    "CannotPullContainerError: Error response from daemon: unable to reach registry mirror.example.com",
])
def test_a_registry_no_endpoint_answered_is_the_network(reason):
    assert_finding(run([], **failed_to_start(reason)), ID, {"cause": "network"})


def test_near_miss_a_refusal_that_mentions_reaching_the_registry_stays_a_refusal():
    reason = ("CannotPullContainerError: could not reach the image: pull access denied for private/app, repository "
              "does not exist or may require 'docker login'")
    assert_finding(run([], **failed_to_start(reason)), ID, {"cause": "access-denied"})


def test_a_bare_apply_layer_failure_on_ec2_checks_the_instances_layer_storage_first():
    ref = "111122223333.dkr.ecr.us-east-1.amazonaws.com/big-model:3"
    reason = "CannotPullContainerError: failed to register layer: ApplyLayer exit status 1 stdout:  stderr: "
    got = run([], **failed_to_start(reason, box(None, image=ref), launchType="EC2"))
    assert "docker info" in got.remediation[0] and "base size" in got.remediation[0]
    assert "buildx" not in got.remediation[0]
    # Near miss: a layer that unpacks to the wrong digest is the image's fault, and step 1 rebuilds it.
    bad = run([], **failed_to_start("CannotPullContainerError: failed to register layer: wrong diff id calculated on "
                                    "extraction", box(None, image=ref), launchType="EC2"))
    assert "docker info" not in bad.remediation[0] and "buildx" in bad.remediation[0]
