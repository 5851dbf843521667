"""What every pattern's fix is built from: commands and ARNs filled with what the evidence knows.

A fix must run as pasted. So the patterns never write `<cluster>` or `<image>`: they ask this module
for the command, and it fills in the cluster, service, family:revision, task id, container, image,
region, account and partition the event holds. A value no evidence can give stays a placeholder
that says what to put (`<the subnet the service runs in>`).

The task has stopped when a finding is made: there is no ECS Exec into it. To look from inside, a
fix reproduces it with `run-task` (same task definition, same network, a command override) or a
local `docker run` with the task's image, cpu, memory and variable names.

Pure functions of the Evidence; nothing here calls AWS.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard

from shared.attribution import sidecar_kind
from shared.evidence.model import Evidence
from shared.models.event import Container, cluster_name, service_name, split_arn, task_id
from shared.scan import HAVE_AUTOMATON, NeedleSet, lazy_re, required_words

ACCOUNT_UNKNOWN = "<your 12-digit account id>"
REGION_UNKNOWN = "<the region of the task>"

# A value a reporter replaced in an ARN or message: <account id>, {REGION}, [ACCOUNT-ID], xxxxxxxxxxxx
_ACCOUNT = lazy_re(r"^\d{12}$")
_REGION = lazy_re(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")


# -------------------------------------------------------------------------------------------------
# What the event knows
# -------------------------------------------------------------------------------------------------
def region(ev: Evidence) -> str | None:
    r = ev.event.region or split_arn(ev.detail.task_arn)[0]
    return r if r and _REGION.match(r) else None


def account(ev: Evidence) -> str | None:
    a = ev.event.account or split_arn(ev.detail.task_arn)[1]
    return a if a and _ACCOUNT.match(a) else None


def partition(ev: Evidence) -> str:
    r = region(ev) or ""
    return "aws-cn" if r.startswith("cn-") else "aws-us-gov" if r.startswith("us-gov-") else "aws"


def cluster(ev: Evidence) -> str:
    return cluster_name(ev.detail.cluster_arn) or "default"


def service(ev: Evidence) -> str | None:
    return service_name(ev.detail.group)


_BATCH_JOB = lazy_re(r"^(?:arn:[\w-]+:batch:[^:]*:[^:]*:job/)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:#\d+)?$")


# The ECS cluster AWS Batch creates for a compute environment: "<environment name>_Batch_<uuid>"
_BATCH_CLUSTER = lazy_re(r"(?:^AWSBatch-|_Batch_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)")


def batch_cluster(ev: Evidence) -> bool:
    return bool(_BATCH_CLUSTER.search(cluster(ev)))


def batch_job(ev: Evidence) -> str | None:
    """The AWS Batch job id of a task Batch started (Batch sets startedBy to the job id or ARN)."""
    m = _BATCH_JOB.match((ev.detail.started_by or "").strip())
    if m and (":batch:" in (ev.detail.started_by or "") or batch_cluster(ev)):
        return m.group(1)
    return None


def launcher(ev: Evidence) -> str:
    """Who starts the task again: "service" (a service: `group` is `service:<name>`), "batch" (an AWS
    Batch job), "stepfunctions", "schedule" (an EventBridge rule or Scheduler), "program" (startedBy names a
    program that starts such tasks itself: a workflow scheduler or executor, a dispatcher, a Lambda function), or
    "run-task" (a person, a pipeline, ecs-cli: nothing starts it again), "jenkins" (an agent of the Jenkins ECS
    plugin)."""
    if service(ev):
        return "service"
    by = ev.detail.started_by or ""
    if batch_job(ev) or batch_cluster(ev):
        return "batch"
    if "jenkins" in by.lower():
        return "jenkins"
    if "step functions" in by.lower() or by.startswith("arn:aws:states:") or ":states:" in by:
        return "stepfunctions"
    if by.startswith(("events-rule/", "events!", "scheduler", "eventbridge")) or "events-rule" in by:
        return "schedule"
    if _PROGRAM_LAUNCHER.search(by):
        return "program"
    return "run-task"


# startedBy words of a program that starts tasks of its own accord, again and again (a workflow engine, a scheduler
# or executor, a queue dispatcher, a Lambda function, a timer): it names the task definition it starts, so a one-off
# run-task changes nothing it does. Whole words only, and only words whose role is starting tasks repeatedly:
# "worker" and "trigger" also name a CI job or a person's button ("deploy-worker", "manual-trigger"), which ran the
# task once, so they count only next to a workflow engine's name ("prefect-worker").
# A camelCase name is words too: its capitalised word starts one ("nightlyScheduler", "etlExecutor").
_PROGRAM_LAUNCHER = lazy_re(r"(?i)(?:(?<![a-z0-9])|(?<=[a-z0-9])(?-i:(?=[A-Z])))(?:schedul\w*|executors?|dispatch\w*|"
                            r"orchestrat\w*|cron\w*|timers?|lambda|autoscal\w*|airflow|prefect|dagster|digdag)"
                            r"(?:(?![a-z0-9])|(?-i:(?=[A-Z])))")


def start_again(ev: Evidence) -> str:
    """How a stopped task is started again, as a clause: the service's scheduler, a resubmitted Batch
    job, a re-run Step Functions execution, the schedule, or a run-task."""
    kind = launcher(ev)
    if kind == "service":
        return "the service scheduler starts a replacement task"
    if kind == "batch":
        job = batch_job(ev)
        return ("nothing starts it again: resubmit the AWS Batch job"
                + (f" (`aws batch describe-jobs --jobs {job}` names its queue and job definition)" if job else "")
                + ", or give its job definition a retry strategy")
    if kind == "jenkins":
        return "the Jenkins ECS plugin starts a new agent when a build needs one"
    if kind == "stepfunctions":
        return ("nothing starts it again: re-run the Step Functions execution, or add a Retry to the state "
                "that runs the task")
    if kind == "schedule":
        rule = schedule_rule(ev)
        groups = ev.network.security_groups if ev.network else ()
        # The copy gets the VPC's default group unless given the task's own; the rule's target holds them.
        where = (f" (add the rule target's security groups, listed by `aws events list-targets-by-rule --rule "
                 f"{q(rule)} --query 'Targets[].EcsParameters.NetworkConfiguration'`, as `securityGroups=[...]`, "
                 "else the copy gets the VPC's default group)"
                 if rule and not groups and network_mode(ev) == "awsvpc" else "")
        return f"the schedule starts it again at its next run; to retry now: `{run_task(ev, as_started=True)}`{where}"
    return f"nothing starts it again: run it again with `{run_task(ev, as_started=True)}`"


def family_revision(ev: Evidence) -> str | None:
    arn = ev.detail.task_definition_arn
    return arn.rsplit("/", 1)[-1] if arn else None


def family(ev: Evidence) -> str | None:
    fr = family_revision(ev)
    return fr.split(":", 1)[0] if fr else None


def task(ev: Evidence) -> str | None:
    return task_id(ev.detail.task_arn)


def image(ev: Evidence, container: str | None) -> str | None:
    c = ev.container(container) or ev.container(ev.primary)
    if c and c.image:
        return c.image
    cdef = ev.container_definition(container)
    return cdef.image if cdef and cdef.image else None


def container_name(ev: Evidence, container: str | None) -> str | None:
    if container and ev.container(container):
        return container
    return container or ev.primary


# (A tag naming a Windows Server long-term servicing channel, ":ltsc2019", is a Windows image too: a Linux image's tag
# does not use the word.)
_WINDOWS_IMAGE = lazy_re(r"mcr\.microsoft\.com/windows|servercore|nanoserver|windows|:[\w.-]*\bltsc20\d\d\b", re.IGNORECASE)


def is_windows(ev: Evidence) -> bool:
    """A Windows task: the platform family, the OS family of the task definition, the instance's OS
    attribute, or a Windows base image says so."""
    fam = " ".join(x or "" for x in (ev.detail.platform_family, ev.detail.attribute("ecs.os-type"),
                                     ev.task_definition.os_family if ev.task_definition else None))
    if "windows" in fam.lower():
        return True
    return any(c.image and _WINDOWS_IMAGE.search(c.image) for c in ev.detail.containers)


_WINDOWS_AGENT = lazy_re(r"_windows\.go|C:\\ProgramData\\Amazon\\ECS")


def windows_instance(ev: Evidence) -> bool:
    """A Windows task or container instance: is_windows, or the agent's own lines name its Windows code."""
    return is_windows(ev) or ev.logs.search(_WINDOWS_AGENT, 0, 400) is not None or "_windows.go" in ev.reason_text


def agent_log(ev: Evidence) -> str:
    """Where the ECS agent writes its log on the task's kind of instance."""
    return "C:\\ProgramData\\Amazon\\ECS\\log\\ecs-agent.log" if windows_instance(ev) else "/var/log/ecs/ecs-agent.log"


# An NVIDIA GPU instance family (p3, p4d, g4dn, g5, g5g, g6e, gr6...; not g4ad, whose GPU is AMD's).
_GPU_INSTANCE = lazy_re(r"^(?:p\d+[a-z]*|g(?!4ad)\d+[a-z]*|gr\d+[a-z]*)\.", re.IGNORECASE)
# A line of the container's own log that shows it running on an NVIDIA GPU: CUDA, cuDNN, NVIDIA driver or device
# lines, a "cuda:0" device. Not one saying there is none ("no CUDA-capable device", "NVIDIA driver was not
# detected", "CUDA not available"): that program ran without a GPU, as a plain local run does.
_GPU_LOG = lazy_re(r"\b(?:CUDA|cuDNN|NVIDIA|NVML|nvidia-smi)\b|\bcuda:\d|\btorch\.cuda\.")
# A check printing its answer counts too: "CUDA available: False", "torch.cuda.is_available() = False, using cpu".
_NO_GPU = lazy_re(r"(?i)\b(?:no|not|unavailable|without|unable|cannot|can't|could not|failed|missing|"
                  r"falling back|fallback)\b|\bcpu[- ]only\b|\bavailable(?:\(\))?\s*(?:[:=]=?|is)\s*false\b|"
                  r"\busing (?:the )?cpu\b")


def uses_gpu(ev: Evidence, container: str | None) -> bool:
    """The container runs with an NVIDIA GPU: ECS assigned it GPUs (the event's gpuIds, its definition's
    resourceRequirements GPU), the instance is a GPU type, or its own log shows CUDA/NVIDIA at work. A local
    `docker run` of it then needs `--gpus all`, or the program starts without the GPU the task had."""
    name = container_name(ev, container)
    c = ev.container(name)
    if c and c.gpu_ids:
        return True
    cdef = ev.container_definition(name)
    if cdef and cdef.gpus:
        return True
    if _GPU_INSTANCE.search(ev.detail.attribute("ecs.instance-type") or ""):
        return True
    if not name:
        return False
    texts, containers = ev.logs.texts, ev.logs.containers
    return any(containers[i] == name and not _NO_GPU.search(texts[i])
               for i in ev.logs.may_match(_GPU_LOG, 0, None) if _GPU_LOG.search(texts[i]))


def gpu_host(ev: Evidence, container: str | None) -> str:
    """Where a local run of a GPU container must happen (", on a machine with an NVIDIA GPU ...") or ""."""
    if not uses_gpu(ev, container):
        return ""
    return (" on a machine with an NVIDIA GPU like the task's (Docker with the NVIDIA Container Toolkit; "
            "`--gpus all` gives the container the GPU the task had, without it the program starts with none)")


def is_windows_image(ref: str | None) -> bool:
    """A Windows base image (servercore, nanoserver, mcr.microsoft.com/windows...)."""
    return bool(ref and _WINDOWS_IMAGE.search(ref))


def is_fargate(ev: Evidence) -> bool:
    d = ev.detail
    return (d.launch_type or "").upper() == "FARGATE" or "FARGATE" in (d.capacity_provider_name or "").upper() or (
        d.launch_type is None and d.platform_version is not None)


def public_ip_allowed(ev: Evidence) -> bool:
    """Whether the task can get a public IP of its own (assignPublicIp): Fargate only; an awsvpc task on an
    EC2 instance cannot, whatever its subnet."""
    if is_fargate(ev):
        return True
    return not ((ev.detail.launch_type or "").upper() == "EXTERNAL" or (ev.detail.launch_type or "").upper() == "EC2"
                or ev.detail.container_instance_arn)


def network_mode(ev: Evidence) -> str | None:
    if ev.task_definition and ev.task_definition.network_mode:
        return ev.task_definition.network_mode
    if is_fargate(ev) or ev.detail.eni_detail("networkInterfaceId") or ev.subnet:
        return "awsvpc"
    return None


def localhost_mode(ev: Evidence) -> str | None:
    """Whether a task's containers share localhost: "shared" (awsvpc, Fargate, host), "bridge" (the task
    definition says bridge, or an EC2 task with no network interface of its own maps a host port other than its
    container port, which only bridge does), "not-awsvpc" (an EC2 task with no network interface: bridge or
    host), or None (unknown)."""
    mode = network_mode(ev)
    if mode in ("awsvpc", "host"):
        return "shared"
    if mode == "bridge":
        return "bridge"
    if mode is not None or is_fargate(ev) or ev.detail.eni_detail("networkInterfaceId"):
        return None
    if not ((ev.detail.launch_type or "").upper() in ("EC2", "EXTERNAL") or ev.detail.container_instance_arn):
        return None
    if any(b.host_port and b.container_port and b.host_port != b.container_port
           for c in ev.detail.containers for b in c.network_bindings):
        return "bridge"
    return "not-awsvpc"


def sibling_container(ev: Evidence, what: str) -> str | None:
    """The advice to run `what` (a database, an agent) as another container of the task where the app cannot
    reach it over localhost (bridge mode: by a `links` name), or None where the task's containers share
    localhost (awsvpc, Fargate, host): the caller's plain "add it to the task" applies there."""
    mode = localhost_mode(ev)
    if mode == "shared":
        return None
    if mode == "bridge":
        return (f"run {what} as another container of the task and connect to it by name: in `bridge` network mode "
                "the task's containers do not share localhost, so give the app a `links` entry to it and use that "
                "name as the host, not 127.0.0.1 (or move the task to the `awsvpc` network mode)")
    if mode == "not-awsvpc":
        return (f"run {what} as another container of the task: this EC2 task has no network interface of its own "
                "(not `awsvpc`), and in `bridge` mode the task's containers do not share localhost, so connect to it "
                "by its `links` name, not 127.0.0.1")
    return (f"add {what} as a container of the task (it shares localhost with the app only in the `awsvpc` "
            "network mode, Fargate's; in `bridge` mode connect to it by its `links` name)")


def needs_a_value(what: str) -> str:
    """A placeholder that says what to put."""
    return f"<{what}>"


# -------------------------------------------------------------------------------------------------
# Shell
# -------------------------------------------------------------------------------------------------
_SHELL_WORD = lazy_re(r"[\w@%+=:,./-]+")
_PLACEHOLDER_WORD = lazy_re(r"<[^<>'\n]+>")


def q(value: object) -> str:
    """A shell word (quoted only when it must be)."""
    s = str(value)
    if _SHELL_WORD.fullmatch(s) or _PLACEHOLDER_WORD.fullmatch(s):
        return s if not s.startswith("<") else f"'{s}'"
    return shlex.quote(s)


def code(text: str) -> str:
    """Inline code for a step."""
    return f"`{text}`"


# -------------------------------------------------------------------------------------------------
# ECS commands
# -------------------------------------------------------------------------------------------------
def describe_task(ev: Evidence) -> str:
    return f"aws ecs describe-tasks --cluster {q(cluster(ev))} --tasks {q(task(ev) or ev.detail.task_arn)}"


def service_events(ev: Evidence) -> str | None:
    svc = service(ev)
    if not svc:
        return None
    return (f"aws ecs describe-services --cluster {q(cluster(ev))} --services {q(svc)} "
            "--query 'services[0].events[:10]'")


def deploy(ev: Evidence, *, new_revision: bool = True) -> str:
    """Roll the service onto the new task definition revision (its family: the latest ACTIVE revision),
    or, for a task no service runs, run the new revision once. A service always gets a new deployment:
    `--task-definition` naming the revision it already runs (no new revision was registered, or the fix
    was an image pushed again under the same tag, such as :latest) starts none, and the fix never ships."""
    svc = service(ev)
    fam = family(ev) or needs_a_value("the task definition family")
    if svc:
        target = f"--task-definition {q(fam)} --force-new-deployment" if new_revision else "--force-new-deployment"
        return f"aws ecs update-service --cluster {q(cluster(ev))} --service {q(svc)} {target}"
    # A one-off started with a command override (a migration, a rake task) is re-run with it: the new revision
    # with the task definition's default command would not redo what failed. Not when the override is what failed
    # (its program is the one the runtime could not exec).
    return run_task(ev, revision=fam, as_started=not _override_failed(ev))


def _override_failed(ev: Evidence) -> bool:
    """The program a command override names could not be run: the runtime could not exec it
    (`exec: "X": executable file not found`), or the image's shell entrypoint that execs its arguments did not find
    it (`exec: X: not found`, exit 127, in that container's log)."""
    reasons = " ".join(filter(None, [ev.detail.stopped_reason or ""]
                              + [c.reason for c in ev.detail.containers]))
    return any(str(o["command"][0]) and (f'exec: "{o["command"][0]}"' in reasons
                                         or _shell_exec_not_found(ev, o["name"], o["command"][0]))
               for o in _command_overrides(ev) if o.get("command"))


def _shell_exec_not_found(ev: Evidence, container: str, program: str) -> bool:
    """The container exited 127 (command not found) and its shell said `exec: <program>: not found` (sh, dash and
    bash word it so: "docker-entrypoint.sh: line 12: exec: X: not found")."""
    box = next((c for c in ev.detail.containers if c.name == container), None)
    if box is None or box.exit_code != 127:
        return False
    said = re.compile(r"\bexec: " + re.escape(program) + r": not found")
    return ev.logs.search(said, keep=lambda c: c in (container, None)) is not None


def redeploy(ev: Evidence) -> str:
    """Start fresh tasks of the same revision (after fixing something outside the task definition)."""
    return deploy(ev, new_revision=False)


_TD_WORDS = lazy_re(r"(?<!registers this )\b([Tt])ask definition(?!s? from)(?=[' ,.;:)]|$)")


def definition_words(ev: Evidence, text: str) -> str:
    """A step's prose for the launcher: an AWS Batch job's image and container settings live in its job
    definition (Batch registers the ECS task definition from it), so "the task definition" there is the job's."""
    if launcher(ev) != "batch":
        return text
    return _TD_WORDS.sub(lambda m: ("J" if m.group(1) == "T" else "j") + "ob definition", text)


def rerun(ev: Evidence) -> str:
    """Start the task again, for a step: the redeploy command of a service or a one-off task (in
    backticks), or how Batch or Step Functions retry (they, not ECS, own the retry)."""
    if launcher(ev) in ("batch", "stepfunctions"):
        return start_again(ev).split(": ", 1)[1]
    if launcher(ev) == "jenkins":
        return "re-run the build (" + start_again(ev) + ")"
    return code(redeploy(ev))


def roll_out(ev: Evidence) -> str:
    """Put a task definition change into use, for a step: the deploy command (in backticks), or, when
    AWS Batch or the Jenkins ECS plugin registers the task definition, where the change belongs."""
    kind = launcher(ev)
    if kind == "batch":
        job = batch_job(ev)
        return ("AWS Batch registers this task definition from the job definition, so make the change there "
                "(register a new job definition revision) and resubmit the job"
                + (f" (`aws batch describe-jobs --jobs {job}` names its queue and job definition)" if job else ""))
    if kind == "jenkins":
        return ("the Jenkins ECS plugin registers this task definition from its agent template, so make the "
                "change in the template (Manage Jenkins > Clouds > the ECS cloud); new agents use it")
    if kind == "schedule":
        return schedule_roll_out(ev)
    if kind == "program":
        return program_roll_out(ev)
    if kind == "stepfunctions":
        # The state machine's ecs:runTask state names the task definition: a pinned family:revision keeps the old one.
        return ("Step Functions starts this task from its state machine's `ecs:runTask` state, so make that state "
                "use the new revision (its `TaskDefinition` as the family alone takes the latest ACTIVE revision; a "
                "pinned `family:revision` must be updated in the state machine) and re-run the execution")
    return code(deploy(ev))


def schedule_rule(ev: Evidence) -> str | None:
    """The EventBridge rule named in startedBy ("events-rule/<name>"), unless ECS may have cut it short
    (startedBy holds at most 36 characters)."""
    by = ev.detail.started_by or ""
    name = by.split("/", 1)[1] if by.startswith("events-rule/") else None
    return name if name and len(by) < 36 and re.fullmatch(r"[\w.-]+", name) else None


def schedule_roll_out(ev: Evidence) -> str:
    """A task started by an EventBridge rule or schedule: its target names a task definition revision, so
    the target (not a one-off run-task) must point at the new one, or the next run fails again."""
    rule = schedule_rule(ev)
    fam = family(ev) or needs_a_value("the task definition family")
    arn = ev.detail.cluster_arn
    find = (f"the rule `{rule}`" if rule else
            f"the rule (`aws events list-rule-names-by-target --target-arn {q(arn)}` names it)" if arn else
            "the rule or schedule")
    put = ("in bash: ```\n"
           f"aws events list-targets-by-rule --rule {q(rule)} --query Targets --output json > targets.json\n"
           + read_into("td", f"aws ecs describe-task-definition --task-definition {q(fam)} "
                       "--query taskDefinition.taskDefinitionArn") + "\n"
           "jq --arg td \"$td\" 'map(.EcsParameters.TaskDefinitionArn = $td)' targets.json > new-targets.json\n"
           f"aws events put-targets --rule {q(rule)} --targets file://new-targets.json\n```"
           if rule else "update its target's `EcsParameters.TaskDefinitionArn` to the new revision with "
           "`aws events put-targets` (an EventBridge Scheduler schedule: `aws scheduler update-schedule`)")
    return (f"the task is started by {find}, whose target names a task definition revision, so point the "
            f"target at the new revision or the next run fails again: {put}; to run it once now: "
            f"`{run_task(ev, revision=fam)}`")


def program_roll_out(ev: Evidence) -> str:
    """A task another program starts (its startedBy names it): that program's configuration names the task
    definition (or the image, in a container override), so it, not a one-off run-task, must start the new one."""
    fam = family(ev) or needs_a_value("the task definition family")
    return (f"the task was started by `{ev.detail.started_by}` (its startedBy), not by a service, so a run-task rolls "
            "nothing out: make that launcher start the new revision (a launcher configured with the family alone, "
            f"`{fam}`, takes its latest ACTIVE revision; a pinned `family:revision`, or an image named in its own "
            f"settings or overrides, must be changed there); to test the new revision once: `{run_task(ev, revision=fam)}`")


def roll_out_image(ev: Evidence, container: str | None) -> str:
    """roll_out() for a rebuilt image. When the container's image is pinned by digest (`repo@sha256:...`), a new
    deployment of the same revision runs the same digest again: the new build's digest (or a version tag) goes into a
    new revision first, which the family's latest ACTIVE revision then rolls out."""
    ref = image(ev, container) or ""
    # A schedule, Step Functions or a program starts the family's latest ACTIVE revision (or the one it names): that
    # is still the one pinning the old digest until a revision naming the new one is registered. AWS Batch and the
    # Jenkins plugin register the task definition themselves: roll_out() sends the change to their definition.
    if "@sha256:" not in ref or launcher(ev) in ("batch", "jenkins"):
        return roll_out(ev)
    repo, digest = ref.split("@", 1)
    return (f"the task definition pins the image by digest (`{repo}@{digest[:19]}…`), so a new deployment of this "
            "revision runs the same image again: push the rebuilt image, register a new revision of the task "
            f"definition whose image is `{repo}@` and the digest the push prints (or a version tag), then "
            f"{roll_out(ev)}")


def roll_out_any(ev: Evidence) -> str:
    """roll_out() for a fix that may or may not change the task definition (a new revision, or the same
    tag pushed again): a service gets the family's latest revision AND a new deployment."""
    return roll_out(ev)  # deploy() already forces a new deployment of a service


def describe_task_definition(ev: Evidence, query: str | None = None) -> str:
    fr = family_revision(ev) or needs_a_value("the task definition family:revision")
    cmd = f"aws ecs describe-task-definition --task-definition {q(fr)}" + region_flag(ev)
    return cmd + (f" --query {_quote_query(query)}" if query else "")


# CloudFormation's generated physical names end in a random suffix of 12-13 letters and digits
# (<stack>-<LogicalId>-aB1cD2eF3gH4); CDK and Copilot services get such names.
_STACK_SUFFIX = lazy_re(r"-(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{12,13}$"
                           r"|-[A-Za-z0-9]*Service[A-Za-z0-9]*-(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{6,13}$")


def stack_managed(ev: Evidence) -> bool:
    """The service was made by a CloudFormation stack (CDK, Copilot, SAM): its name has the generated suffix,
    or its image is a CDK container asset."""
    svc = service(ev) or ""
    if _STACK_SUFFIX.search(svc):
        return True
    return any(c.image and _CDK_ASSETS.search(image_parts(c.image)[1]) for c in ev.detail.containers)


def region_flag(ev: Evidence) -> str:
    """` --region <the task's region>` when known: a command run from another default region must still
    find the task's resources (and a step that names the region in one command names it in all)."""
    r = region(ev)
    return f" --region {r}" if r else ""


def _quote_query(query: str) -> str:
    """A JMESPath query as one shell word: double quotes when it holds single-quoted literals (a quoted
    identifier such as "awslogs-group" escaped inside them)."""
    if "'" in query and not re.search(r"[$`\\!]", query):
        return '"' + query.replace('"', '\\"') + '"'
    return shlex.quote(query)


def container_query(ev: Evidence, container: str | None, path: str) -> str:
    """A JMESPath query for one field of a container definition (the first one when the name is unknown)."""
    name = container_name(ev, container)
    pick = (f"taskDefinition.containerDefinitions[?name=='{name}']" if name and re.fullmatch(r"[\w.-]+", name)
            else None)
    if path.startswith("("):  # an expression of its own, such as (entryPoint || command)[0]
        return f"{pick} | [0] | {path}" if pick else f"taskDefinition.containerDefinitions[0] | {path}"
    return f"{pick}.{path} | [0]" if pick else f"taskDefinition.containerDefinitions[0].{path}"


def read_into(var: str, command: str) -> str:
    """A shell line that reads a value no evidence gave into $var, so the next command runs as pasted."""
    return f"{var}=$({command} --output text)"


def td_value(ev: Evidence, var: str, container: str | None, path: str) -> str:
    """A shell line reading one field of the task's container definition into $var, e.g. its
    awslogs-group or its first container port."""
    return read_into(var, describe_task_definition(ev, container_query(ev, container, path)))


def _network_configuration(ev: Evidence, *, same_groups: bool = False) -> str | None:
    if network_mode(ev) != "awsvpc":
        return None
    subnet = ev.subnet or needs_a_value("a subnet the service runs in")
    # securityGroups is optional for run-task (the VPC's default group applies): name the task's
    # groups when the evidence knows them, else leave the key out so the command runs as pasted.
    groups = ev.network.security_groups if ev.network else ()
    sg = f",securityGroups=[{','.join(groups)}]" if groups else ""
    svc = service(ev)
    if not groups and same_groups and svc:
        # A test of the network path needs the task's own network (subnets, security groups, public IP): read
        # the service's network configuration, as JSON, in the command itself.
        return (f'"$(aws ecs describe-services --cluster {q(cluster(ev))} --services {q(svc)} --query '
                "'services[0].networkConfiguration' --output json)\"")
    return f"'awsvpcConfiguration={{subnets=[{subnet}]{sg}}}'"


def same_network(ev: Evidence) -> str:
    """How faithful a run-task copy's network is, as a clause for a step that tests the network path."""
    groups = ev.network.security_groups if ev.network else ()
    if network_mode(ev) != "awsvpc" or groups or service(ev):
        return "same task definition and network configuration"
    return ("same task definition and subnet; add the task's own security groups as `securityGroups=[...]` in "
            "the network configuration, else the copy gets the VPC's default group")


def run_task(ev: Evidence, *, container: str | None = None, command: Sequence[str] | None = None,
             revision: str | None = None, same_groups: bool = False, as_started: bool = False) -> str:
    """`aws ecs run-task` of the same task definition (and network), optionally with a command
    override for one container: the way to look from inside a task that has stopped. `as_started`: a re-run of
    the task as it was started, with the command overrides it was started with."""
    fr = revision or family_revision(ev) or needs_a_value("the task definition family:revision")
    parts = [f"aws ecs run-task --cluster {q(cluster(ev))} --task-definition {q(fr)}{region_flag(ev)}"]
    if is_fargate(ev):
        parts.append("--launch-type FARGATE")
    elif ev.detail.capacity_provider_name:
        parts.append(f"--capacity-provider-strategy capacityProvider={q(ev.detail.capacity_provider_name)}")
    net = _network_configuration(ev, same_groups=same_groups)
    if net:
        parts.append(f"--network-configuration {net}")
    if command:
        name = container_name(ev, container) or needs_a_value("the container name")
        overrides = {"containerOverrides": [{"name": name, "command": list(command)}]}
        parts.append("--overrides " + shlex.quote(json.dumps(overrides, separators=(",", ":"))))
    elif as_started:
        # A re-run of the task itself: the commands it was started with (a scheduler's or a person's run-task
        # overrides) are part of what ran; without them the copy runs the task definition's default instead.
        own = _command_overrides(ev)
        if own:
            parts.append("--overrides " + shlex.quote(json.dumps({"containerOverrides": own}, separators=(",", ":"))))
    return " ".join(parts)


def _command_overrides(ev: Evidence) -> list[dict[str, Any]]:
    """The task's own per-container command and environment-file overrides (the name, the command, the files' S3
    ARNs: its environment overrides may hold values that do not belong in a pasted command; a file's ARN is no
    value, and without it the copy does not read the file the task read)."""
    raw = ev.detail.overrides or {}
    items = raw.get("containerOverrides") if isinstance(raw, dict) else None
    out: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        own: dict[str, Any] = {}
        if isinstance(item.get("command"), list) and item["command"] and all(isinstance(a, str) for a in item["command"]):
            own["command"] = list(item["command"])
        files = [{"type": f.get("type") or "s3", "value": f["value"]} for f in item.get("environmentFiles") or []
                 if isinstance(f, dict) and isinstance(f.get("value"), str) and f["value"].startswith("arn:aws")]
        if files:
            own["environmentFiles"] = files
        if own:
            out.append({"name": item["name"], **own})
    return out


PROBE_TAG = "ecs-autopsy-probe"


def _probe_siblings(ev: Evidence, container: str | None) -> list[str]:
    """The task's other containers that a one-off copy of the task starts too and that outlive the check: only when
    the probed container is no essential one (its exit ends the copy otherwise), as the task definition says or as
    the others show by waiting on it (a dependsOn: ECS's "dependency" reason on them). [] otherwise."""
    name = container_name(ev, container)
    others = [c for c in ev.detail.containers if c.name and c.name != name
              and not c.name.startswith("ecs-service-connect-")]
    cdef = ev.container_definition(name)
    # ECS names a dependency as `name(image)` after "[" or a space: `db-migrate(` is no wait on `migrate`.
    named = re.compile(r"(?<![\w.-])" + re.escape(name) + r"\(") if name else None
    waits = named is not None and any("dependency" in (c.reason or "").lower() and named.search(c.reason or "")
                                      for c in others)
    if not others or not ((cdef is not None and not cdef.essential) or waits):
        return []
    return [c.name for c in others if c.name]


def probe(ev: Evidence, container: str | None, shell: str) -> str:
    """Run one shell command in a one-off copy of the task (same task definition, network and roles). A task with
    other containers is started with a startedBy tag, which probe_siblings_note() stops it by."""
    cmd = run_task(ev, container=container, command=["sh", "-c", shell], same_groups=True)
    return cmd + (f" --started-by {PROBE_TAG}" if _probe_siblings(ev, container) else "")


def probe_siblings_note(ev: Evidence, container: str | None) -> str:
    """For a step with probe(): the copy starts the task's other containers too, which go on running after the check
    (outside any service) when the probed container is no essential one; how to stop it. "" otherwise."""
    others = _probe_siblings(ev, container)
    if not others:
        return ""
    cl, rf = q(cluster(ev)), region_flag(ev)
    names = ", ".join(f"`{n}`" for n in others[:4])
    return (f" The copy starts the task's other containers too ({names}), which may keep it running after the check "
            f"(outside any service): stop it once the check's output is in the log, `aws ecs stop-task --cluster {cl} "
            f"--task \"$(aws ecs list-tasks --cluster {cl} --started-by {PROBE_TAG} --query 'taskArns[0]' --output "
            f"text{rf})\"{rf}`.")


def logs_tail(ev: Evidence, container: str | None, since: str = "1h") -> str | None:
    """Read the logs of the task's container (awslogs), when the log group is known."""
    name = container_name(ev, container)
    src = ev.log_source(name)
    cdef = ev.container_definition(name)
    group = src.group if src and src.group else (cdef.log_options.get("awslogs-group") if cdef else None)
    if not group:
        return None
    cmd = f"aws logs tail {q(group)} --since {since}"
    prefix = cdef.log_options.get("awslogs-stream-prefix") if cdef else None
    tid = task(ev)
    if prefix and name and tid:
        cmd += f" --log-stream-names {q(f'{prefix}/{name}/{tid}')}"
    return cmd


# -------------------------------------------------------------------------------------------------
# docker
# -------------------------------------------------------------------------------------------------
def own_repository(ev: Evidence, image: str) -> tuple[str, str | None]:
    """Where a rebuilt image can be pushed: the image itself when it is in ECR, else an ECR repository of
    this account and region with the image's name and tag (a public or someone else's image cannot be
    pushed to). Returns (reference, repository to create or None)."""
    if ".dkr.ecr." in image or image.startswith("<"):
        return image, None
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    name, _, tag = last.partition(":")
    host = f"{account(ev) or ACCOUNT_UNKNOWN}.dkr.ecr.{region(ev) or REGION_UNKNOWN}.amazonaws.com"
    return f"{host}/{name}:{tag or 'latest'}", name


def build_for(ev: Evidence, image: str, platform: str) -> str:
    """Build the image for `platform` and push it where the task can pull it, as a sentence with commands (the
    ECR login first: a push without it fails with "no basic auth credentials")."""
    ref, create = own_repository(ev, image)
    build = f"docker buildx build --platform {platform} -t {q(ref)} --push ."
    if create is None:
        return f"`{ecr_login_command(ev, ref)}`, then `{build}`"
    return (f"{image} is not in your registry, so build it from its Dockerfile into an ECR repository of yours "
            f"(`aws ecr create-repository --repository-name {q(create)}` once, then `{ecr_login_command(ev, ref)}`): "
            f"`{build}`, and point the task definition's image at {ref}")


def read_command(ev: Evidence, container: str | None) -> str:
    """A shell line reading the container's `command` from the task definition into the array $cmd (one
    element per argument; empty when the image's own CMD applies), for `docker run ... "${cmd[@]}"`. When the task
    ran with a command override for the container (run-task, a scheduler's or a job's `containerOverrides`), that is
    the command that ran, so $cmd is set to it (each argument shell-quoted)."""
    name = container_name(ev, container)
    own = next((o["command"] for o in _command_overrides(ev) if o["name"] == name and o.get("command")), None)
    if own:
        # Spaces inside the parentheses: a masked secret argument (redaction takes the whole word) keeps the ")".
        return "cmd=( " + " ".join(shlex.quote(a) for a in own) + " )  # the command override the task ran with"
    job = batch_job(ev)
    if job:
        # An AWS Batch job: the job gives the command (its job definition's, with the parameters filled in, or the
        # submit call's override), which the job keeps, not the task definition Batch registered.
        return (f"IFS=$'\\t' read -r -a cmd <<< \"$(aws batch describe-jobs --jobs {q(job)}{region_flag(ev)} --query "
                f"\"jobs[0].container.command || ['']\" --output text)\"")
    pick = (f"taskDefinition.containerDefinitions[?name=='{name}'] | [0]" if name and re.fullmatch(r"[\w.-]+", name)
            else "taskDefinition.containerDefinitions[0]")
    return (f"IFS=$'\\t' read -r -a cmd <<< \"$({describe_task_definition(ev, pick + ' | command || [' + chr(39) * 2 + ']')}"
            " --output text)\"")


RUN_COMMAND = '"${cmd[@]}"'


def task_memory_mib(ev: Evidence, container: str | None = None) -> int | None:
    mib, _ = ev.memory_limit(container)
    return mib


# Images and log marks of containers that read what only a running ECS task has: the task metadata
# endpoint (telegraf's ECS input, monitoring agents), App Mesh / Service Connect configuration (Envoy), the
# log router's FireLens configuration. `docker run` on a laptop cannot give them, so it cannot reproduce.
_TASK_BOUND_IMAGE = lazy_re(r"(?i)(?:^|/)(?:aws-appmesh-envoy|appmesh|envoy|telegraf|datadog/agent|"
                               r"aws-otel-collector|cloudwatch-agent|aws-for-fluent-bit|fluent-bit|xray|"
                               r"aws-xray-daemon|newrelic/nri-ecs|nri-ecs|ecs-agent)$")
_TASK_BOUND_LOG = lazy_re(r"(?i)ECS_CONTAINER_METADATA_URI|169\.254\.170\.2|\binputs\.ecs\b|"
                             r"APPMESH_RESOURCE_ARN|APPMESH_VIRTUAL_NODE|ECS_SERVICE_CONNECT|task metadata endpoint")
# Names and log marks of a backing service the app must reach before it serves: a local run has none of them.
_BACKING_NAME = lazy_re(r"(?i)(?:^|_)(?:DB|DATABASE|DATASOURCE|JDBC|POSTGRES(?:QL)?|PG|MYSQL|MARIADB|MONGO(?:DB)?|"
                           r"REDIS|MEMCACHED?|ELASTICSEARCH|OPENSEARCH|KAFKA|AMQP|RABBITMQ|CASSANDRA)(?:_|$)")
_BACKING_LOG = lazy_re(r"(?i)\b(?:flyway|liquibase|hikaripool|alembic|migrat(?:ing|ion|ions|ed)|"
                          r"connected to (?:the )?(?:database|postgres|mysql|redis|mongo))\b")
# A start-up failure happens within minutes of the start; past this the task ran and then failed.
RAN_A_WHILE_S = 600
# A FireLens log router, when the task definition (its firelensConfiguration) was not read: its usual names and images.
_LOG_ROUTER_NAME = lazy_re(r"(?i)^(?:log[_-]?router|firelens\w*)$")
_LOG_ROUTER_IMAGE = lazy_re(r"(?i)fluent-?bit|fluentd|firelens")
_PROXY_IMAGE = lazy_re(r"(?i)(?:^|/)[\w.-]*\b(?:nginx|envoy|haproxy|traefik|caddy|httpd)\b[\w.-]*$")


def agent_image(ev: Evidence, container: str | None) -> str | None:
    """The container's image when it is a well-known third-party agent or proxy (telegraf, Datadog, Envoy,
    Fluent Bit, the OpenTelemetry, CloudWatch and X-Ray agents): code the team runs but does not write."""
    img = image(ev, container_name(ev, container)) or ""
    repo = img.split("@", 1)[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo.rsplit(":", 1)[0]
    return img if repo and _TASK_BOUND_IMAGE.search(repo) else None


# Tags that name no release but move to each new one; a bare major version ("7", "18", "3.x") moves too, but not a
# number of 3 digits or more: a build number or a date ("4711", "20240501") names one build.
_MOVING_TAGS = frozenset({"latest", "stable", "mainline", "edge", "main", "master", "nightly", "develop", "dev"})
_MAJOR_ONLY = lazy_re(r"^v?\d{1,2}(?:\.x)?$", re.IGNORECASE)


def floating_tag(ref: str | None) -> bool:
    """The image reference follows a tag that moves to each new release (none, :latest, :stable, a bare major)."""
    if not ref or "@sha256:" in ref:
        return False
    tag = ref.rsplit("/", 1)[-1].partition(":")[2]
    return not tag or tag.lower() in _MOVING_TAGS or bool(_MAJOR_ONLY.match(tag))


# A proxy that carries the app's traffic: App Mesh's Envoy, the Service Connect agent, an Envoy sidecar.
_TRAFFIC_PROXY_IMAGE = lazy_re(r"(?i)appmesh|\benvoy\b|service-connect")


# Tags that name a branch or an environment rather than a build: pushed again under the same name (a word of the tag,
# "dev", "main-arm64", "1.4-SNAPSHOT"). A tag with a full version (1.4.2-dev.3), a commit id or a build number beside
# the word names one build, save a SNAPSHOT.
_BRANCH_TAG_WORDS = frozenset({"latest", "stable", "mainline", "edge", "main", "master", "nightly", "develop", "dev",
                               "development", "staging", "stage", "prod", "production", "qa", "uat", "test", "testing",
                               "canary", "next", "trunk", "unstable", "snapshot", "lts"})
# An official image's variant (its base or flavour): "18-alpine", "3-slim", "lts-slim", "alpine", "slim" move with
# each release of what they vary, as the bare major or word they vary does. Its own version ("alpine3.19") is the
# base's, not a build of the image.
_VARIANT = (r"(?:alpine|slim|bookworm|bullseye|buster|stretch|trixie|jammy|focal|noble|bionic|jdk|jre|"
            r"windowsservercore|nanoserver|perl|fpm|apache|cli|zts|debian|ubuntu|minimal)[\d.]*")
_MOVING_VARIANT = lazy_re(rf"^(?:v?\d{{1,2}}(?:\.x)?|lts|latest|stable|{_VARIANT})(?:-{_VARIANT})*$", re.IGNORECASE)
_FULL_VERSION = lazy_re(r"\d+\.\d+\.\d+")
_DIGEST = lazy_re(r"^sha256:[0-9a-f]{64}$")
_BUILD_ID = lazy_re(r"(?=[0-9a-f]*\d)[0-9a-f]{7,40}|\d{3,}")


def mutable_tag(ref: str | None) -> bool:
    """The image reference follows a tag that is pushed again (latest, dev, a branch or an environment, a bare major),
    not one build: floating_tag(), or a tag with such a word in it."""
    if floating_tag(ref):
        return True
    if not ref or "@" in ref:
        return False
    tag = (image_parts(ref)[2] or "").lower()
    if _MOVING_VARIANT.match(tag):
        return True
    words = set(re.split(r"[-_.]", tag))
    # A commit id ("main-81f2c0d") or a build number or date ("dev-20240501") beside the branch names one build.
    build = _FULL_VERSION.search(tag) or any(_BUILD_ID.fullmatch(w) for w in words)
    return "snapshot" in words or (bool(words & _BRANCH_TAG_WORDS) and not build)


def ran_image(ev: Evidence, container: str | None) -> str | None:
    """`repository@sha256:...`, the image the task actually ran, when the container's image follows a mutable tag and
    the event gives the digest it resolved to: a local run of the tag pulls whatever it names today."""
    c = ev.container(container)
    if c is None or not c.image or not c.image_digest or not _DIGEST.match(c.image_digest) \
            or not mutable_tag(c.image) or not is_image_ref(c.image):
        return None
    registry, name, _, _ = image_parts(c.image)
    return f"{registry + '/' if registry else ''}{name}@{c.image_digest}"


def with_ran_image(ev: Evidence, steps: Sequence[str]) -> list[str]:
    """A step that runs a container's image by the digest the task ran (docker_run() does, for a mutable tag) says
    why, and, on EC2, that an instance may run a stale cached image of the tag."""
    out = list(steps)
    for c in ev.detail.containers:
        ref = ran_image(ev, c.name)
        if ref is None:
            continue
        tag = image_parts(c.image or "")[2] or "latest"
        digest = ref.rsplit("@", 1)[1]
        said = f" It runs the image by the digest the task ran (`{digest[:19]}…`)"
        for n, step in enumerate(out):
            # A step another container of the same image and digest already annotated says it once.
            if ref not in step or "docker run" not in step or said in step:
                continue
            note = said + (f": `:{tag}` is pushed again, so a run of the tag would pull whatever it names today.")
            if not is_fargate(ev):
                registry, name, _, _ = image_parts(c.image or "")
                # ECR answers for a repository in the region its registry names, not the task's.
                ecr = _ECR_REGISTRY.match(registry or "")
                where = f" --region {ecr.group('region')}" if ecr else region_flag(ev)
                now = (f"aws ecr describe-images --repository-name {q(name)} --image-ids imageTag={q(tag)}"
                       f"{where} --query 'imageDetails[0].imageDigest'" if own_ecr(ev, c.image) else
                       f"docker buildx imagetools inspect {q(c.image)}")
                note += (" On EC2, an agent with `ECS_IMAGE_PULL_BEHAVIOR=prefer-cached` (or `once`) keeps running the "
                         f"`{c.image}` an instance cached earlier: set it to `default` in /etc/ecs/ecs.config, or pin a "
                         f"version tag; the tag's digest now, to compare: `{now}`.")
            # Before a closing "(Why: ...)": the evidence stays the step's last words.
            why = step.rfind(" (Why: ")
            out[n] = step[:why] + note + step[why:] if why > 0 and step.endswith(".)") else step + note
            break
    return out


def may_be_non_essential(ev: Evidence, name: str | None) -> bool:
    """A sidecar that `"essential": false` lets fail without the app: not a proxy its traffic goes through
    (App Mesh, Service Connect, Envoy), nor a container another one waits for (dependsOn START or HEALTHY), whose
    failure stops or strands the app anyway."""
    if len(ev.detail.containers) < 2:
        return False
    if _TRAFFIC_PROXY_IMAGE.search(image(ev, name) or ""):
        return False
    td = ev.task_definition
    if td and name:
        for c in td.containers:
            if any(dep == name and cond in ("START", "HEALTHY") for dep, cond in c.depends_on):
                return False
    return True


def agent_crash_step(ev: Evidence, container: str | None, error: str) -> str | None:
    """Step 1 for a well-known agent or sidecar image (Fluent Bit, Envoy, the Datadog, OpenTelemetry, CloudWatch
    and X-Ray agents) that failed on its own with an error no family names: its configuration and its version are
    what the team controls, not application code."""
    img = agent_image(ev, container)
    if not img:
        return None
    name = container_name(ev, container) or "the container"
    sidecar = may_be_non_essential(ev, container_name(ev, container))
    return (f"{name} runs `{img}`, a well-known agent image, and failed on its own (`{error}`): the cause is the "
            "configuration it is given (its environment variables, its config file or the SSM parameter or "
            "secret it loads) or its version, not application code. Check that configuration against the "
            "documentation of this version, and "
            + (f"pin a version tag known to work (`{img}` floats to each new release, so the image can change "
               "under the same task definition)" if floating_tag(img) else
               "compare with the last version that ran (its changelog or issue tracker usually has this error)")
            + (f"; as a sidecar, `\"essential\": false` on {name} keeps its failure from stopping the task "
               "meanwhile" if sidecar else ""))


# ECS stores a stop reason (and a container's reason) in at most 255 characters: one that long ending in an
# ellipsis was cut by ECS itself, and describe-tasks returns the same cut text. A shorter cut one is a console's or
# a tool's, and describe-tasks shows the whole.
ECS_REASON_LIMIT = 255


def cut_by_ecs(text: str) -> bool:
    """The reason ends in an ellipsis at about ECS's own length limit: no API returns more of it."""
    t = text.rstrip()
    return t.endswith(("...", "\u2026")) and len(t) >= ECS_REASON_LIMIT - 10


def ran_for(ev: Evidence) -> float | None:
    """Seconds the task ran between its start and its stop, when the event gives both."""
    d = ev.detail
    end = d.stopping_at or d.execution_stopped_at or d.stopped_at
    if d.started_at is None or end is None:
        return None
    return (end - d.started_at).total_seconds()


# An error raised by the state of a service the task reaches (its database's migrations, a broker's records, an
# AWS resource): a laptop run has none of them, so it fails elsewhere, before it gets there.
_BACKING_ERROR = lazy_re(r"(?i)\bmigrat\w*|\bdatabase\b|\b(?:postgres(?:ql)?|mysql|mariadb|mongo(?:db)?|redis|"
                            r"kafka|rabbitmq|amqp|broker|partition \S+ at offset|dynamodb|sqs|s3://|bucket)\b")


_EMBEDDED_DB = lazy_re(r"(?i)\bsqlite\w*|\bh2\b")
# A crash a laptop run reproduces (a WHITELIST): one intrinsic to the image and its environment, a missing module,
# file or binary, an exec format, a syntax or configuration error read at start-up, a missing variable, a plain
# programming error. Anything else (a network, a volume, a generated config, another container) is not offered.
_INTRINSIC = lazy_re(r"(?i)module ?not ?found|cannot find module|no module named|import ?error|no such file|"
                     r"\bnot found\b|exec format|syntax ?error|parse error|\bunmarshal|invalid (?:config|syntax|value)|"
                     r"\byaml\b|\bjson\b|key ?error|environment variable|\benv\b|not (?:set|specified|defined)|"
                     r"\bmissing\b|name ?error|type ?error|attribute ?error|reference ?error|\bundefined\b|"
                     r"index out of range|nil pointer|null ?pointer|class ?not ?found|no ?class ?def ?found|"
                     r"unsatisfied ?link|invalid keys?|unknown (?:type|option|flag|argument|command)|"
                     r"permission denied[^\n]{0,40}\bbind\b|\bbind\b[^\n]{0,40}permission denied")
# ... and what ties a crash to the task's surroundings even when its wording is intrinsic-looking.
_EXTERNAL = lazy_re(r"(?i)\btime(?:d)? ?out\b|timeout|refused|unreachable|ECONN\w+|EHOSTUNREACH|ETIMEDOUT|"
                    r"getaddrinfo|name or service not known|could not resolve|unknown host|no route|\bTLS\b|\bSSL\b|"
                    r"certificate|not owned by|can't safely access|operation not permitted|read-only file system|"
                    r"/mnt/|/efs\b|169\.254\.170\.2|ECS_CONTAINER_METADATA|"
                    # the task-role credentials the ECS agent serves to the task (the SDKs' container provider)
                    r"container-role|container credentials|AWS_CONTAINER_CREDENTIALS|\bECS metadata\b|"
                    r"connection reset|host not found")


def _last_lines_start(logs: Any, keep: Any, count: int) -> int:
    """Where the last `count` lines `keep` accepts (all lines when None) begin."""
    n = len(logs)
    if n <= count:
        return 0
    if keep is None:
        return n - count
    containers = logs.containers
    seen = 0
    for i in range(n - 1, -1, -1):
        if keep(containers[i]):
            seen += 1
            if seen == count:
                return i
    return 0


def local_repro_blocked(ev: Evidence, container: str | None, *, at_start: bool = False,
                        serving: bool = False, error: str | None = None, before: int | None = None,
                        bash: bool = True) -> str | None:
    """Why a local `docker run` of the container's image cannot reproduce this failure, or None when it can:
    the failure came after the task had run a while (not at start-up), or the container needs what only a
    running ECS task has (the task metadata endpoint, App Mesh / Service Connect configuration). `at_start`:
    the evidence already shows the failure is one of start-up, whatever the task's run time. `serving`: the
    repro needs the app up and answering (a health check), so a database or other service it must reach first
    (named in its environment or secrets, or seen in its log) is missing locally too. `bash`: the repro is bash
    lines (read -a, tr, sh -c), which a Windows container host does not run; a lone `docker run` runs there."""
    if bash and is_windows(ev):
        # A Windows container runs only on a Windows host in Windows-containers mode; the repro lines are bash
        # (`read -a`, `tr`) for a Linux Docker, so as pasted they reproduce nothing.
        return "it is a Windows container, which a Linux Docker host (and the bash lines of a local run) cannot run"
    secs = ran_for(ev)
    if not at_start and secs is not None and secs > RAN_A_WHILE_S:
        return f"the task ran {int(secs // 60)} minutes before it failed"
    name = container_name(ev, container)
    cdef = ev.container_definition(name)
    names = set(cdef.env_names | cdef.secret_names) if cdef else set()
    if any(n.startswith(("APPMESH_", "ECS_SERVICE_CONNECT")) for n in names):
        return "it needs the task's App Mesh / Service Connect configuration"
    img = image(ev, name) or ""
    if (cdef and cdef.firelens) or _LOG_ROUTER_NAME.search(name or "") or _LOG_ROUTER_IMAGE.search(img):
        return "ECS generates this log router's FireLens configuration inside the task, which a laptop run does not have"
    repo = img.split("@", 1)[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo.rsplit(":", 1)[0]
    if repo and _TASK_BOUND_IMAGE.search(repo):
        return f"{img} reads the ECS task metadata endpoint or mesh configuration, which a laptop does not have"
    # The container's (and unlabelled) last 400 lines.
    keep = (lambda c: c in (name, None)) if name else None
    start = _last_lines_start(ev.logs, keep, 400)
    if ev.logs.search(_TASK_BOUND_LOG, start, keep=keep) is not None:
        return "it reads the ECS task metadata endpoint or mesh configuration, which a laptop does not have"
    if error is not None:
        # A crash: a local run reproduces it only if it does not depend on a service the task reached first.
        # (An embedded database, SQLite or H2, is in the image: a local run has it too.)
        hit = None if _EMBEDDED_DB.search(error) else _BACKING_ERROR.search(error)
        if hit:
            return f"the error comes from the {hit.group(0).lower()} the task reaches, which a laptop run does not have"
        if _EXTERNAL.search(error):
            return "the error depends on what the task reaches or mounts (its network, a volume), which a laptop run does not have"
        owned, owned_path = _first_path(_NOT_OWNED, error)
        if owned and not (_ACCESS_WHY_MISSING.match(owned.group(0))
                          and _MISSING_WHY.search(error, owned.end(), owned.end() + 120)) and owned_path:
            # Who may write a path depends on the volume the task mounts there (EFS, a bind mount) and the user it
            # runs as: a plain run of the image mounts nothing, so the path is the image's own and may be writable.
            return ("whether the container's user may use that path depends on the volume the task mounts there, "
                    "which a laptop run of the image does not mount")
        # The container's (and unlabelled) last 400 lines before the error; only those a regex may match are
        # read (their container first).
        stop = 0 if before is None else max(0, min(before, len(ev.logs)))
        lo = _own_window(ev.logs, name, stop, 400)
        # Not intrinsic in its wording: a local run reproduces it only when the log names no outside dependency.
        if not (_INTRINSIC.search(error) or _EMBEDDED_DB.search(error)) and any(
                _EXTERNAL.search(t) for t in _own_texts_may_match(ev.logs, _EXTERNAL, name, lo, stop)):
            return "the log shows the task reaching something outside the image before it failed, which a laptop run does not have"
        if any(_BACKING_LOG.search(t) and not _EMBEDDED_DB.search(t)
               for t in _own_texts_may_match(ev.logs, _BACKING_LOG, name, lo, stop)):
            return "the app reached its database before it failed, which a laptop run does not have"
    if serving and _PROXY_IMAGE.search(repo) and sum(1 for c in ev.detail.containers) > 1:
        return f"{img} is a proxy in front of another container of the task; run alone it has no app behind it"
    if serving:
        backing = sorted(n for n in names if _BACKING_NAME.search(n))
        if backing:
            return f"the app needs the services its {', '.join(backing[:3])} point{'s' if len(backing) == 1 else ''} to"
        if ev.logs.search(_BACKING_LOG, start, keep=keep) is not None:
            return "the app reaches its database before it serves, which a laptop does not have"
    return None


def _own_window(logs: Any, name: str | None, stop: int, count: int) -> int:
    """Where the last `count` lines before `stop` of container `name` and the unlabelled ones (of every line when
    `name` is empty) begin: 0 when there are no more than `count` (always so when `stop` <= `count`)."""
    if stop <= count:
        return 0
    if not name or logs.only(name):
        return stop - count
    containers = logs.containers
    seen = 0
    for i in range(stop - 1, -1, -1):
        if not name or containers[i] in (name, None):
            seen += 1
            if seen == count:
                return i
    return 0


def _own_texts_may_match(logs: Any, regex: re.Pattern[str], name: str | None, start: int, stop: int) -> Iterable[str]:
    """The texts of the lines in [start, stop) of container `name` and the unlabelled ones (every line when `name`
    is empty) where `regex` may match (`may_match`), ascending: a line is read only when it may match."""
    texts, containers = logs.texts, logs.containers
    return (texts[i] for i in logs.may_match(regex, start, stop, learn=False)
            if not name or containers[i] in (name, None))


# A log line that names an error with its message: an exception class and its text, or a panic.
_NAMED_CLASS = r"\b(?:[A-Za-z_][\w$]*\.)*(?:[A-Z][\w$]*)?(?:Exception|Error)\b:?\s+\S.{7,}"
_NAMED_OTHER = (r"(?:\[[\w.-]+\] )?\b(?:panic|panicked|fatal error): .{8,}|\bNo service for type '[^']+' has been registered|"
                r"\bNo qualifying bean of type '[^']+'")
_NAMED_ERROR = lazy_re(f"(?:{_NAMED_CLASS}|{_NAMED_OTHER})")
# _NAMED_ERROR.search reads a dotted name again from each of its parts: a 16 KB "a.a.a.a..." line with an error word
# cost seconds. Its first alternative lies in one token, a run of [\w$.] that ends with the class word right before
# ":" or a blank (what follows does not depend on where the name starts). In the token, a match starts at the first
# start of the unbroken chain of name parts (each begins with a letter or "_", the first may begin after a "$") that
# runs up to a class word read from its own start, else after a "$" inside the class word. `_named_error_search`
# finds the tokens, then that start in each, in one pass.
_ERROR_TOKEN = lazy_re(r"(?<![\w$.])[\w$.]*?(?:Exception|Error)(?=:?\s+\S.{7})")
_OTHER_NAMED = lazy_re(_NAMED_OTHER)
_CLASS_WORD = lazy_re(r"(?:[A-Z][\w$]*)?(?:Exception|Error)")
_AFTER_DOLLAR = lazy_re(r"(?<=\$)[A-Za-z_]")
_PART_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


def _named_start(token: str, at: int) -> int | None:
    """Where _NAMED_ERROR's first alternative starts in `token` (a name: a run of word characters, "$" and "." at
    offset `at`, ending with "Exception" or "Error"), or None when nowhere."""
    parts = token.split(".")
    last = parts[-1]
    start = at + len(token) - len(last)
    if _CLASS_WORD.fullmatch(last):
        i = len(parts) - 2
        while i >= 0 and parts[i][:1] in _PART_FIRST:  # ("" is not: an empty part breaks the chain)
            start -= len(parts[i]) + 1
            i -= 1
        inner = _AFTER_DOLLAR.search(parts[i]) if i >= 0 else None  # the break: a part a "$" opens further in
        return start - len(parts[i]) - 1 + inner.start() if inner else start
    for inner in _AFTER_DOLLAR.finditer(last):  # no chain: the class word alone, from a "$" on
        if _CLASS_WORD.fullmatch(last, inner.start()):
            return start + inner.start()
    return None


def _named_error_search(text: str) -> re.Match[str] | None:
    """_NAMED_ERROR.search(text), in one pass over the text (see _ERROR_TOKEN); the same match."""
    other = _OTHER_NAMED.search(text)  # the first match of the other alternatives
    limit = other.start() if other else len(text)
    for token in _ERROR_TOKEN.finditer(text):
        start = _named_start(token.group(), token.start())
        if start is None:
            continue
        if start > limit:
            break
        m = _NAMED_ERROR.match(text, start)
        if m is not None:
            return m
    return other
# Pastes from a console or a table: not a line the app wrote, never quoted as "the error".
_GARBLED = lazy_re(r"\t|\b\d+ (?:seconds?|minutes?|hours?|days?) ago\b|\s\|\s.*\s\|\s")
_DI_MISSING = lazy_re(r"No service for type '([^']+)' has been registered|No qualifying bean of type '([^']+)'")


_PASTE_AGE = lazy_re(r"^\s*\d+ (?:seconds?|minutes?|hours?|days?) ago\s+")


def garbled(text: str) -> bool:
    """A console or table paste (tabs, "20 minutes ago", pipes between columns), not a line as the app wrote it.
    (Each alternative needs a tab, a pipe or " ago": a line without any is not searched.)"""
    return ("\t" in text or "|" in text or " ago" in text) and bool(_GARBLED.search(text))


def unpaste(text: str) -> str:
    """The app's own text from a console/table paste line: without the "N minutes ago" column and the
    container column, the widest tab-separated field."""
    t = _PASTE_AGE.sub("", text)
    if "\t" in t:
        t = max(t.split("\t"), key=len)
    elif " | " in t:
        t = max(t.split(" | "), key=len)
    return t.strip()


def named_error(ev: Evidence, container: str | None = None) -> tuple[int, str] | None:
    """The first log line of `container` (any, when None) naming an error with its message, as (index, the
    error from its class or `panic:` on); a console or table paste is read without its extra columns."""
    containers, texts = ev.logs.containers, ev.logs.texts
    for i in ev.logs.may_match(_NAMED_ERROR):  # unpaste() keeps a part of the line: its words are the line's
        c, t = containers[i], texts[i]
        if container and c not in (container, None):
            continue
        if garbled(t):
            t = unpaste(t)
        hit = _named_error_search(t)
        if hit:
            return i, hit.group(0).strip()[:300]
    return None


# Error FAMILIES: a wording that names a well-known, checkable condition, and the change it asks for. Each
# entry is general (a family of messages from many runtimes), never one app's text; error_family() tries them in order.
_PRIV_BIND = lazy_re(r"(?i)\b(?:bind|listen)\b[^\n]{0,80}?(?:permission denied|EACCES|operation not permitted)|"
                     r"(?:permission denied|EACCES)[^\n]{0,40}?\b(?:bind|listen)\b")
_BIND_PORT = lazy_re(r"(?:(?<=:)|\bport\s+)(\d{1,5})\b")
_MISSING_KEY = lazy_re(r"""(?i)['"`]?(?P<k1>[A-Za-z_][\w.-]{1,60})['"`]? (?:attribute|property|setting|key|option|parameter)"""
                       r""" (?:is )?(?:not specified|not set|not configured|missing|required)|"""
                       r"""\bmissing (?:required )?(?:config(?:uration)? )?(?:key|setting|property|attribute|option)s?:? """
                       r"""['"`](?P<k2>[A-Za-z_][\w.-]{1,60})|\bmissing `(?P<k3>[A-Za-z_][\w.]{2,60})`|"""
                       r"""\bmissing key in (?:JSON|YAML|TOML|config(?:uration)?):? ['"`](?P<k4>[A-Za-z_][\w.:/ -]{1,200}?)['"`]""")
_UNKNOWN_PART = lazy_re(r"(?i)\bunknown (?:type|exporters?|receivers?|processors?|extensions?|components?|plugins?|"
                        r"fields?|keys?|directives?|configuration (?:keys?|propert(?:y|ies)))\b|\bhas invalid keys?\b|\binvalid keys?:|"
                        r"\bhas been removed\b|\bno longer supported\b|\bfield \S+ not found in type\b")
# A command-line parser refusing its arguments: the task's command reached a program that does not take it (the
# command is appended to the image's ENTRYPOINT, or entryPoint and command disagree).
_CLI_USAGE = lazy_re(r"(?i)\bunexpected extra arguments?\b|\bunrecognized arguments?:|\bno such (?:option|command):|"
                     r"\bunknown (?:shorthand )?flag:|\bunknown command \S+ for\b|\baccepts (?:at most )?\d+ arg\(s\), "
                     r"received \d+|\bError: (?:too many|unexpected) arguments?\b")
# A command-line parser reporting a REQUIRED argument or option absent (argparse, click, clap, commander): the
# task's command does not pass it.
_CLI_REQUIRED = lazy_re(r"(?i)\berror: the following arguments are required: (?P<a1>[^\n]{1,120})|"
                        r"\bMissing (?:argument|option) ['\"`](?P<a2>[^'\"`\n]{1,60})['\"`]|"
                        r"\berror: the following required arguments were not provided:?\s*(?P<a3>[^\n]{0,120})|"
                        r"\berror: (?:required option|missing required argument) ['\"`](?P<a4>[^'\"`\n]{1,60})['\"`]")
# Memory locking refused (mlock/mlockall): a capability or ulimit, not the memory running out.
_MEMORY_LOCK = lazy_re(r"(?i)(?:\block(?:ing)? (?:the )?memory\b|\bmlock(?:all)?\b|\bmemlock\b)[^\n]{0,80}"
                       r"(?:cannot allocate memory|operation not permitted|\bENOMEM\b|\bEPERM\b)|"
                       r"\bmlock(?:all)?\(?\)?:? (?:failed|refused)")
# A program refusing the arguments it was started with, in words that hold no error word ("two arguments required,
# but got []", cobra's "requires at least 1 arg(s)"): usually followed by its usage line. Not a function called with
# the wrong arity ("wrong number of arguments", "expects exactly 2 arguments"): that is the code's own bug.
ARGS_REFUSED = lazy_re(r"(?i)\b(?:\w+ )?arguments? (?:are |is )?required\b|\brequires (?:at least |at most |exactly )?"
                       r"\d+ arg\(s\)")
# A program started with no value for a setting it cannot run without ("No target specified", "no host
# configured"): the task's command or environment does not give it.
_NO_SETTING = lazy_re(r"(?i)\bno (?P<what>target|host(?:name)?|url|endpoint|input(?: files?)?|bucket|project|"
                      r"environment|config(?:uration)?(?: file)?|server|address) (?:was |has been )?"
                      r"(?:specified|set|configured|given|provided|chosen|defined)\b")
# A warning that goes on with a default ("no config file specified, using the default config") names no missing
# setting: the program carried on.
_GOES_ON_WITH_DEFAULT = lazy_re(r"(?i)\busing (?:the |its |a )?defaults?\b|\bdefaulting\b|\bfall(?:s|ing)? ?back\b")
# An interpreter handed a command word as its script ("python: can't open file 'bash'"): the image's ENTRYPOINT is
# the interpreter, and the task's (or the job runner's) command was appended to it as arguments.
_INTERP_ARGV = lazy_re(r"(?i)\b(?P<prog>python[\d.]*|ruby|node|perl|php|Rscript)\S*: can't open file ['\"]"
                       r"(?P<arg>(?:/(?:usr/)?(?:local/)?bin/)?(?:ba|da|z)?sh|/bin/bash|bash|sh|-c)['\"]")
# initdb (the postgres image's first start) refusing a data directory that already holds files: a volume mounted at
# PGDATA whose root is not empty (EFS, an EBS file system's lost+found, an earlier partial run).
_INITDB_NOT_EMPTY = lazy_re(r"(?i)\binitdb: (?:error: )?directory ['\"]?(?P<dir>[^'\"\s]+)['\"]? exists but is not empty|"
                            r"\bdirectory ['\"](?P<dir2>[^'\"]+)['\"] exists but is not empty")
# An AWS SDK or agent that found no region: off EC2 (Fargate) there is no instance metadata to read it from.
_REGION_MISSING = lazy_re(r"(?i)\bMissingRegion\b|could not find region|(?:unable|failed) to (?:fetch|get|determine|find) "
                     r"(?:the )?region|cannot fetch region|you must specify a region|NoRegionError")
# A program refusing the configuration file it reads at start-up, without naming what is wrong in it.
_BAD_CONFIG_FILE = lazy_re(r"(?i)configuration file contains? errors|error (?:in|loading|reading|parsing) "
                           r"(?:the )?config(?:uration)? file|invalid config(?:uration)? file|"
                           r"could not (?:load|parse) (?:the )?config(?:uration)? file")
# A program refusing the state in its data directory: the cluster (or node) id it stored there on an earlier run is
# not the one it is configured with or its cluster now reports ("The Cluster ID X doesn't match stored clusterId Y",
# "stored node id ... does not match", "Invalid cluster.id in: /data/...: Expected X, but read Y"). Not a mismatch
# that names nothing stored (a peer's or a request's cluster id, "got X want Y"): that is two live members disagreeing.
_MISMATCH = r"(?:doesn't|does not|don't|do not|did not|didn't) match|mismatch(?:ed)?|differs? from|is different from"
_STORED_ID_MISMATCH = lazy_re(
    r"(?i)\b(?:cluster|node|member|broker|server|instance)[ ._-]?(?:id|uuid)\b[^\n]{0,160}?\b(?:" + _MISMATCH + r")\b"
    r"[^\n]{0,120}?\b(?:stored|persisted|saved|on[- ]disk|recorded)\b|"
    r"\b(?:stored|persisted|saved|on[- ]disk|recorded)\b[^\n]{0,40}?\b(?:cluster|node|member|broker|server|instance)"
    r"[ ._-]?(?:id|uuid)\b[^\n]{0,160}?\b(?:" + _MISMATCH + r")\b|"
    r"\b(?:cluster|node)[ ._-]?(?:id|uuid)\b[^\n]{0,20}?\bin:? /\S+[^\n]{0,60}?\bexpected\b[^\n]{0,80}?\bbut (?:read|found|got)\b")
# A configuration error that names what in the file is wrong, so the file was found and read: a section without a
# property it requires ("section 'output' is missing the 'name' property", "missing property 'name' in section
# [input]"), or the file and line the parser stopped at ("error in /etc/app/app.conf:12: ...", "app.conf line 12",
# "at line 12 of /etc/x.cfg"). The file's name starts where no path character precedes it, so a search tries one start
# per token, not every character of a long one (a base64 dump with slashes): linear.
_SECTION_LACKS = lazy_re(r"""(?i)\bsection\s+['"`\[]?(?P<s1>[\w.:-]{1,40})['"`\]]?\s+(?:is\s+)?(?:missing|lacks|has no|"""
                         r"""without)\s+(?:the\s+|a\s+|its\s+)?(?:required\s+)?(?:property\s+|key\s+|field\s+)?"""
                         r"""['"`]?(?P<p1>[\w.-]{1,40})['"`]?|"""
                         r"""\bmissing\s+(?:required\s+)?(?:property|key|field|parameter|option)\s+['"`]?(?P<p2>[\w.-]{1,40})"""
                         r"""['"`]?\s+(?:in|for)\s+(?:the\s+)?(?:section\s+)?['"`\[]?(?P<s2>[\w.:-]{1,40})['"`\]]?""")
_CONFIG_AT_LINE = lazy_re(r"(?i)(?<![\w.@/~-])(?P<file>(?:/[\w.@-]+)*/?(?:[\w.@-]+\.(?:conf|cfg|ini|toml|ya?ml|json|hcl|"
                          r"properties|xml|lua|cnf)|[A-Z][a-z]+file))(?::| line:? | at line )(?P<line>\d+)\b"
                          r"|\bat line (?P<line2>\d+) of "
                          r"(?P<file2>\S+\.(?:conf|cfg|ini|toml|ya?ml|json|hcl|properties|xml|lua|cnf))\b")
# A file's code failing as it runs, not a file failing to parse: Lua's "runtime error: handler.lua:42: attempt to index
# a nil value" (OpenResty's "lua entry thread aborted"), whose .lua file and line are code, not configuration.
_CODE_RUNTIME = lazy_re(r"(?i)\bruntime error\b|\battempt to (?:index|call|perform arithmetic on|concatenate|compare)\b|"
                        r"\bentry thread aborted\b|\bstack traceback\b")
# A configuration file or one it includes that could not be found or opened: then its presence is what to check.
_CONFIG_NOT_FOUND = lazy_re(r"(?i)\b(?:not found|no such file|could not open|cannot open|can't open|unable to open|"
                            r"failed to open|does not exist|doesn't exist|not exist)\b")
_CONFIG_FORMAT = lazy_re(r"(?i)\b(?:valid|in|expected|as)\s+(?P<fmt>classic|YAML|JSON|TOML|INI|HCL|XML)\s+format\b")
_FLUENT_BIT = lazy_re(r"(?i)fluent-?bit|aws-for-fluent-bit")
# Fluent Bit's sections that name the plugin (or parser) they configure with `Name`.
_FLUENT_NAMED_SECTIONS = frozenset({"input", "filter", "output", "custom", "parser", "multiline_parser", "processor"})
# A configuration that does not parse, at a line the parser names: YAML's "yaml: line 9: ...", js-yaml/SnakeYAML
# "YAMLException: ... at line 9", yaml-rust's "ScanError { mark: Marker { ..., line: 4, ... } }", "not valid
# YAML/JSON ... line 9". A bare JSON decoder error is left out: it as
# often parses an HTTP answer or an empty file as a configuration.
_SYNTAX_AT_LINE = lazy_re(r"(?i)\byaml: line (?P<l1>\d+):|\b(?:YAML\w*(?:Exception|Error)|Scan(?:ner)?Error)\b[^\n]{0,200}?"
                          r"\bline:? (?P<l2>\d+)|\bnot valid (?:YAML|JSON)\b[^\n]{0,80}?\bline (?P<l3>\d+)")
# Images whose configuration is usually given inline in an environment variable rather than as a file.
_INLINE_CONFIG = ((lazy_re(r"(?i)aws-otel-collector|/adot"), "`AOT_CONFIG_CONTENT` (or the file `--config` names)"),
                  (lazy_re(r"(?i)otel(?:col|-collector)"), "the file or `env:` URI its `--config` option names"))
# A plugin, extension or strategy the program loads at start failing as a whole: most often a version change of
# the program or of the plugin (one upgraded without the other).
_PLUGIN_FAILED = lazy_re(r"(?i)\bfailed to (?:configure|load|initiali[sz]e|instantiate|create|register|start) "
                         r"(?:the )?(?:[\w-]+ ){0,2}(?:discovery strateg(?:y|ies)|plugins?|extensions?|"
                         r"strateg(?:y|ies)|provider plugins?)\b")
# IIS's container entrypoint, ServiceMonitor.exe, reporting its own failure: it stops w3svc, writes the container's
# environment variables into the IIS configuration with APPCMD (with a 5-second limit), starts w3svc and watches it.
# "APPCMD failed with error code N" (259 = still running at the limit, 4312 = the app pool it writes to is missing,
# 183 = an entry that already exists) and "Failed to stop or query status of service 'w3svc' error [800705b4]" (a
# Windows timeout) are its wordings; a bare "Failed to update IIS configuration" names no code, so it is left out.
_APPCMD_FAILED = lazy_re(r"(?i)\bAPPCMD failed with error code (?P<code>\d+)")
_SERVICE_MONITOR = lazy_re(r"(?i)\bFailed to (?:stop|start) or query status of service '(?P<svc>[^']+)' error \[(?P<hr>[0-9a-f]{8})\]")
_APPCMD_CAUSE = {
    "259": ("APPCMD did not finish within ServiceMonitor's time limit (259 is a process still running): a "
            "CPU-starved start (give the container more `cpu` units, and the task more memory; Windows IIS "
            "containers start slowly on small reservations) or a long list of environment variables, each written "
            "into the IIS configuration (pass fewer: move settings into a config file or secrets the app reads "
            "itself)"),
    "4312": ("the app pool ServiceMonitor writes the environment variables to does not exist (the image deleted or "
             "renamed `DefaultAppPool`): keep it in the image, or use a ServiceMonitor that takes the pool's name"),
    "183": ("an entry ServiceMonitor writes already exists (a container restarted with its old configuration, or an "
            "old ServiceMonitor.exe): rebuild FROM a current IIS base image, whose ServiceMonitor handles it"),
}


def _iis_action(text: str) -> str | None:
    """What IIS's ServiceMonitor.exe entrypoint failing at start asks for."""
    appcmd = _APPCMD_FAILED.search(text)
    if appcmd:
        code = appcmd.group("code")
        why = _APPCMD_CAUSE.get(code, f"look up APPCMD's error code {code} among the Windows system error codes")
        return (f"IIS's entrypoint ServiceMonitor.exe could not copy the container's environment variables into the "
                f"IIS configuration with APPCMD (error code {code}), so it stopped before starting IIS: {why}")
    mon = _SERVICE_MONITOR.search(text)
    if mon:
        hr = mon.group("hr").lower()
        svc = mon.group("svc")
        if hr == "800705b4":
            why = (f"800705b4 is a Windows timeout: `{svc}` did not stop or answer in time at start, which a "
                   "CPU-starved container (give it more `cpu` units) or a change of `web.config` right before "
                   "ServiceMonitor starts (an entrypoint script that edits it, recycling the app pool) causes; make "
                   "such edits at image build time or wait for the service to settle first, and rebuild FROM a "
                   "current IIS base image (newer ServiceMonitor.exe releases handle a pending service)")
        else:
            why = (f"HRESULT {hr} is the Windows error it got: look it up (`certutil -error 0x{hr}`), and check what "
                   f"the image does to `{svc}` before ServiceMonitor starts")
        return (f"IIS's entrypoint ServiceMonitor.exe could not control the `{svc}` service and gave up, so IIS "
                f"never served (it exits 0 even then, so ECS sees a clean exit): {why}")
    return None


# A path: its components possessive, so that each start reads its path once; "/(?:X+/)*X+" backtracked over every
# shorter path at every slash of "/a/a/a/...": minutes on a 16 KB line. A path that starts a run of path characters
# (its slash follows no component character) is read whole at any depth: only a run's first slash is such a start, so
# the runs read are disjoint and the reading is linear. A slash inside a run (the tail of a relative path, or a start
# tried again after the run's own start failed) reads at most 64 components: an unbounded read there from every slash
# of "/a/a/a/..." would be quadratic (a cap of 4096 costs 25 times the cap of 64 on a 16 KB line).
_PATH = (r"""['"`]?(?P<{0}>(?<![\w.@+-])/[\w.@+-]++(?:/[\w.@+-]++)*+"""
         r"""|(?<=[\w.@+-])/[\w.@+-]++(?:/[\w.@+-]++){{0,63}}+)['"`]?""")
_NOT_OWNED = lazy_re(r"(?i)(?:permission denied|EACCES|EPERM|operation not permitted|not owned by|not writable|"
                     r"read-only file system|can't safely access|cannot access)[^\n]{0,80}?" + _PATH.format("p1")
                     + r"|" + _PATH.format("p2") + r"[^\n]{0,60}?(?:permission denied|not owned by|not writable|"
                     r"operation not permitted|EACCES|read-only file system|EROFS)")
# A write the error names: its path must be writable, which a read-only root file system rules out for the image's paths.
_READ_ONLY_FS = lazy_re(r"(?i)read-only file system|\bEROFS\b")
# A path that names a file, not a directory: a file extension on its last component (not a dot-directory such as
# .cache, not a *.d include directory), or an error that says it opened/wrote a file (a log file, a pid file).
_FILE_EXTENSION = lazy_re(r"(?i)^[^.][^/]*\.(?:log|pid|sock|db|sqlite3?|lock|json|ya?ml|txt|tmp|conf|ini|toml|xml|"
                             r"csv|out|err|gz|zip|tar|bin|dat|state|cfg|properties|env|key|pem|crt)$")
_OPENED_A_FILE = lazy_re(r"(?i)\bopen(?:ing|ed)?\b(?! for reading)|\bwrit(?:e|ing)\b(?! to (?:the )?directory)|"
                            r"\blog ?file\b|\bpid ?file\b")


def _clearly_a_file(path: str, text: str) -> bool:
    """Whether a read-only path is a file (whose directory is what a volume is mounted on) rather than a directory."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if not last or last.startswith(".") or last.lower().endswith(".d"):
        return False
    if _FILE_EXTENSION.match(last):
        return True
    return bool(_OPENED_A_FILE.search(text)) and not re.search(r"(?i)\bmkdir|makedirs|mkdtemp\b", text)


_WRITES = lazy_re(r"(?i)\b(?:mkdir|mkdtemp|makedirs|open\w* for writing|write|rename|unlink|symlink|copyfile|"
                  r"could not create|cannot create|can't create|unable to create|failed to create)\b")
# "Cannot access X" says only that X could not be used; the reason after it decides (missing, or refused).
_ACCESS_WHY_MISSING = lazy_re(r"(?i)can(?:no|')t (?:safely )?access")
_MISSING_WHY = lazy_re(r"(?i)no such file or directory|\bENOENT\b|does not exist")
_NO_PATH = lazy_re(r"(?i)(?:no such file or directory|ENOENT|FileNotFound\w*+|cannot (?:open|find|read)|"
                   r"could not (?:open|find|read)|unable to (?:open|read))[^\n]{0,60}?" + _PATH.format("p1")
                   + r"|" + _PATH.format("p2") + r"[^\n]{0,20}?(?:no such file or directory|does not exist|not found)")


# A failed open or read names no reason by itself: only a "no such file" wording says the path is missing.
_OPEN_OR_READ = lazy_re(r"(?i)(?:cannot|could not|unable to) (?:open|read)\b")
_SAYS_MISSING = lazy_re(r"(?i)no such file|\bENOENT\b|FileNotFound|does(?: not|n't) exist|\bnot found\b|\bmissing\b")


# A setting whose value is over its length limit: "<value> is an invalid value for parameter <name>. Values
# must have a maximum length of <N> bytes", "setting <name> exceeds the maximum length of <N>". Only a setting
# counts: "request body exceeds the maximum length of N" is a size limit on data, not configuration.
_TOO_LONG = lazy_re(r"(?i)(?:invalid value for (?:parameter|property|attribute|setting|option) ['\"]?(?P<name>[\w.-]+)"
                    r"['\"]?[^\n]{0,40}?maximum length of (?P<limit>\d+)(?: (?P<unit>bytes|characters))?"
                    r"|\b(?:setting|parameter|(?:environment )?variable|option|property|config(?:uration)? key) "
                    r"['\"`]?(?P<name2>[\w.-]+)['\"`]? exceeds the maximum length of (?P<limit2>\d+))")
# The value refused just before "is an invalid value for ...".
_REFUSED_VALUE = lazy_re(r"""['"](?P<value>[^'"\n]{1,255})['"] is an $""")
# A value that is a host name: the Fargate task's generated one (task id and a number), an EC2 `ip-a-b-c-d` name,
# or a dotted name under a cloud-internal domain.
_HOSTNAME_VALUE = lazy_re(r"(?i)^(?:[0-9a-f]{32}-\d+|ip-\d{1,3}(?:-\d{1,3}){3}(?:\.[\w.-]+)?|"
                          r"[\w-]+(?:\.[\w-]+)*\.(?:internal|compute\.amazonaws\.com|local))$")


def _config_key_action(key: str, text: str) -> str:
    if key.lower() == "url" and "datasource" in text.lower():
        return ("the app starts with no database URL for its DataSource: set `spring.datasource.url` (environment "
                "variable `SPRING_DATASOURCE_URL`, with its username and password) for the profile the task runs "
                "(`SPRING_PROFILES_ACTIVE`), or, when it should use an embedded database, make sure its driver "
                "(H2, HSQLDB) is in the built jar for that profile")
    if key.lower() == "secret_key_base":
        return ("Rails starts in production without `secret_key_base`: set `SECRET_KEY_BASE` in the task "
                "definition (as a secret), or `RAILS_MASTER_KEY` so the encrypted credentials can be read")
    return (f"the app's configuration lacks `{key}`: set it (as the environment variable or config-file entry the "
            "app reads it from) in the task definition or the image's configuration")


# A path under these is the HOST's (mounted in from the instance), not something an image build adds.
_HOST_PATH = lazy_re(r"^/(?:proc|sys|rootfs|dev|host)(?:/|$)|^/var/(?:run|lib)/(?:docker|containerd)")


def _first_path(regex: Any, text: str) -> tuple[re.Match[str] | None, str | None]:
    """The first match of a family regex whose path is a file the app used, and that path: a source location that
    matched first (Ruby's `server.rb:433:in 'initialize': Permission denied @ rb_sysopen - /app/x.pid`) is skipped
    for the path the error names after it. (None, None) when there is no match; (the first match, None) when no
    match names such a path."""
    if regex.search(text) is None:  # (the guarded search: a text holding none of the regex's words costs a few finds)
        return None, None
    first = None
    for m in regex.finditer(text):
        first = first or m
        path = _path_of(m, text)
        if path:
            return m, path
    return first, None


def _path_of(m: re.Match[str], text: str) -> str | None:
    """The path a family regex caught, unless it is a source location (`/src/x.rs:683`), not a file the app opened."""
    group = "p1" if m.group("p1") else "p2"
    path = m.group(group)
    return None if re.match(r":\d", text[m.end(group):]) else path


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


# A TLS client that does not trust the server's certificate chain (OpenSSL, Python, Java, Go).
_TLS_UNTRUSTED = lazy_re(r"(?i)certificate verify failed|unable to get local issuer certificate|"
                         r"self[- ]signed certificate in certificate chain|SSLCertVerificationError|"
                         r"PKIX path building failed|x509: certificate signed by unknown authority")
_TLS_DATABASE = lazy_re(r"(?i)\b(?:mysql2?|mariadb|postgres(?:ql)?|psycopg2?|PG::\w+|ActiveRecord|Sequelize\w*|"
                        r"typeorm|prisma|jdbc|rds\.amazonaws\.com|sslca|ssl_ca|sslrootcert|sslmode|mongo\w*)\b")


def _tls_untrusted(text: str) -> str | None:
    if not _TLS_UNTRUSTED.search(text):
        return None
    if _TLS_DATABASE.search(text):
        return ("the database client does not trust the server's TLS certificate: give it the CA bundle that signed "
                "it, in the image and in the connection settings (for Amazon RDS and Aurora, the RDS CA bundle, "
                "`https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem`; MySQL clients name it with `sslca` / "
                "`ssl_ca` (Rails database.yml `sslca:`), PostgreSQL clients with `sslrootcert` and "
                "`sslmode=verify-full`), and check that the host name in the settings is the one the certificate "
                "is for (the instance or cluster endpoint, not an IP address or a CNAME of your own)")
    return ("the client does not trust the server's TLS certificate: the image's CA certificates lack its issuer (a "
            "slim or distroless base without `ca-certificates`, a private CA, or a TLS-inspecting proxy on the way "
            "out that re-signs traffic): install `ca-certificates` in the image or add that CA to its trust store, "
            "rather than turning verification off")


# A kernel parameter written from inside the container (/proc/sys/net/core/somaxconn, `sysctl -w`): /proc/sys is
# read-only in every container that is not privileged, whatever readonlyRootFilesystem says.
_SYSCTL_WRITE = lazy_re(r"/proc/sys/(?P<path>[\w./-]+\w)|\bsysctl\b[^\n]{0,40}?['\" ](?P<key>[a-z][\w-]*(?:\.[\w-]+)+)")
# The kernel parameters a task definition's systemControls can set: the namespaced ones (network, IPC).
_NAMESPACED_SYSCTL = lazy_re(r"^(?:net\.|fs\.mqueue\.|kernel\.(?:msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|"
                             r"shm_rmid_forced)$)")


def _sysctl_read_only(text: str) -> str | None:
    m = _SYSCTL_WRITE.search(text)
    if not m or not _READ_ONLY_FS.search(text):
        return None
    key = m.group("key") or (m.group("path") or "").replace("/", ".")
    set_to = re.search(re.escape(key) + r"\s*=\s*(\w+)", text)
    value = set_to.group(1) if set_to else needs_a_value("the value")
    why = (f"`{key}` is written under /proc/sys, which is read-only in every container that is not privileged (the "
           "task definition's `readonlyRootFilesystem` has nothing to do with it), so the entrypoint cannot set it")
    if _NAMESPACED_SYSCTL.match(key):
        item = json.dumps([{"namespace": key, "value": value}])
        return (f"{why}: set it in the container's `systemControls` in the task definition instead, `{item}`, and "
                "drop the write from the entrypoint (or let it fail without exiting). ECS sets only namespaced "
                "parameters this way: `net.*` (not with the host network mode), the IPC ones (`kernel.msgmax`, "
                "`kernel.msgmnb`, `kernel.msgmni`, `kernel.sem`, `kernel.shmall`, `kernel.shmmax`, `kernel.shmmni`, "
                "`kernel.shm_rmid_forced`) and `fs.mqueue.*`; on Fargate they need platform version 1.4.0 or later, "
                "and Windows containers take none")
    return (f"{why}, and `{key}` is not a namespaced parameter, so no task definition setting reaches it either "
            "(`systemControls` takes only `net.*`, `fs.mqueue.*` and the IPC `kernel.*` ones): drop that write from "
            "the entrypoint (or let it fail without exiting); on EC2 the value can be set on the container instance "
            "(its user data, a file in /etc/sysctl.d), on Fargate it cannot be changed")


# A start-up check naming a kernel parameter whose value is below (or above) what the program needs: "vm.max_map_count
# [65530] is too low, increase to at least [262144]", "net.core.somaxconn must be at least 1024".
# (The key's parts possessive and at most 16: each start reads its key once; backtracking over every shorter key of
# "fs.fs.fs..." took a minute on a 16 KB line.)
_SYSCTL_TOO = lazy_re(r"(?i)\b(?P<key>(?:vm|kernel|net|fs)\.[a-z][\w-]*+(?:\.[\w-]++){0,16}+)\b[^\n]{0,60}?"
                      r"(?:\btoo (?:low|small|high|large)\b|\bmust be (?:at least|at most)\b|"
                      r"\b(?:increase|raise|decrease|lower|reduce) (?:it )?to\b)")
# The value a check asks for: the number its instruction names ("increase to at least [262144]", "must be at least
# 1024"), never a number before that wording, which is the current value ("is too low (128), must be at least 1024"),
# nor one after a bare "to", which states the current value too ("is set to 128, ... must be at least 1024").
_WANTED = lazy_re(r"(?i)\b(?:at (?:least|most)|(?:increase|raise|decrease|lower|reduce) (?:it )?to)\b\s*\[?(\d+)\b")
# A check that says the value is above what it accepts ("too high, lower it to at most [1]").
_TOO_HIGH = lazy_re(r"(?i)\btoo (?:high|large)\b|\bat most\b|\b(?:decrease|lower|reduce) (?:it )?to\b")


def _sysctl_too_low(text: str) -> str | None:
    m = _SYSCTL_TOO.search(text)
    if not m:
        return None
    key = m.group("key")
    tail = text[m.start("key"):].split("\n", 1)[0]
    wanted = _WANTED.search(tail)
    value = wanted.group(1) if wanted else needs_a_value("the value it asks for")
    side = "above" if _TOO_HIGH.search(tail) else "below"
    if _NAMESPACED_SYSCTL.match(key):
        item = json.dumps([{"namespace": key, "value": value}])
        return (f"the kernel parameter `{key}` is {side} what the program checks for at start-up: it is a namespaced "
                f"parameter, so set it for the container in the task definition's `systemControls`, `{item}` (not "
                "with the host network mode for `net.*`; on Fargate platform version 1.4.0 or later)")
    return (f"the kernel parameter `{key}` is {side} what the program checks for at start-up. It is a setting of the "
            "host's kernel, not of the container: no task definition setting reaches it (`systemControls` takes only "
            "the namespaced `net.*`, `fs.mqueue.*` and IPC `kernel.*` ones). On EC2, set it on every container "
            f"instance at boot, in the launch template's user data (`sysctl -w {key}={value}`, and "
            f"`echo '{key}={value}' > /etc/sysctl.d/99-{key}.conf` to keep it), then replace the instances; on "
            "Fargate it cannot be changed, so turn off the feature that needs it in the program's own configuration, "
            "or run the task on EC2")


# The nodes of an Erlang cluster (RabbitMQ, CouchDB, Elixir releases) authenticate each other with a shared secret,
# the cookie: a node whose cookie differs from its peers' cannot join them ("Connection attempt from node ...
# rejected. Invalid challenge reply.").
_ERLANG_COOKIE = lazy_re(r"(?i)\bcookies?\b[^\n]{0,60}?\b(?:different|differs?|mismatch(?:ed)?|does(?:n't| not) match|"
                         r"wrong)\b|\bcookie mismatch\b|\binvalid challenge reply\b")
# What makes a cookie an Erlang one: the word, its file or variables, a node name (rabbit@host), the cluster's peers.
# An HTTP session cookie whose signature does not match names none of these.
_ERLANG_CONTEXT = lazy_re(r"(?i)\berlang\b|\.erlang\.cookie|\b(?:RELEASE|RABBITMQ_ERLANG)_COOKIE\b|\brabbit(?:mq)?\b|"
                          r"\bepmd\b|\bmnesia\b|\bnode '?[\w-]+@[\w.-]+|\binvalid challenge reply\b")
# Images of programs that run as Erlang nodes.
_ERLANG_IMAGE = lazy_re(r"(?i)rabbitmq|erlang|elixir|couchdb|ejabberd|emqx|vernemq")


# Fluent Bit asked for a plugin it does not have: "[config] section 'x' tried to instance a plugin name that doesn't
# exist", "[error] [output] plugin 'x' not found", "Invalid output plugin 'x'".
_FLB_NO_PLUGIN = lazy_re(r"section '(?P<n1>[^']{1,80})' tried to instance a plugin name that doesn'?t exist|"
                         r"\b(?:input|output|filter|parser|processor)\]? plugin '(?P<n2>[^']{1,80})' (?:was )?not found|"
                         r"[Ii]nvalid (?:input|output|filter) plugin '(?P<n3>[^']{1,80})'")
# An OpenTelemetry Collector (ADOT's too) configuration whose pipeline names a component the configuration does
# not define: 'service::pipelines::metrics/ecs: references processor "resource" which is not configured'; the
# service's own extension list the same way: 'service::extensions: references extension "health_check" which ...'.
_OTEL_UNCONFIGURED = lazy_re(r"(?:pipelines?::(?P<pipe>[\w/.-]+)|service::extensions): references (?P<kind>processor|exporter|receiver|"
                             r"extension|connector) \W?(?P<name>[\w/.-]+)\W? (?:which )?(?:is|does) not (?:configured|"
                             r"exist)")

def _otel_config_action(m: re.Match[str], image_ref: str | None) -> str:
    """What a collector configuration error about one component asks for, naming the component and the pipeline."""
    kind, name = m.group("kind"), m.group("name")
    section = f"{kind}s"
    where = ("the collector configuration it is given (for the ADOT image, the `AOT_CONFIG_CONTENT` environment "
             "variable, usually from an SSM parameter in the container's `secrets` or `environment`, or the "
             "`--config` file its command names)" if "aws-otel" in (image_ref or "") or "adot" in (image_ref or "")
             else "the collector configuration it is given (the `--config` file its command names, or the "
             "environment variable or SSM parameter the task passes it in)")
    pipe = m.group("pipe")
    listed, listing = ((f"pipeline `{pipe}`", f"service.pipelines.{pipe}.{section}") if pipe else
                       ("the service", f"service.{section}"))
    return (f"{listed} lists the {kind} `{name}`, which the configuration does not define: in {where}, "
            f"define `{name}` under `{section}:` or remove it from `{listing}`, then "
            "register a new task definition revision (or update the SSM parameter) and roll it out")


# Every way `error_family` (and family_near's `_unresolved_upstream`, `_run_to_see`) can name something starts with
# one of these matching the text: a text holding none of their words names nothing (most lines of a log). The
# configuration's "file:line" (`_CONFIG_AT_LINE`, which requires no word) counts only with `_BAD_CONFIG_FILE` or
# `_CONFIG_COMPLAINT`, which do. A new branch of `error_family` adds its first regex here
# (tests/unit/test_remediation_family_gate.py checks the lines of every case).
_FAMILY_GATES = (
    "_APPCMD_FAILED", "_SERVICE_MONITOR", "_TLS_UNTRUSTED", "_SYSCTL_WRITE", "_SYSCTL_TOO", "_ERLANG_COOKIE",
    "_FLB_NO_PLUGIN", "_OTEL_UNCONFIGURED", "_PRIV_BIND", "_TOO_LONG", "_CLI_USAGE", "_CLI_REQUIRED", "ARGS_REFUSED",
    "_INITDB_NOT_EMPTY", "_MEMORY_LOCK", "_INTERP_ARGV", "_STORED_ID_MISMATCH", "_MISSING_KEY", "_UNKNOWN_PART",
    "_SYNTAX_AT_LINE", "_PLUGIN_FAILED", "_NO_SETTING", "_REGION_MISSING", "_SECTION_LACKS", "_BAD_CONFIG_FILE",
    "_CONFIG_COMPLAINT", "_NOT_OWNED", "_NO_PATH", "_UPSTREAM_NOT_FOUND", "_RUN_TO_SEE")
_FAMILY_WORDS: list[NeedleSet | None] = []  # filled on first use: the gates' words as one automaton (None: no filter)


def may_name_family(text: str) -> bool:
    """False only when `error_family(text)` is None and no family is near: an ASCII text holding none of the words
    of `_FAMILY_GATES` (one automaton pass over it, not some thirty guarded searches, each a few finds)."""
    if not _FAMILY_WORDS:
        words: set[str] | None = set()
        for name in _FAMILY_GATES:
            needed = required_words(globals()[name])
            if needed is None or words is None:
                words = None
                continue
            words.update(needed)
        _FAMILY_WORDS.append(NeedleSet(words) if words and HAVE_AUTOMATON else None)
    needles = _FAMILY_WORDS[0]
    if needles is None or not text.isascii():
        return True  # (not ASCII: case folding beyond ASCII, which the words do not see)
    return bool(needles.occurrences(text.lower()))


def error_family(text: str, image_ref: str | None = None, *, paths: bool = True) -> str | None:
    """What a logged error asks for when its wording belongs to a well-known family (a privileged port bound
    as non-root, a configuration key reported missing, a component or key the image's version does not know,
    a path owned by another user, a path that is missing), as a clause; None for any other error."""
    if not may_name_family(text):
        return None
    iis = _iis_action(text)
    if iis:
        return iis
    tls = _tls_untrusted(text)
    if tls:
        return tls
    sysctl = _sysctl_read_only(text) or _sysctl_too_low(text)
    if sysctl:
        return sysctl
    if _ERLANG_COOKIE.search(text) and (_ERLANG_CONTEXT.search(text) or _ERLANG_IMAGE.search(image_ref or "")):
        return ("this node's Erlang cookie differs from the other cluster nodes', so they refuse it and it cannot join "
                "the cluster: give every node the same cookie (from one Secrets Manager secret in every node's task "
                "definition): for RabbitMQ the `.erlang.cookie` file in its home (`/var/lib/rabbitmq/.erlang.cookie` in "
                "the official image, readable by its owner only) or the `RABBITMQ_ERLANG_COOKIE` variable, for an "
                "Elixir release `RELEASE_COOKIE`. A node that starts without its persisted volume otherwise generates "
                "a new random cookie")
    plugin = _FLB_NO_PLUGIN.search(text)
    if plugin:
        name = plugin.group("n1") or plugin.group("n2") or plugin.group("n3")
        return (f"Fluent Bit has no plugin named `{name}` (the `Name` of an [INPUT], [FILTER] or [OUTPUT] section, "
                "which must be a plugin this build has): set that section's `Name` to a plugin built into this Fluent "
                "Bit (`fluent-bit -h` lists them: cloudwatch_logs, kinesis_firehose, s3, http, forward...), or, for "
                "a custom plugin, build its shared object (.so) into the log router's image and load it with "
                "`plugins_file` in the [SERVICE] section (a [PLUGINS] file whose `Path` names the .so); then "
                "register the new image or configuration in a new task definition revision and roll it out")
    otel = _OTEL_UNCONFIGURED.search(text)
    if otel:
        return _otel_config_action(otel, image_ref)
    if _PRIV_BIND.search(text):
        ports = [int(p) for p in _BIND_PORT.findall(text) if int(p) < 1024]
        if ports:
            # Adding NET_BIND_SERVICE does not help: Docker grants it by default, and a process that is not root
            # gets no effective capability from the container's set (only a file capability on its binary would).
            nginx = "nginx" in text.lower() or "nginx" in (image_ref or "").lower()
            alt = 8443 if ports[0] == 443 else 8080  # the unprivileged port that mirrors it (TLS keeps its 8443)
            return (f"a non-root user cannot bind port {ports[0]} (below 1024): make the app listen on a port "
                    f"of 1024 or more, e.g. {alt} ("
                    + (f"for nginx `listen {alt}{' ssl' if alt == 8443 else ''};` in its server block, or the "
                       "`nginxinc/nginx-unprivileged` image, which runs as a non-root user"
                       + (" and listens on 8080; " if alt == 8080 else "; ") if nginx else "")
                    + "then change the task definition's containerPort and the target group's port to match), or "
                    "run the container as root (`\"user\": \"0\"`). Adding the NET_BIND_SERVICE "
                    "capability does not help: a non-root process gets no effective capability from it")
    long = _TOO_LONG.search(text)
    if long:
        name = (long.group("name") or long.group("name2")).rstrip(".-")
        limit = long.group("limit") or long.group("limit2")
        refused = _REFUSED_VALUE.search(text[max(0, long.start() - 300):long.start()])
        host = bool(refused and _HOSTNAME_VALUE.match(refused.group("value")))
        return (f"the value of `{name}` is longer than its limit of {limit} {long.group('unit') or 'characters'}: set "
                f"`{name}` explicitly (in the container's environment or the app's configuration) to a value of at "
                f"most {limit}"
                + ("; the value it got looks like the container's host name, so it is left to a default derived "
                   "from it, and an awsvpc task's host name (on Fargate, the task's long generated name) exceeds "
                   "such limits" if host else ""))
    if _CLI_USAGE.search(text):
        return ("the program rejected its command-line arguments, so the task's command reached a program that "
                "does not take it: the image's ENTRYPOINT receives the task definition's `command` as arguments, so "
                "compare the container's `entryPoint` and `command` with the image's ENTRYPOINT and CMD (which docker "
                "image inspect shows): set `entryPoint` to the program the command is meant for (or to [] to run the "
                "command as is), or pass only the arguments that program accepts")
    req = _CLI_REQUIRED.search(text)
    if req:
        if req.group("a3") is not None:
            # clap lists the missing arguments on the lines after its error, one a line.
            listed = [a.strip() for a in text[req.start("a3"):].splitlines() if a.strip()][:4]
        else:
            listed = [next(g for g in req.groups() if g is not None).strip().rstrip(".")]
        listed = [a for a in listed if a]
        absent = (f"its required argument `{listed[0]}`" if len(listed) == 1 else
                  "its required arguments " + ", ".join(f"`{a}`" for a in listed) if listed else
                  "one or more of its required arguments (the lines after the error name them)")
        return (f"the program was started without {absent}: pass {'it' if len(listed) == 1 else 'them'} in the "
                "command it runs "
                "(the task definition's `command`, a Batch job definition's `command` or the `containerOverrides` "
                "of whatever submits the job or runs the task), after checking the program's usage (`--help`) for "
                "its position or option name")
    if ARGS_REFUSED.search(text):
        return ("the program was started without the arguments it requires (its usage line, printed with the error, "
                "names them): pass them in the container's `command` in the task definition, or check that whatever "
                "starts the task (a run-task call's overrides, a CI plugin's or scheduler's template) passes them, "
                "after comparing the container's `entryPoint` and `command` with the image's ENTRYPOINT and CMD")
    initdb = _INITDB_NOT_EMPTY.search(text)
    if initdb:
        d = initdb.group("dir") or initdb.group("dir2")
        return (f"initdb will only create a new database cluster in an empty directory, and `{d}` already holds "
                "files (a volume's root, with `lost+found` or files of another run): point `PGDATA` at a "
                f"subdirectory of the mount (for example `{d.rstrip('/')}/pgdata`) or mount the volume one level up "
                "(an EFS access point's own directory), or empty the directory if its files are not a database")
    if _MEMORY_LOCK.search(text):
        return ("the process may not lock memory (mlock refused: it answers \"cannot allocate memory\" or \"operation "
                "not permitted\" whatever memory is free): on EC2 add the IPC_LOCK capability "
                "(`linuxParameters.capabilities.add`) and raise the memlock ulimit (`ulimits`: `memlock`), and make "
                "sure the capability reaches the process (a non-root user needs it on the binary, which some images "
                "skip by a setting); Fargate grants neither, so there configure the application not to lock memory")
    interp = _INTERP_ARGV.search(text)
    if interp:
        return (f"`{interp.group('prog')}` was handed `{interp.group('arg')}` as its script: the image's ENTRYPOINT "
                "runs that interpreter, and the command given to the container (by the task definition, or a job "
                "runner such as Nextflow or AWS Batch that runs `bash -c ...`) was appended to it as arguments; "
                "override the entrypoint (the container's `entryPoint`, or the runner's option for it) with "
                "`[]` or a shell, or use an image whose ENTRYPOINT is not the interpreter")
    if _STORED_ID_MISMATCH.search(text):
        return ("the data directory holds another cluster's state: the cluster or node id the program stored there "
                "on an earlier run does not match the one it has now (configured, or given by the cluster it joins), "
                "so the volume that provides the directory (an EC2 host path that outlived an earlier deployment, an "
                "EFS or EBS volume) was written by another cluster or node. "
                "If that data is disposable, give this task a fresh volume or path, or empty the directory; if it is "
                "not, point the program back at the cluster the data belongs to (its coordinator's address or the "
                "configured cluster id)")
    key = _MISSING_KEY.search(text)
    if key:
        return _config_key_action(key.group("k1") or key.group("k2") or key.group("k3") or key.group("k4"), text)
    if _UNKNOWN_PART.search(text):
        floating = floating_tag(image_ref)
        return ("the configuration names a component or key this version of the image does not know (removed, "
                "renamed, or not yet added), so the image version and the configuration disagree: pin the image to "
                "the version the configuration was written for"
                + (f" (`{image_ref}` floats to each new release)" if floating else "")
                + ", or update the configuration to this version's names (its changelog lists the removals)")
    syntax = _SYNTAX_AT_LINE.search(text)
    if syntax:
        line = syntax.group("l1") or syntax.group("l2") or syntax.group("l3")
        inline = next((where for image_re, where in _INLINE_CONFIG if image_re.search(image_ref or "")), None)
        return (f"the configuration the program reads at start-up does not parse at line {line}: open what it is "
                "given, "
                + (f"here {inline} in the task definition, " if inline else
                   "a file in the image or on a volume, or an inline configuration in an environment variable or "
                   "secret of the task definition, ")
                + f"and fix line {line} (indentation, tabs, an unquoted `:` or `#` in a value, a missing quote or "
                "comma); check it before deploying with a parser "
                "(`python3 -c 'import sys, yaml; yaml.safe_load(sys.stdin)' < config.yaml`, or `jq . config.json`)")
    if _PLUGIN_FAILED.search(text):
        floating = floating_tag(image_ref)
        return ("a plugin or strategy the program loads at start-up failed to initialise, which most often follows "
                "a version change of the program or of the plugin (one upgraded without the other, or a changed "
                "default): compare the versions in this image with the last revision that started (the version "
                "the log prints), pin the previous version or upgrade the plugin to the matching one, and check "
                "the plugin's configuration against the new version's; the trace's `Caused by` line names the part "
                "that failed"
                + (f" (`{image_ref}` floats to each new release: pin a version tag)" if floating else ""))
    setting = next((m for m in _NO_SETTING.finditer(text)
                    if not _GOES_ON_WITH_DEFAULT.search(text, m.end(), _line_end(text, m.end()))), None)
    if setting:
        what = setting.group("what").lower()
        return (f"the program started with no {what} to work on, a setting it cannot run without: pass it in the "
                "container's `command` (the option its usage names) or `environment` in the task definition, or in "
                "the overrides of the run-task call or job that starts it")
    if _REGION_MISSING.search(text):
        return ("the SDK or agent found no AWS region (Fargate has no EC2 instance metadata to read it from, and on EC2 a "
                "container may not reach it: IMDSv2 with a hop limit of 1 answers no bridge-mode container): "
                "set `AWS_REGION` (and `AWS_DEFAULT_REGION` for older SDKs and agents) in the container's environment, "
                "or the region option of the agent's own configuration")
    detail = config_detail(text, image_ref)
    if detail:
        return detail
    if _BAD_CONFIG_FILE.search(text):
        return ("the configuration file it reads at start-up is invalid or includes files that are missing: check "
                "that the file, and every file it includes (parsers, @INCLUDE, a custom FireLens `config-file-value`), "
                "is in the image at the path the command or task definition names, and validate it with the "
                "program's own check (Fluent Bit's `--dry-run` option, `nginx -t`, Envoy's `--mode validate`)")
    if not paths:
        return None
    owned, path = _first_path(_NOT_OWNED, text)
    if owned and _ACCESS_WHY_MISSING.match(owned.group(0)) and _MISSING_WHY.search(text, owned.end(), owned.end() + 120):
        path = None  # "cannot access X: ... no such file or directory" (ls, stat): X is missing, not refused
    if path and _READ_ONLY_FS.search(text):
        # A file (a log file, a pid file) is written in a directory: the volume goes on that directory.
        folder = path.rsplit("/", 1)[0] if _clearly_a_file(path, text) and path.count("/") > 1 else path
        return (f"`{path}` is on a read-only file system: with the task definition's `readonlyRootFilesystem` set, "
                "nothing in the image can be written, so add a volume (a task volume with no source is a writable "
                f"scratch directory) and a mountPoint at `{folder}`"
                + (" (or at a directory above it)" if folder == path else "")
                + ", or point the app's cache, data, log or temp directory at a path that is mounted writable")
    if path and _WRITES.search(text):
        return (f"the container's user may not write `{path}`: if a volume provides it (an EFS access point, a bind "
                "mount), give that user the volume's ownership (the access point's posixUser / creationInfo uid:gid, "
                "or a chown of the directory on the file system); if the task definition sets "
                "`readonlyRootFilesystem`, nothing in the image can be written, so mount a writable volume there (a "
                "task volume with no source, and a mountPoint at that path or a directory above it); if it is in "
                "the image, chown it to the user the "
                "container runs as in the Dockerfile (`COPY --chown`, `RUN mkdir -p ... && chown`) or run as its "
                "owner (the task definition's `user`)")
    if path:
        return (f"the container's user may not use `{path}`: if a volume provides it (an EFS access point, a bind "
                "mount), give that user the volume's ownership (the access point's posixUser / creationInfo uid:gid, "
                "or a chown of the directory on the file system); if it is in the image, chown it to that user in "
                "the Dockerfile (`COPY --chown`, `RUN chown`) or run as its owner (the task definition's `user`)")
    said, path = _first_path(_NO_PATH, text)
    if path and _HOST_PATH.search(path):
        return (f"`{path}` is a path of the HOST that the configuration expects mounted in from the instance: "
                "Fargate gives a task no host paths, so use the configuration meant for this launch type; on EC2, "
                "add a host volume (`sourcePath`) and a mountPoint at that path")
    if path and said and _OPEN_OR_READ.match(said.group(0)) and not _SAYS_MISSING.search(text):
        # "could not read X" without "no such file": X may be there and refused to the container's user.
        return (f"`{path}` could not be read and the log does not say it is missing, so either it is not there or "
                "the container's user may not read it; check both (`ls -ln` it and run `id` in the image): if it is "
                "absent and belongs in the image, add it (a COPY in the Dockerfile; check the build context, WORKDIR "
                "and .dockerignore), and if a volume provides it, check the task definition's mountPoints put that "
                "volume at this path; if it is there, its owner and mode must let the user the container runs as "
                "(the task definition's `user`, else the image's USER) read it (`COPY --chown`, a `chmod`, or run "
                "as its owner)")
    if path:
        return (f"`{path}` is not there when the container starts: if it belongs in the image, add it (a COPY in "
                "the Dockerfile; check the build context, WORKDIR and .dockerignore); if a volume provides it, check "
                "the task definition's mountPoints put that volume at this path")
    return None


def _with_list(texts: Sequence[str], containers: Sequence[str | None], j: int, most: int = 4) -> str:
    """Line `j`, with the indented lines that continue it when it ends in a colon (a list it announces:
    clap's "the following required arguments were not provided:" and the arguments under it)."""
    text = texts[j]
    if not text.rstrip().endswith(":"):
        return text
    more: list[str] = []
    for k in range(j + 1, min(len(texts), j + 1 + most)):
        if containers[k] != containers[j] or not texts[k][:1].isspace() or not texts[k].strip():
            break
        more.append(texts[k])
    return "\n".join([text, *more])


# An init or entrypoint runner reporting one of its scripts' exit (s6-overlay's "[cont-init.d] 51-docker.sh: exited
# 1.", "cont-init: info: /etc/cont-init.d/51-docker.sh exited 1"), and its start: the script's own output, between
# the two, holds the error, if it printed one.
SCRIPT_EXIT = lazy_re(r"(?i)^\s*(?:\[[\w.-]+\]\s*|[\w-]+: (?:info|warning|fatal|error): )?(?:/?[\w.-]+/)*"
                      r"(?P<script>[\w.-]+\.(?:sh|bash|py|rb|pl)):?\s+exited(?: with(?: exit)? (?:code|status))?:?\s+"
                      r"(?P<code>-?\d+)\W*$")
SCRIPT_START = lazy_re(r"(?i)^\s*(?:\[[\w.-]+\]\s*|[\w-]+: info: running )?(?:/?[\w.-]+/)*"
                       r"(?P<script>[\w.-]+\.(?:sh|bash|py|rb|pl))(?::?\s+executing\b|\s*$)")
# A move whose source is not there: `mv: cannot stat 'X': No such file or directory` (GNU), `mv: can't rename 'X': No
# such file or directory` (busybox).
_MOVE_SOURCE_MISSING = lazy_re(r"\bmv: (?:cannot stat|can't rename|cannot move|rename) ['\"‘]?(?P<path>/[^'\"’\s]+)['\"’]?"
                               r"(?: to \S+)?: No such file or directory")


def _script_of(ev: Evidence, name: str | None, index: int, around: int = 8) -> str | None:
    """The init or entrypoint script whose output line `index` is: the nearest script start above it, or the
    nearest script exit below it, among the container's lines."""
    texts, containers = ev.logs.texts, ev.logs.containers
    for j in range(index - 1, max(-1, index - around - 1), -1):
        if name and containers[j] not in (name, None):
            continue
        if m := SCRIPT_START.match(texts[j]):
            return m.group("script")
        if SCRIPT_EXIT.match(texts[j]):
            break  # another script's end: the line is not inside one that started above
    for j in range(index + 1, min(len(texts), index + around + 1)):
        if name and containers[j] not in (name, None):
            continue
        if m := SCRIPT_EXIT.match(texts[j]):
            return m.group("script")
    return None


def _moved_on_an_earlier_start(ev: Evidence, name: str | None, index: int) -> str | None:
    """An image's start-up script failing to move a file that is not there: the script moves it away each time it
    runs, so it is gone when the same container runs the script a second time, which a container restarted in place
    does (a task definition `restartPolicy`: ECS restarts the same container, its writable layer kept) -- or when a
    volume over that directory hides the image's copy. The restart comes first where the evidence shows one (the
    policy in the task definition, the script starting twice in the log). None for a move no script ran."""
    said = _MOVE_SOURCE_MISSING.search(ev.logs.texts[index])
    if not said:
        return None
    script = _script_of(ev, name, index)
    if not script:
        return None
    path = said.group("path")
    folder = path.rsplit("/", 1)[0] or "/"
    cdef = ev.container_definition(name)
    starts = sum(1 for j in range(len(ev.logs.texts)) if ev.logs.containers[j] in (name, None)
                 and (m := SCRIPT_START.match(ev.logs.texts[j])) and m.group("script") == script)
    shown = ("its task definition enables a `restartPolicy`" if cdef and cdef.restarts else
             f"the log shows `{script}` starting {starts} times" if starts > 1 else None)
    who = f"`{name}`" if name else "the container"
    img = image(ev, name)
    upgrade = (f", or upgrade `{img}` to a current release whose start-up scripts survive a restart" if img else
               ", or move to an image release whose start-up scripts survive a restart")
    off = (f"turn it off for {who} (`\"restartPolicy\": {{\"enabled\": false}}` in a new revision "
           "of the task definition: a failure then replaces the task, whose new container starts from the image)"
           + upgrade)
    check = describe_task_definition(ev, container_query(ev, name, "[restartPolicy, mountPoints]"))
    if shown:
        return (f"`mv` found no `{path}` to move: the image's start-up script `{script}` moves that file away when "
                f"it runs, and it was already gone because {who} had run the script before in this same container "
                f"({shown}). A container restarted in place keeps its writable layer, so the second start runs the "
                f"script against the files the first one changed: unless the restart policy is what you want, "
                f"{off}; the exit that set off the restart is "
                "earlier in the container's log")
    return (f"`mv` found no `{path}` to move, a file the image's start-up script `{script}` moves away when it "
            f"runs: it is gone when {who} already ran that script once in this same container (a container the task "
            "definition's `restartPolicy` restarts in place keeps its writable layer, so its second start finds the "
            f"file already moved), or when a volume mounted over `{folder}` hides the image's copy. Check both: "
            f"`{check}`. If the restart policy is enabled, {off}; with a volume there, mount it at another path (or at "
            "the single files it adds, not over the directory)")


# A start-up error that names its own remedy: what is missing, then the options (and the configuration file) that
# would give it. Ktor: "Neither port nor sslPort specified. Use command line options -port/-sslPort or configure
# connectors in application.conf".
_NAMED_REMEDY = lazy_re(r"(?i)\b(?:not|no|neither)\b[^.\n]{0,80}?\b(?:specified|set|given|provided|configured|"
                        r"defined)\b[^\n]{0,40}?[.;]\s*(?:please\s+)?(?:use|pass|set|specify|provide)\s+(?:the\s+)?"
                        r"(?:command[- ]line\s+)?(?:options?|flags?|arguments?|parameters?)\s+"
                        r"(?P<opts>--?[A-Za-z][\w-]*(?:\s*(?:/|,|\bor\b|\band\b)\s*--?[A-Za-z][\w-]*)*)"
                        r"(?:\s+or\s+(?:configure|set|define|add)\s+(?P<what>[\w .-]{1,40}?)\s+in\s+"
                        r"(?P<file>[\w./-]+\.(?:conf|ya?ml|properties|json|toml|ini|cfg|hocon|xml)))?")
_OPTION = lazy_re(r"--?[A-Za-z][\w-]*")
# A port option for the plain listener (not the TLS, admin or metrics one).
_PLAIN_PORT_OPTION = lazy_re(r"(?i)^--?(?:http[-_]?)?port$|^--?(?:server|listen)[-_]?port$")
_JVM_TEXT = lazy_re(r"\b(?:java|javax|kotlin|scala|io\.ktor|org\.springframework)\.[\w.$]+")


# An option whose value is a secret: a word of its name (`--jwt-secret`, `--db-password`, `--api-key`, `--auth-token`);
# not one naming where a secret is (`--key-file`, `--password-path`: a path is no secret).
_SECRET_WORDS = frozenset({"secret", "password", "passwd", "pass", "passphrase", "token", "key", "apikey",
                           "credential", "credentials"})
_PLACE_WORDS = frozenset({"file", "path", "dir", "location", "env", "var", "id", "name", "arn"})


def _carries_secret(option: str) -> bool:
    words = set(re.split(r"[-_.]+", option.lstrip("-").lower()))
    return bool(words & _SECRET_WORDS) and not words & _PLACE_WORDS


def _container_port(ev: Evidence, name: str | None) -> int | None:
    """The container's port as the evidence gives it: the task definition's first containerPort, else the event's
    network binding (an EC2 bridge or host task)."""
    cdef = ev.container_definition(name)
    if cdef and cdef.port_mappings:
        return cdef.port_mappings[0]
    c = next((c for c in ev.detail.containers if c.name == name), None)
    return next((b.container_port for b in (c.network_bindings if c else []) if b.container_port), None)


def _remedy_the_message_names(ev: Evidence, name: str | None, index: int) -> str | None:
    """When a start-up error names its own remedy (the options that would give the missing setting, the file that
    should set it), turn it into the change to make, with the container's known port for a port option."""
    text = ev.logs.texts[index]
    m = _NAMED_REMEDY.search(text)
    if not m:
        return None
    opts = _OPTION.findall(m.group("opts"))
    file, what = m.group("file"), (m.group("what") or "it").strip()
    port_opt = next((o for o in opts if _PLAIN_PORT_OPTION.match(o)), None)
    who = f"`{name}`" if name else "the container"
    args = ("its arguments: the task definition's `command`, which follows the image's ENTRYPOINT (if the image "
            "starts the program from CMD instead, `command` replaces it, so repeat that command first)")
    if port_opt:
        port = _container_port(ev, name)
        if port is not None:
            action = (f"the program was given no port, and the message names how to give it one: pass "
                      f"`{port_opt}={port}`, the port the task maps for {who} (its containerPort), in {args}: "
                      f"`\"command\": [\"{port_opt}={port}\"]`")
        else:
            look = describe_task_definition(ev, container_query(ev, name, "portMappings[].containerPort"))
            action = (f"the program was given no port, and the message names how to give it one: pass `{port_opt}=` "
                      f"and the port the task maps for {who} (its containerPort, which the command below prints) in "
                      f"{args}: `{look} --output text`")
    elif secret_opt := next((o for o in opts if _carries_secret(o)), None):
        # `command` is plaintext (ecs:DescribeTaskDefinition shows it, so does the process list): a secret goes in
        # through the container's `secrets` as a variable, which a shell puts on the command line.
        var = re.sub(r"\W", "_", secret_opt.lstrip("-")).upper()
        listed = " or ".join(f"`{o}`" for o in opts)
        action = (f"the program was given none of what the message asks for, and names how to give it: pass {listed}, "
                  f"but not with the value written in the task definition's `command` (plaintext: anyone allowed "
                  "ecs:DescribeTaskDefinition reads it, and it shows in the process list). Store the value in "
                  "Secrets Manager (or SSM Parameter Store), inject it in the container definition's `secrets` as "
                  f"a variable (`{{\"name\": \"{var}\", \"valueFrom\": \"<the secret's ARN>\"}}`; the execution role "
                  "needs secretsmanager:GetSecretValue on it) and let a shell put it on the command line: "
                  "`\"entryPoint\": [\"sh\", \"-c\"]` and a `command` that runs `exec` on the program with its "
                  f"arguments, `{secret_opt}` among them followed by `\"${var}\"` (or set the variable the program "
                  "reads instead, if it reads one)")
    else:
        listed = " or ".join(f"`{o}`" for o in opts)
        action = (f"the program was given none of what the message asks for, and names how to give it: pass {listed} "
                  f"with the value this deployment needs in {args}")
    if not file:
        return action
    after = ev.logs.texts[index + 1:index + 6]
    jvm = any(_JVM_TEXT.search(t) for t in (text, *after))
    where = (f"a JVM program reads `{file}` from its classpath, so it must be packaged in the jar (from "
             "`src/main/resources` in a Gradle or Maven build); list the jar's files in the image (`jar tf` or "
             "`unzip -l` on it) to check" if jvm else
             f"check that `{file}` is in the image where the program looks for it (its working directory, or the "
             "path an option or variable names)")
    return f"{action}. Or, if `{file}` is meant to configure {what}, the program did not read it: {where}"


# nginx resolves every upstream host when it starts: "host not found in upstream "app" in /etc/nginx/nginx.conf:24"
# (or "app:8080"). A bare name (no dot) is a Compose service or a container name.
_UPSTREAM_NOT_FOUND = lazy_re(r"host not found in upstream \"(?P<host>[A-Za-z][\w-]*)(?::(?P<port>\d+))?\"(?: in "
                              r"(?P<at>\S+:\d+))?")


# A container that writes a DNS search domain into the task's resolv.conf before the app starts: the Docker Compose
# ECS integration's `<Service>_ResolvConf_InitContainer` (image docker/ecs-searchdomain-sidecar) puts the project's
# Cloud Map namespace there, so a bare service name resolves as `<name>.<namespace>`.
_SEARCH_DOMAIN_HELPER = lazy_re(r"(?i)search-?domain|resolv[_.-]?conf")


def _search_domain_writer(ev: Evidence) -> Container | None:
    """The task's container that set up a DNS search domain and finished cleanly (exit 0), or None."""
    return next((c for c in ev.detail.containers if c.exit_code == 0
                 and (_SEARCH_DOMAIN_HELPER.search(c.name or "") or _SEARCH_DOMAIN_HELPER.search(c.image or ""))),
                None)


def _service_connect_proxy(ev: Evidence) -> str | None:
    """The Service Connect proxy ECS adds to a task whose service uses Service Connect, or None."""
    return next((c.name or "ecs-service-connect" for c in ev.detail.containers
                 if (c.name or "").startswith("ecs-service-connect-") or "ecs-service-connect-agent" in (c.image or "")),
                None)


def _resolves_other_services(ev: Evidence, host: str) -> str | None:
    """When the task shows that a bare name of another service is meant to resolve (a DNS search domain written for
    it, Service Connect), the name is not what to rewrite: first check that the service it names runs and is
    registered under it. None when the task shows neither."""
    writer = _search_domain_writer(ev)
    proxy = None if writer else _service_connect_proxy(ev)
    if not writer and not proxy:
        return None
    cl, rf = q(cluster(ev)), region_flag(ev)
    services = f"$(aws ecs list-services --cluster {cl}{rf} --query 'serviceArns[:10]' --output text)"
    if writer:
        named = (f"`{writer.name}`" + (f" (`{writer.image}`)" if writer.image else ""))
        lookup = (f"aws servicediscovery list-services{rf} "
                  f"--query \"Services[?Name=='{host}'].[Name,Id,InstanceCount]\" --output text")
        rows = ("services[].[serviceName,desiredCount,runningCount,serviceRegistries[0].registryArn]")
        return (f"the upstream host `{host}` does not resolve, although this task is set up to resolve other "
                f"services by their bare names: {named} exited 0 after writing a DNS search domain into the task's "
                "resolv.conf ("
                + ("the Docker Compose ECS integration adds it to put the project's Cloud Map namespace there"
                   if "ecs-searchdomain-sidecar" in (writer.image or "") else "a Cloud Map namespace, as a rule")
                + f"), so `{host}` resolves as soon as a service of that name has running tasks registered in "
                "that namespace. Do not rewrite the name; first check that it runs and is registered (no Cloud Map "
                "service of that name, an InstanceCount of 0, or an ECS service whose registry is that service with "
                f"no running tasks mean it is not): ```\n{lookup}\n"
                f"aws ecs describe-services --cluster {cl} --services {services}{rf} "
                f"--query '{rows}' --output text\n```\n"
                f"nginx resolves each upstream once, when it starts: if `{host}` runs and is registered now, it was "
                "not yet when this task started (services started together), and the next task starts cleanly; if "
                f"it is not running, its own stopped tasks say why, and that is what to fix")
    rows = ("services[].[serviceName,desiredCount,runningCount,"
            "deployments[0].serviceConnectConfiguration.services[].clientAliases[].dnsName]")
    return (f"the upstream host `{host}` does not resolve, although this task runs the Service Connect proxy "
            f"(`{proxy}`), which resolves the names the services of its namespace publish: so `{host}` is meant to be "
            "the client alias (or discovery name) of a service there. Do not rewrite the name; first check that a "
            f"service publishing `{host}` runs (its Service Connect configuration lists it, with running tasks): "
            f"```\naws ecs describe-services --cluster {cl} --services {services}{rf} --query '{rows}' "
            "--output text\n```\nA task gets the Service Connect names that existed when it started: if the "
            f"service publishing `{host}` was added or changed after this service's last deployment, roll this "
            f"service out again (`{deploy(ev, new_revision=False)}{rf}`)")


def _unresolved_upstream(ev: Evidence, text: str) -> str | None:
    """What to change when a proxy names as its upstream a bare host name that resolves in Docker Compose or a bridge
    task with `links`, not where the task's containers share localhost (awsvpc, Fargate)."""
    m = _UPSTREAM_NOT_FOUND.search(text)
    if not m:
        return None
    host, port, at = m.group("host"), m.group("port"), m.group("at")
    where = f" in `{at}`" if at else ""
    sibling = next((c.name for c in ev.detail.containers if c.name and c.name.lower() == host.lower()), None)
    who = f"the container `{sibling}` of this task" if sibling else f"`{host}`"
    if localhost_mode(ev) == "shared" and not sibling:
        # No container of the task has that name: another service (or a host elsewhere), not this task's localhost.
        meant = _resolves_other_services(ev, host)
        if meant:
            return meant
        return (f"the upstream host `{host}` does not resolve, and it is no container of this task: in "
                f"`{network_mode(ev) or 'awsvpc'}` mode a name of another service resolves only through Service "
                f"Connect or Cloud Map, so point the upstream{where} at that service's Service Connect client alias "
                f"or its Cloud Map name (`{host}.` followed by the name of the namespace it registers in, which "
                f"`aws servicediscovery list-namespaces{region_flag(ev)} --query 'Namespaces[].Name' --output text` "
                "lists) with its port, or at its load balancer's DNS name; if it meant a container of this task, use "
                "that container's port on `127.0.0.1` (containers of a task share localhost in this mode)")
    if localhost_mode(ev) == "shared":
        ports = (f" and the port it listens on (its containerPort: "
                 f"`{describe_task_definition(ev, container_query(ev, sibling, 'portMappings[].containerPort'))}`)"
                 if sibling and not port else "")
        return (f"the upstream host `{host}` does not resolve: in `{network_mode(ev) or 'awsvpc'}` mode the "
                "containers of a task get no DNS name for each other (a Compose service name or a `links` name "
                f"works only in bridge mode) and share localhost, so point the upstream at {who} as "
                + (f"`127.0.0.1:{port}`" if port else "`127.0.0.1`") + f"{ports}{where}")
    if is_windows(ev) and sibling:
        # ECS does not support `links` (nor bridge mode) for Windows containers: the sibling gets no name here.
        return (f"the upstream host `{host}` does not resolve: {who} gets no DNS name in a Windows task, and ECS does "
                "not support `links` for Windows containers, so run that container as its own service and point the "
                f"upstream{where} at its Service Connect or Cloud Map name, or at its load balancer's DNS name")
    if localhost_mode(ev) == "bridge" and sibling:
        return (f"the upstream host `{host}` does not resolve: in bridge mode {who} is reached by name only "
                f"through `links` in this container's definition (`\"links\": [\"{sibling}:{host}\"]`), which "
                f"also makes it start first; or name its address{where}")
    if localhost_mode(ev) == "not-awsvpc" and sibling:
        # An EC2 task with no network interface of its own: bridge (the Linux default) or host. Neither resolves a
        # container's name by itself; bridge needs links, host shares the instance's localhost.
        link = sibling if sibling == host else f"{sibling}:{host}"
        return (f"the upstream host `{host}` does not resolve: this EC2 task has no network interface of its own, so "
                f"it runs in `bridge` mode (the default) or `host` mode, and in neither does {who} get a DNS name by "
                f"itself (see which: `{describe_task_definition(ev, 'taskDefinition.networkMode')} --output text`, "
                f"None means bridge). In bridge mode give this container `\"links\": [\"{link}\"]` in the task "
                f"definition (it also makes `{sibling}` start first); in host mode the containers share the instance's "
                "localhost, so point the upstream" + where + " at " + (f"`127.0.0.1:{port}`" if port else "`127.0.0.1`"))
    return None


_GENERIC_CONFIG = "the configuration file it reads at start-up is invalid"
_CONFIG_READ = "the configuration file was read"


_CONF_UNKNOWN = lazy_re(r"(?i)\bunrecogni[sz]ed\b|\bunknown (?:global )?(?:option|directive|field|key|property|"
                        r"setting|keyword|parameter|flag)\b|\bnot (?:a )?(?:recogni[sz]ed|supported|allowed) "
                        r"(?:option|directive|field|key|property|setting)|\b(?:field|flag|option) not found\b|"
                        r"\bflag provided but not defined\b")


def unknown_setting_release(text: str, image_ref: str | None = None) -> str:
    """The release hint for a configuration that names a setting the program does not recognize ("" otherwise)."""
    if not _CONF_UNKNOWN.search(text):
        return ""
    if floating_tag(image_ref):
        # A tag that moves to each new release: the image most likely changed under the same configuration.
        return (f"; `{image_ref}` floats to each new release, so the tag most likely moved to a release (a new major "
                "version) that no longer accepts this setting: pin the image to the release the configuration was "
                "written for (a version tag), or migrate the configuration to this release's names (its migration "
                "guide lists the renamed and removed ones)")
    return ("; the setting it does not recognize may be valid in another release: when the configuration was "
            "written for a newer one, the image runs an older build (a stale or cached image, a pinned old tag), "
            "so rebuild or pull the image at the release the configuration was written for")


# What makes a "file:line" a configuration error's (beside `_BAD_CONFIG_FILE`'s wording).
_CONFIG_COMPLAINT = lazy_re(r"(?i)\b(?:error|invalid|unknown|unexpected|parse|syntax|expected|unrecognized|not allowed)\b")


def config_detail(text: str, image_ref: str | None = None) -> str | None:
    """What to fix when a configuration error names what in the file is wrong (a section lacking a property it
    requires, the file and line the parser stopped at): the file was read, so its content is at fault, not its
    presence in the image. None when the line names no such thing, or says a file could not be found or opened."""
    if _CONFIG_NOT_FOUND.search(text):
        return None
    lacks = _SECTION_LACKS.search(text)
    if lacks:
        section = (lacks.group("s1") or lacks.group("s2")).strip("[]")
        prop = lacks.group("p1") or lacks.group("p2")
        fluent = bool(_FLUENT_BIT.search(" ".join([text, image_ref or ""])))
        check = (", then check the file with the program's own validation"
                 + (" (Fluent Bit's `--dry-run` option)" if fluent else "") + " before building and rolling out")
        if fluent and prop.lower() == "name" and section.lower() not in _FLUENT_NAMED_SECTIONS:
            # Fluent Bit reads a section it does not know as a plugin section, which needs a Name: the section is
            # one this version does not have (added in a later one), not a plugin with its Name left out.
            return (f"the configuration file was read, and this Fluent Bit version does not know the `{section}` "
                    f"section: it takes any section it does not know for a plugin, which needs a `Name`. The "
                    "configuration was written for another version: pin the image to a version that has that "
                    f"section, or move its settings where this version reads them (`@SET` lines for variables){check}")
        return (f"the configuration file was read, and its `{section}` section has no `{prop}`, a property that "
                f"section requires: add `{prop}` to every `{section}` section of the file it reads and of every file "
                "that file includes"
                + (" (in Fluent Bit every [INPUT], [FILTER] and [OUTPUT] section needs its `Name`, the plugin it runs, "
                   "e.g. `Name cloudwatch_logs`; a section with only a `Match` or a misspelt `Name` key fails this "
                   "way)" if fluent and prop.lower() == "name" else "") + check)
    at = _CONFIG_AT_LINE.search(text) if not _CODE_RUNTIME.search(text) else None
    if at and (_BAD_CONFIG_FILE.search(text) or _CONFIG_COMPLAINT.search(text)):
        file = at.group("file") or at.group("file2")
        line = at.group("line") or at.group("line2")
        fmt = _CONFIG_FORMAT.search(text)
        fluent = bool(_FLUENT_BIT.search(" ".join([text, image_ref or ""])))
        form = ""
        if fmt:
            # The parser says which format it read the file as: a file written in another one fails on its first
            # lines whatever its content.
            name = fmt.group("fmt")
            form = (f"; the program reads this file in its {name} format, so a file written in another format (YAML "
                    f"where {name} is read) fails there: write it in the {name} format"
                    + (" (FireLens saves a custom config file it fetches as a `.conf` file, which Fluent Bit reads "
                       "in its classic format, so a YAML configuration given that way must be rewritten in it)"
                       if fluent and name.lower() == "classic" else ""))
        return (f"the configuration file was read and is wrong at line {line} of `{file}`: fix that "
                "line (and any other lines the log names) in the file, in the image or wherever the task gets it "
                f"from{form}; then check the file with the program's own validation"
                + (" (Fluent Bit's `--dry-run` option)" if fluent else "") + " before building and rolling out"
                + unknown_setting_release(text))
    return None


# The app's own error says which command shows the failure in full: "Run `alembic upgrade head` to see the full
# output", "run 'make check' for more details". A quoted command, not a flag ("Run with --stacktrace").
_RUN_TO_SEE = lazy_re(r"(?i)\b(?:run|re-?run|try running|execute)\s+(?P<quote>[`'\"])(?P<cmd>[\w./][^`'\"\n]{1,200})"
                      r"(?P=quote)\s+(?:again\s+)?(?:to (?:see|get|view|show|print)|for)\s+(?:the\s+|more\s+)?"
                      r"(?:full|complete|detailed|whole|verbose|real|actual|more)?\s*(?:output|details?|information|"
                      r"info|logs?|errors?|traceback|stack ?trace|reason)\b")


def _run_to_see(ev: Evidence, name: str | None, text: str) -> str | None:
    """When the log says to run a command to see the failure in full: run it where the task ran, as a one-off copy
    of the task with that command in place of the container's own (same image, environment, secrets, network)."""
    m = _RUN_TO_SEE.search(text)
    if not m or not name:
        return None
    cmd = m.group("cmd").strip()
    tail = logs_tail(ev, name)
    return (f"the log holds only a summary, and the app names the command that shows the real failure: run `{cmd}` "
            f"in `{name}`'s image with the task's environment, secrets and network, as a one-off copy of the task "
            f"with that command in place of `{name}`'s: "
            f"`{run_task(ev, container=name, command=['sh', '-c', cmd], same_groups=True)}`; its full output goes to "
            f"`{name}`'s log stream"
            + (f" (`{tail}`)" if tail else " (the stopped task's Logs tab in the ECS console)")
            + ", and the first error there is what to fix")


def family_near(ev: Evidence, container: str | None, index: int, before: int = 10,
                after: int = 15) -> tuple[int, str] | None:
    """The first error family named in the container's log lines around `index` (a failure report often
    names the condition a few lines away from its headline), as (line index, the action)."""
    name = container_name(ev, container)
    logs = ev.logs
    order = [index] + [j for j in range(max(0, index - before), min(len(logs.texts), index + after + 1)) if j != index]
    generic: tuple[int, str] | None = None
    texts, containers = logs.texts, logs.containers
    img = image(ev, name)
    for j in order:
        if container and containers[j] not in (container, None):
            continue
        text = texts[j]
        listed = _with_list(texts, containers, j)  # (text and the lines it announces: none of the words, no family)
        if may_name_family(listed):
            upstream = (_unresolved_upstream(ev, text) or _run_to_see(ev, name, text)
                        or _moved_on_an_earlier_start(ev, name, j) or _remedy_the_message_names(ev, name, j))
        else:  # (the first two read words the prefilter holds; these two read the lines around)
            upstream = _moved_on_an_earlier_start(ev, name, j) or _remedy_the_message_names(ev, name, j)
            if not upstream:
                continue
        if upstream:
            return j, upstream
        # A path named on a neighbouring line is often the app's own noise; only the error line's path counts.
        action = error_family(listed, img, paths=j == index)
        if not action:
            continue
        if action.startswith(_GENERIC_CONFIG):
            # The line only says the configuration has errors: a line near it may name what is wrong (a section,
            # a property, a line), which is then what to fix rather than the file's presence in the image.
            generic = generic or (j, action)
            continue
        if generic and not action.startswith(_CONFIG_READ):
            continue  # beside a configuration error, only a line naming the file's content refines it
        if action.startswith(_MLOCK_ACTION):
            action = _mlock_action(ev, name, j) or action
        return j, action + (_runtime_writer(ev, name, action) or "")
    return generic


_MLOCK_ACTION = "the process may not lock memory"
# The setting that turns memory locking off, as the program's own message names it (Vault: "set the
# `disable_mlock` configuration option").
_MLOCK_SETTING = lazy_re(r"\b(disable_?mlock|no_?mlock|mlock_?(?:enabled|disabled))\b", re.IGNORECASE)


def _mlock_action(ev: Evidence, container: str | None, index: int, after: int = 15) -> str | None:
    """The memory-lock refusal when the log names the setting that turns locking off: on Fargate, where the
    IPC_LOCK capability cannot be added, that setting is the fix (Vault's official image also reads its
    configuration from VAULT_LOCAL_CONFIG); on EC2 it is the alternative to IPC_LOCK. None when no line names one."""
    logs = ev.logs
    setting = None
    for j in range(index, min(len(logs.texts), index + after + 1)):
        if container and logs.containers[j] not in (container, None):
            continue
        if found := _MLOCK_SETTING.search(logs.texts[j]):
            setting = found.group(1)
            break
    if setting is None:
        return None
    # The value that turns locking off: true for a setting that disables it, false for one that enables it.
    off = "true" if re.match(r"(?i)disable|no_?mlock|mlock_?disabled", setting) else "false"
    vault = "vault" in f"{container or ''} {image(ev, container) or ''}".lower()
    how = (f" (for the official Vault image, the environment variable `VAULT_LOCAL_CONFIG` = "
           f"`{{\"{setting}\": {off}}}` in the container definition adds it to the configuration)" if vault else
           " (in its configuration file, or the environment variable the image reads it from)")
    if is_fargate(ev):
        return (f"the process may not lock memory (mlock refused, whatever memory is free), and Fargate cannot "
                f"grant the IPC_LOCK capability it needs: turn memory locking off with the setting the log names, "
                f"`{setting} = {off}`{how}, in a new task definition revision")
    return (f"the process may not lock memory (mlock refused, whatever memory is free): add the IPC_LOCK capability "
            "(`linuxParameters.capabilities.add`) and raise the memlock ulimit (`ulimits`: `memlock`), or turn "
            f"memory locking off with the setting the log names, `{setting} = {off}`{how}")


# Path words that name no writer (a directory any image has, a bare file kind).
_COMMON_PATH_WORDS = frozenset([
    "app", "apps", "usr", "srv", "opt", "home", "var", "tmp", "etc", "lib", "lib64", "run", "local",
    "share", "src", "code", "config", "conf", "configs", "file", "files", "root", "mnt", "log", "logs",
    "bin", "cache", "data", "dev", "proc", "sys", "www", "html", "public", "json", "yaml", "yml", "txt",
    "env", "ini", "toml", "cfg", "pem", "key", "crt"
])
# Words of a container's name or image that say it prepares something for the others and is done (or keeps running
# beside them): an init container, an agent.
_HELPER_WORDS = frozenset([
    "init", "agent", "setup", "bootstrap", "copy", "fetch", "render", "template", "prepare", "sync"
])
# Words of an image that serves (a database, a cache, a broker, a web server or proxy): it answers requests and writes
# only its own data, never another container's files, so sharing a word with a path (`redis` and `.../redis.conf`, a
# setting *for* that server) does not make it the path's writer.
_SERVER_WORDS = frozenset([
    "redis", "valkey", "keydb", "memcached", "postgres", "postgresql", "postgis", "mysql", "mariadb", "mongo",
    "mongodb", "cassandra", "scylla", "clickhouse", "cockroach", "cockroachdb", "influxdb", "elasticsearch",
    "opensearch", "solr", "neo4j", "couchdb", "couchbase", "etcd", "zookeeper", "kafka", "rabbitmq", "nats", "activemq",
    "mosquitto", "nginx", "httpd", "apache", "haproxy", "traefik", "caddy", "varnish", "tomcat", "jetty", "minio",
    "keycloak", "prometheus", "grafana", "localstack", "mailhog", "pgbouncer", "proxysql"
])


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) >= 3}


def _runtime_writer(ev: Evidence, name: str | None, action: str) -> str | None:
    """When the path of a path clause (missing, refused, unreadable) is one another container of the task writes
    at run time, what that asks for: the writer may not have written it yet, or wrote it with an owner or mode the
    container's user cannot read. The writer is a sibling whose name or image names the path (a `vault-agent`
    beside `/vault/...`), or one this container dependsOn that is an init or agent container. Never a known sidecar
    (a log router, a metrics or trace agent, a proxy: it forwards, it writes no one's files) unless this container
    waits for it to finish (COMPLETE/SUCCESS): one that exits is no never-exiting agent, whatever its name says
    (`otel-config-init`), and a server (redis,
    postgres, nginx) only when this container waits for it to finish (COMPLETE/SUCCESS), never for a word it shares
    with the path; a name that also says it prepares something (`redis-config-init`) is an init container."""
    m = re.match(r"(?:the container's user may not use )?`(?P<path>/[^`]+)`", action)
    if not m or not name:
        return None
    path_words = _words(m.group("path")) - _COMMON_PATH_WORDS
    cdef = ev.container_definition(name)
    waits = dict(cdef.depends_on) if cdef else {}
    siblings = [c.name for c in ev.detail.containers if c.name and c.name != name]
    for td in ([ev.task_definition] if ev.task_definition else []):
        siblings += [c.name for c in td.containers if c.name != name and c.name not in siblings]
    writer = None
    for sib in siblings:
        img = image(ev, sib)
        if sidecar_kind(Container(name=sib, image=img), ev.task_definition) \
                and waits.get(sib) not in ("COMPLETE", "SUCCESS"):
            continue  # a log router or an agent that never exits: not what writes the app's files
        own = _words(sib) | {w for w in re.split(r"[^a-z0-9]+", (img or "").split("@")[0].rsplit("/", 1)[-1]
                                                   .split(":")[0].lower()) if len(w) >= 3}
        helper = own & _HELPER_WORDS
        if own & _SERVER_WORDS and not helper:
            if waits.get(sib) in ("COMPLETE", "SUCCESS"):
                writer = sib
                break
            continue  # a server sharing a word with the path (a settings file for it) is no writer
        if own & path_words or (sib in waits and helper):
            writer = sib
            break
    if not writer:
        return None
    cond = waits.get(writer)
    now = (f" (it dependsOn `{writer}` with condition {cond})" if cond else "")
    return (f". `{writer}` of this task may write that path at run time (into a volume both mount), so it may not have "
            f"written it yet when `{name}` started{now}, or wrote it with an owner or mode `{name}`'s user cannot "
            f"read: make `{name}` dependsOn `{writer}` with condition SUCCESS (a container that exits when done) or "
            "HEALTHY (an agent that keeps running), and run both as the same user (the task definition's `user`) or "
            "have the writer leave the file readable to that user (its umask, a chmod, or a uid:gid it sets)")


def error_action(error: str) -> str:
    """What the named error itself asks for, when its text says it (a dependency-injection registration)."""
    di = _DI_MISSING.search(error)
    if di:
        name = di.group(1) or di.group(2)
        return (f"register `{name}` with the dependency-injection container (ASP.NET Core "
                "`builder.Services.Add...`, Spring a `@Bean`/`@Component`) where the app configures its services")
    return error_family(error) or "fix that error in the code or configuration it names"


def docker_run(ev: Evidence, container: str | None, *, env: Iterable[str] = (), port: int | str | None = None,
               memory_mib: int | None = None, entrypoint: str | None = None, args: str = "",
               limits: bool = True, detach: str | None = None, gpu: bool | None = None) -> str:
    """`docker run` of the container's image as the task runs it: its cpu and memory, its GPUs (`gpu`, or
    `uses_gpu` when None), the given variable names passed through from the shell (`-e NAME`), a port
    published as itself (a number, or a `$variable` an earlier line read), in the background under the
    name `detach` if given."""
    name = container_name(ev, container)
    img = ran_image(ev, name) or image(ev, name) or needs_a_value(f"the image of {name or 'the container'}")
    parts = ["docker run --rm"] + ([f"-d --name {q(detach)}"] if detach else [])
    if gpu or (gpu is None and uses_gpu(ev, name)):
        parts.append("--gpus all")
    if ev.cpu_architecture in ("arm64", "x86_64"):
        parts.append(f"--platform linux/{'arm64' if ev.cpu_architecture == 'arm64' else 'amd64'}")
    if limits:
        mem = memory_mib or task_memory_mib(ev, name)
        if mem:
            parts.append(f"--memory {mem}m")
        cpu = ev.detail.cpu
        if cpu and str(cpu).isdigit() and int(cpu) >= 128:
            parts.append(f"--cpus {int(cpu) / 1024:g}")
    parts += [f"-e {q(n)}" for n in env]
    if port and str(port).isdigit():
        parts.append(f"-p {port}:{port}")
    elif port and re.fullmatch(r"\$\w+", str(port)):
        parts.append(f'-p "{port}:{port}"')
    elif port:  # an unknown port still gets published: a curl to localhost needs the mapping
        parts.append(f"-p {shlex.quote(f'{port}:{port}')}")
    if entrypoint:
        parts.append(f"--entrypoint {q(entrypoint)}")
    parts.append(q(img) if not img.startswith("<") else f"'{img}'")
    if args:
        parts.append(args)
    return " ".join(parts)


# -------------------------------------------------------------------------------------------------
# ARNs and policies
# -------------------------------------------------------------------------------------------------
def arn(ev: Evidence, service_: str, resource: str, *, regional: bool = True, global_account: bool = True) -> str:
    r = (region(ev) or REGION_UNKNOWN) if regional else ""
    a = (account(ev) or ACCOUNT_UNKNOWN) if global_account else ""
    return f"arn:{partition(ev)}:{service_}:{r}:{a}:{resource}"


_S3_ARN = lazy_re(r"^arn:(aws[\w-]*):s3:::")


def is_s3_arn(value: str | None) -> TypeGuard[str]:
    """An S3 ARN in any partition (arn:aws:s3:::, arn:aws-us-gov:s3:::, arn:aws-cn:s3:::)."""
    return bool(value and _S3_ARN.match(value))


def s3_arn(ev: Evidence, resource: str, like: str | None = None) -> str:
    """The S3 ARN of `resource` (a bucket, `bucket/key`, `*/*`) in the partition of `like` (an S3 ARN the evidence
    names: a GovCloud file's bucket is arn:aws-us-gov:s3:::bucket) or else of the event's Region. IAM matches a
    resource only in the role's own partition: an `arn:aws:` statement in a GovCloud or China role allows nothing."""
    m = _S3_ARN.match(like or "")
    return f"arn:{m.group(1) if m else partition(ev)}:s3:::{resource}"


def fill_arn(ev: Evidence, value: str) -> str:
    """An ARN from a log or reason with the account and region the event knows put back where the
    reporter masked them (xxxxxxxxxxxx, [ACCOUNT-ID], {REGION})."""
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return value
    _, part, svc, r, a, rest = parts
    if r and not _REGION.match(r) and region(ev):
        r = region(ev) or r
    if a and not _ACCOUNT.match(a) and a != "aws":
        # An account is 12 digits ("aws" for AWS-managed policies, empty for S3): anything else is a
        # reporter's mask (xxx, [ACCOUNT-ID], 0000) that IAM would reject, so the event's account goes back.
        a = account(ev) or ACCOUNT_UNKNOWN
    if not part.startswith("aws"):
        part = partition(ev)
    return ":".join(["arn", part, svc, r, a, rest])


_SECRET_SUFFIX = lazy_re(r"-[A-Za-z0-9]{6}$")


def secret_arn(ev: Evidence, name_or_arn: str) -> str:
    """The ARN of a Secrets Manager secret for a policy: a full ARN as is, a partial ARN or a name with
    the `-??????` suffix Secrets Manager appends (six random characters)."""
    value = name_or_arn.strip()
    if value.startswith("arn:"):
        value = fill_arn(ev, value)
        head, _, name = value.partition(":secret:")
        name = name.split(":", 1)[0]  # drop a :json-key:version-stage:version-id suffix
        if not _SECRET_SUFFIX.search(name):
            name += "-??????"
        return f"{head}:secret:{name}"
    return arn(ev, "secretsmanager", f"secret:{value}-??????")


def secret_ref(ev: Evidence, name: str) -> str:
    """A secret's ARN for a task definition's `valueFrom` (no wildcard: ECS resolves the name)."""
    return fill_arn(ev, name) if name.startswith("arn:") else arn(ev, "secretsmanager", f"secret:{name}")


def ssm_parameter_arn(ev: Evidence, name_or_arn: str) -> str:
    value = name_or_arn.strip()
    if value.startswith("arn:"):
        return fill_arn(ev, value)
    return arn(ev, "ssm", "parameter/" + value.lstrip("/"))


def log_group_arn(ev: Evidence, group: str) -> str:
    return arn(ev, "logs", f"log-group:{group}:*")


def statement(actions: Sequence[str], resources: Sequence[str] | str) -> dict[str, Any]:
    res: Any = list(resources) if not isinstance(resources, str) else resources
    if isinstance(res, list) and len(res) == 1:
        res = res[0]
    return {"Effect": "Allow", "Action": list(actions), "Resource": res}


def policy(*statements: dict[str, Any]) -> str:
    """An IAM policy document, as compact JSON for a code block."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def role_name(role: str | None) -> str | None:
    """The role name of a role ARN or an assumed-role principal."""
    if not role:
        return None
    if ":assumed-role/" in role:
        return role.split(":assumed-role/", 1)[1].split("/", 1)[0]
    if ":role/" in role:
        return role.rsplit("/", 1)[-1]
    return role if re.fullmatch(r"[\w+=,.@-]{1,64}", role) else None


# -------------------------------------------------------------------------------------------------
# Sizes
# -------------------------------------------------------------------------------------------------
# Fargate's valid (cpu units -> memory MiB choices).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


def fargate_size(need_mib: int, cpu: int | None = None) -> tuple[int, int]:
    """The smallest valid Fargate (cpu, memory) with memory >= need_mib, keeping at least `cpu` units."""
    for units in sorted(FARGATE_SIZES):
        if cpu and units < cpu:
            continue
        for mem in FARGATE_SIZES[units]:
            if mem >= need_mib:
                return units, mem
    return 16384, 122880


def memory_with_headroom(peak_mib: float, limit_mib: int | None = None) -> int:
    """Memory to ask for: the observed peak (or the limit it hit) plus 25 %, rounded up to 256 MiB."""
    base = max(peak_mib, float(limit_mib or 0))
    need = math.ceil(base * 1.25)
    return -(-need // 256) * 256


def mib(text: str) -> float | None:
    """MiB from '3.1 GiB', '2048MB', '512 MiB', '1.5g', '300000 kB'."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)\b", text, re.IGNORECASE)
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2).lower()[0]
    return value * {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}[unit]


def because(source: str, text: str | None = None) -> str:
    """The evidence that makes a step apply, as a short suffix: where it was read and what it says."""
    if text:
        t = " ".join(text.split())
        t = t if len(t) <= 90 else t[:89].rsplit(" ", 1)[0] + "…"
        return f" (Why: {source} reads \u201c{t}\u201d.)"
    return f" (Why: {source}.)"


def cite(m: Any, index: int = 0) -> str:
    """because() for a proof of a Match (the first one unless told)."""
    proofs = getattr(m, "proofs", ())
    return because(proofs[index].source, proofs[index].text) if proofs else ""


# -------------------------------------------------------------------------------------------------
# Images: whose they are, and how to get one for another platform
# -------------------------------------------------------------------------------------------------
_ECR_REGISTRY = lazy_re(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
_REF = lazy_re(r"^[a-z0-9][\w.-]*(?::\d+)?(?:/[\w.-]+)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$",
                  re.IGNORECASE)


_CDK_ASSETS = lazy_re(r"^cdk-[a-z0-9]+-container-assets-")


def image_parts(ref: str) -> tuple[str | None, str, str | None, str | None]:
    """(registry, repository, tag, digest) of an image reference, by Docker's grammar: the first
    component is a registry only when it holds a `.` or `:` or is `localhost`; the tag is what follows
    the last `:` after the last `/`; a digest follows `@`."""
    name, _, digest = ref.strip().partition("@")
    registry: str | None = None
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    tag: str | None = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, _, tag = name.rpartition(":")
    return registry, name, tag, digest or None


def is_image_ref(ref: str | None) -> bool:
    """A reference Docker accepts (not a word read from a sentence with spaces, quotes or brackets)."""
    return bool(ref) and bool(_REF.match(str(ref)))


def own_ecr(ev: Evidence, ref: str | None) -> bool:
    """The image lives in a private ECR repository of the task's own account: one this team can push to.
    Docker Hub (official `library/` images or anyone's repository), public ECR, GHCR, Quay or another
    account's ECR are someone else's."""
    if not ref or not is_image_ref(ref):
        return False
    registry = image_parts(ref)[0] or ""
    m = _ECR_REGISTRY.match(registry)
    if not m:
        return False
    acct = account(ev)
    return acct is None or m.group("account") == acct


def ecr_copy_name(ev: Evidence, ref: str) -> str:
    """Where a copy of someone else's image goes in the task's own ECR: the same repository path
    (without Docker Hub's `library/`) and tag, in this account and region."""
    _, repo, tag, _ = image_parts(ref)
    repo = repo.removeprefix("library/")
    acct = account(ev) or ACCOUNT_UNKNOWN
    reg = region(ev) or REGION_UNKNOWN
    suffix = ".amazonaws.com.cn" if reg.startswith("cn-") else ".amazonaws.com"
    return f"{acct}.dkr.ecr.{reg}{suffix}/{repo}:{tag or 'latest'}"


def inspect_platforms(ref: str) -> str:
    """List the platforms an image publishes, from the registry, without pulling it."""
    return f"docker buildx imagetools inspect {q(ref)}"


def ecr_login_command(ev: Evidence, ref: str) -> str:
    """The command that logs Docker in to the ECR registry of `ref` (an image in ECR, or the ECR copy of
    another image), with the region the registry names."""
    own = image_parts(ref)[0] or ""
    registry = own if ".dkr.ecr." in own else ecr_copy_name(ev, ref).split("/", 1)[0]
    m = _ECR_REGISTRY.match(registry)
    reg = m.group("region") if m else region(ev) or REGION_UNKNOWN
    return f"aws ecr get-login-password --region {reg} | docker login --username AWS --password-stdin {registry}"


def ecr_login(ev: Evidence, ref: str) -> str:
    """How to log Docker in to the ECR registry of `ref` before a push, as a clause to put ahead of the push
    ("log Docker in to ... first: `aws ecr get-login-password ... | docker login ...`")."""
    registry = ecr_login_command(ev, ref).rsplit(" ", 1)[-1]
    return f"log Docker in to {registry} first: `{ecr_login_command(ev, ref)}`"


def ecr_login_aside(ev: Evidence, ref: str) -> str:
    """`ecr_login` as an aside to put inside a sentence, " (log Docker in to ... first: ...)", for an image in
    ECR; "" for any other registry (a public pull needs no login)."""
    registry = image_parts(ref)[0] or ""
    if ".dkr.ecr." not in registry:
        return ""
    m = _ECR_REGISTRY.match(registry)
    reg = m.group("region") if m else region(ev) or REGION_UNKNOWN
    return f" (log Docker in to {registry} first: user `AWS`, `aws ecr get-login-password --region {reg}` prints the token)"


def rebuild_for(ev: Evidence, ref: str | None, platform: str) -> list[str]:
    """Steps to get an image of `ref` for `platform` (linux/arm64, linux/amd64): rebuild and push it
    when it is the task's own ECR image; else never push to it (Docker Hub's official images, a third
    party's repository: denied), but pin a tag that publishes the platform or build a copy into the
    team's own ECR repository and point the task definition at that."""
    if ref and own_ecr(ev, ref) and _CDK_ASSETS.search(image_parts(ref)[1]):
        # The CDK bootstrap's asset repository: the tag is a content hash CDK computes; the build is CDK's.
        const = "LINUX_ARM64" if platform.endswith("arm64") else "LINUX_AMD64"
        return [f"The image is a CDK container asset (`{ref}`): CDK builds it, so set the asset's platform, "
                f"`platform: Platform.{const}` on `ContainerImage.fromAsset(...)` / `DockerImageAsset` "
                "(aws-cdk-lib/aws-ecr-assets), and run `cdk deploy`: CDK rebuilds, pushes a new hash tag and "
                "registers the task definition."]
    if ref and own_ecr(ev, ref):
        if "@" in ref:
            # Docker tags a build with a tag, never a digest (`-t repo@sha256:...` is refused): tag it, then name the
            # digest the push made (the pinned one is the old build's).
            name = ref.split("@", 1)[0]
            tagged = name if ":" in name.rsplit("/", 1)[-1] else f"{name}:{platform.rsplit('/', 1)[-1]}"
            return [f"Rebuild the image for {platform} from the app's source and push it to its ECR repository; "
                    f"{ecr_login(ev, ref)}, then `docker buildx build --platform {platform} -t {q(tagged)} --push .` "
                    f"(a build is tagged, not named by digest); the new digest to pin is "
                    f"`docker buildx imagetools inspect {q(tagged)} --format '{{{{json .Manifest.Digest}}}}'`."]
        return [f"Rebuild the image for {platform} from the app's source and push it to its ECR repository; "
                f"{ecr_login(ev, ref)}, then `docker buildx build --platform {platform} -t {q(ref)} --push .`."]
    if not ref or not is_image_ref(ref):
        return [f"Use an image built for {platform}: rebuild it with `--platform {platform}` into your own ECR "
                "repository and point the task definition's image at it."]
    _, repo, _, _ = image_parts(ref)
    copy = ecr_copy_name(ev, ref)
    reg = region(ev) or REGION_UNKNOWN
    registry = image_parts(ref)[0] or ""
    other = _ECR_REGISTRY.match(registry)
    whose = (f"`{ref}` is in another account's ECR ({other.group('account')}): rebuild it there if that account is "
             "yours; otherwise do not push to it:" if other else f"`{ref}` is not your image, so do not push to it:")
    return [f"{whose} see which platforms it publishes with "
            f"`{inspect_platforms(ref)}` and pin a tag that has {platform} in the task definition.",
            f"Or build it from its source for {platform} into your own ECR repository: create the repository with "
            f"`aws ecr create-repository --repository-name {q(repo.removeprefix('library/'))} --region {reg}`, "
            f"then {ecr_login(ev, copy)}, and in a checkout of its source run `docker buildx build --platform "
            f"{platform} -t {q(copy)} --push .` and then point the task definition's image at `{copy}`."]


# -------------------------------------------------------------------------------------------------
# An AWS endpoint that resolved to a private address: an interface VPC endpoint is in the path
# -------------------------------------------------------------------------------------------------
_AWS_HOST = lazy_re(r"\b((?:[\w-]+\.)*?(?P<svc>[\w-]+)\.(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?)\b")
# Where a host naming a region can start: after the last ".." (or the start of the run of host characters) before
# the region's ".<region>.amazonaws.com". `_AWS_HOST.search` from there finds the same host as from the text's
# start (no host crosses ".." or a character outside [\w.-]) without trying every word of a long dotted run, each
# of which read the rest of the run: 2.7 s on a 16 KB line of "a.b.c...".
_AWS_REGION_AT = lazy_re(r"\.[a-z]{2}(?:-gov)?-[a-z]+-\d\.amazonaws\.com")
_HOST_CHAR = lazy_re(r"[\w.-]")
_PRIVATE_IP = r"(?P<ip>(?:10\.\d+|172\.(?:1[6-9]|2\d|3[01])|192\.168)\.\d+\.\d+)"
# Go "dial tcp 10.0.1.2:443", Node "connect ETIMEDOUT 10.0.1.2:443", Java "[sqs.us-east-1.amazonaws.com/10.0.1.2] failed"
_DIAL_PRIVATE = lazy_re(r"(?:dial tcp|connect E[A-Z]+) " + _PRIVATE_IP + r":443\b|\.amazonaws\.com(?:\.cn)?/"
                           + _PRIVATE_IP.replace("?P<ip>", "?P<ip2>") + r"\]")


def aws_host(text: str) -> re.Match[str] | None:
    """`_AWS_HOST.search(text)` in linear time: the search starts where the first region's host can start."""
    region = _AWS_REGION_AT.search(text)
    if region is None:
        return None
    start = region.start()
    while start > 0 and _HOST_CHAR.match(text, start - 1) and text[start - 2:start] != "..":
        start -= 1
    return _AWS_HOST.search(text, start)


def private_endpoint(text: str) -> tuple[str, str, str] | None:
    """(host, ip, VPC endpoint service name) when a request to an AWS service's regional host went to a
    private address on 443 ("Post https://logs.us-east-2.amazonaws.com/: dial tcp 10.20.10.16:443: i/o
    timeout"): private DNS of an interface VPC endpoint answered, so the endpoint exists and is what
    does not answer. None for a public address, a DNS failure or a non-AWS host."""
    dial = _DIAL_PRIVATE.search(text)
    host = aws_host(text)
    if not dial or not host:
        return None
    name, svc, reg = host.group(1), host.group("svc"), host.group("region")
    if svc == "ecr":  # api.ecr.<region> / <account>.dkr.ecr.<region>
        svc = "ecr.dkr" if ".dkr.ecr." in f".{name}" else "ecr.api"
    elif svc in ("s3",):
        return None  # the S3 gateway endpoint has no private addresses: a private IP is a proxy or a NAT
    return name, dial.group("ip") or dial.group("ip2"), f"com.amazonaws.{reg}.{svc}"


def sender_groups(ev: Evidence) -> str:
    """Whose security group sends the traffic: the task's ENI (awsvpc) or the container instances' (bridge
    or host network mode, where the agent and containers use the instance's network)."""
    if network_mode(ev) == "awsvpc":
        return "the task's security group"
    return "the container instances' security group"


def endpoint_unreachable_step(ev: Evidence, text: str) -> str | None:
    """The first step when private_endpoint() holds: open the endpoint's security group to the sender on
    443 and check its policy; adding a NAT route or another endpoint cannot help while private DNS sends
    the traffic to this one."""
    hit = private_endpoint(text)
    if not hit:
        return None
    host, ip, service_name = hit
    reg = service_name.split(".")[2]
    # An endpoint policy refuses requests (403); it cannot make a TCP connection time out.
    timed = re.search(r"timed? ?out|timeout|i/o time|deadline exceeded|dial tcp", text, re.IGNORECASE) and not re.search(
        r"\b403\b|access ?denied|not authorized", text, re.IGNORECASE)
    fields = "VpcEndpointId,VpcId,Groups[].GroupId" + ("" if timed else ",PolicyDocument")
    cmd = (f"aws ec2 describe-vpc-endpoints --region {reg} --filters Name=service-name,Values={service_name} "
           f"--query 'VpcEndpoints[].[{fields}]'")
    return (f"`{host}` resolved to {ip}, a private address: an interface VPC endpoint (`{service_name}`) with "
            f"private DNS is in the path, and the connection to it on 443 failed. Allow inbound TCP 443 on the endpoint's "
            f"security group from {sender_groups(ev)} (or the subnets' CIDR), check the subnets' NACLs"
            + ("" if timed else " and the endpoint policy")
            + "; a NAT route or a new endpoint cannot help while private DNS sends the traffic to "
            f"this one. Find the endpoint and its security groups{'' if timed else ' and policy'}: `{cmd}` (none "
            "listed: a private hosted zone or a custom DNS server maps the name to that address; fix that record).")


# -------------------------------------------------------------------------------------------------
# Region on every command
# -------------------------------------------------------------------------------------------------
_CODE_SPAN = lazy_re(r"```[^\n`]*\n?.*?```|`[^`\n]+`", re.DOTALL)
_AWS_CALL = lazy_re(r"(?<![\w./-])aws (?P<svc>[a-z][a-z0-9-]*) (?P<op>[a-z][a-z0-9-]*)")
# Global services, and CLI commands that call no regional API.
_NO_REGION = frozenset({"iam", "configure", "sso", "help", "route53", "cloudfront", "organizations"})


_SHELL_SPECIAL = lazy_re(r"[\"'\\()\n|;&`<>]")


def _command_end(text: str, start: int) -> int:
    """Where the shell command starting at `start` ends: an unquoted newline (not continued), pipe, `;`, `&`,
    redirect, or the `)` closing the `$(...)` it sits in."""
    quote, depth, i, n = "", 0, start, len(text)
    while i < n:
        # Straight to the next character that can change the state (the others only move on).
        if quote:
            i = text.find(quote, i)
            if i == -1:
                return n
            quote, i = "", i + 1
            continue
        m = _SHELL_SPECIAL.search(text, i)
        if m is None:
            return n
        i = m.start()
        ch = text[i]
        if ch in "'\"":
            quote = ch
        elif ch == "\\" and text[i + 1 : i + 2] == "\n":
            i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch in ")\n|;&`" or (ch in "<>" and text[i - 1 : i] == " " and not _opens_tag(text, i)):
            return i
        i += 1
    return i


def _opens_tag(text: str, i: int) -> bool:
    """`text[i:]` starts like "<placeholder" (`<` and an ASCII letter): no redirect."""
    nxt = text[i + 1 : i + 2]
    return text[i] == "<" and nxt.isascii() and nxt.isalpha()


def _quote_open(text: str) -> bool:
    """Whether `text` ends inside a single- or double-quoted shell word (from quote to quote by `str.find`,
    not one Python step a character)."""
    i = 0
    while True:
        single, double = text.find("'", i), text.find('"', i)
        if single == -1 and double == -1:
            return False
        opened = single if double == -1 or (single != -1 and single < double) else double
        closed = text.find(text[opened], opened + 1)
        if closed == -1:
            return True
        i = closed + 1


def with_region(ev: Evidence, steps: Sequence[str]) -> list[str]:
    """Every `aws <service> <operation>` in a step's code that names no `--region` gets the task's region, when
    known: a command run from a shell whose default region differs must still find the task's resources."""
    r = region(ev)
    if not r:
        return list(steps)
    flag = f" --region {r}"
    call_at = _AWS_CALL.match

    def fix_span(m: re.Match[str]) -> str:
        span = m.group(0)
        at = span.find("aws ")
        if at < 0:
            return span  # no command to change (most spans: a name, a path, a value)
        out, pos = [], 0
        # The matches of `_AWS_CALL.finditer(span)`, found from each "aws " (every match starts with it) rather than
        # by trying the regex at every position of the span (its look-behind leaves `re` no literal to skip to).
        while at >= 0:
            c = call_at(span, at)
            if c is None:
                at = span.find("aws ", at + 1)
                continue
            at = span.find("aws ", c.end())
            if c.start() < pos or c.group("svc") in _NO_REGION or c.group("op").startswith("-"):
                continue
            end = _command_end(span, c.end())
            words = span[c.end() : end]
            if "--region" in words:
                continue  # (most commands: the task's region is already there; no quote to weigh)
            if _quote_open(words):
                continue  # the span ends inside a quoted value (a name with a backtick cut it): leave it be
            # At the end of the command's own words (before a closing backtick, `)`, pipe or redirect).
            cut = len(span[:end].rstrip())
            if span[:cut].endswith("`") and cut == len(span):
                cut -= 1
            out.append(span[pos:cut] + flag)
            pos = cut
        out.append(span[pos:])
        return "".join(out)

    # (A step with no "aws " has no command to change: the spans of the others only are read.)
    return [_CODE_SPAN.sub(fix_span, step) if "aws " in step else step for step in steps]


# -------------------------------------------------------------------------------------------------
# Gates: the evidence that makes a conditional step apply. A step that is right only under a condition
# (a KMS key, an ECR image, a slow start) is shown only when the evidence shows that condition.
# -------------------------------------------------------------------------------------------------
_KMS = lazy_re(r"\bkms\b|customer[- ]managed key|\bCMK\b|KMSAccessDenied|KMS\.", re.IGNORECASE)


def evidence_text(ev: Evidence, m: Any = None) -> str:
    """The reasons of the event and the proofs of a match, as one text to look for a condition in."""
    proofs = " ".join(getattr(p, "text", "") for p in getattr(m, "proofs", ()) or ())
    return f"{ev.reason_text} {proofs}"


def mentions_kms(ev: Evidence, m: Any = None) -> bool:
    """The evidence names KMS (a key, kms:Decrypt, a KMS error): only then is a KMS step more than a guess."""
    return bool(_KMS.search(evidence_text(ev, m)))


def ecr_images(ev: Evidence) -> list[str]:
    """The task's images that are in a private ECR registry."""
    return [c.image for c in ev.detail.containers
            if c.image and is_image_ref(c.image) and _ECR_REGISTRY.match(image_parts(c.image)[0] or "")]


def uses_awslogs(ev: Evidence) -> bool:
    """A container of the task logs with the awslogs driver (its definition says so)."""
    return bool(ev.task_definition and any(c.log_driver == "awslogs" for c in ev.task_definition.containers))


def start_endpoints(ev: Evidence) -> list[str]:
    """The other VPC endpoints a task without a NAT route needs at start, as phrases: only those the evidence
    shows it uses (an image in ECR: ecr.api, ecr.dkr and the S3 gateway; the awslogs driver: logs)."""
    out = []
    if ecr_images(ev):
        out.append("the ECR endpoints (`ecr.api`, `ecr.dkr`) and the S3 gateway endpoint for its ECR image")
    if uses_awslogs(ev):
        out.append("`logs` for awslogs")
    return out


# A line the app writes when it turns a request away: a host check, a 4xx it names, a rejection.
_REJECTION = lazy_re(r"(?i)\bblocked host\b|\bdisallowedhost\b|\binvalid (?:http_)?host\b|hostname .{0,80}does not match|"
                        r"\bnot (?:allowed|permitted)\b|\breturned 4\d\d\b|\b(?:bad request|forbidden|unauthorized)\b|"
                        r"\brejected\b|\binvalid host header\b")
_VARIES = lazy_re(r"\d+|[0-9a-f]{8,}", re.IGNORECASE)


def repeated_rejection(ev: Evidence, container: str | None = None, times: int = 3) -> tuple[int, str] | None:
    """(index of the last one, its text) of a line turning a request away that the app logged at least `times`
    times (numbers aside) among its newest lines: a check that keeps reaching the app and keeps being refused
    (a Host-header allow-list, a 4xx the framework names). None when no such line repeats."""
    seen: dict[str, list[int]] = {}
    start = max(0, len(ev.logs.texts) - 400)
    for i in ev.logs.may_match(_REJECTION, start, learn=False):  # (the lines it cannot match need no read)
        c, t = ev.logs.containers[i], ev.logs.texts[i]
        if container and c not in (container, None):
            continue
        if _REJECTION.search(t):
            seen.setdefault(_VARIES.sub("#", t.strip()), []).append(i)
    hits = [ix for ix in seen.values() if len(ix) >= times]
    if not hits:
        return None
    last = max(hits, key=len)[-1]
    return last, message(ev.logs.texts[last])[:200]


def host_rejection(text: str) -> bool:
    """The refused request was refused for its Host header."""
    return bool(re.search(r"(?i)(?:\b|_)host(?!name resolution)", text))


# Words of an app still at its start-up work (a migration, a boot, a wait for a dependency).
_STARTING = lazy_re(r"(?i)\b(?:migrat(?:ing|ions?|e)|applying|starting|initiali[sz]ing|booting|bootstrapping|"
                       r"loading|waiting for|warming|compiling|preparing|running migrations|updating|upgrading|"
                       r"installing|in progress|please wait)\b")


# "Starting server on http://0.0.0.0:8080": a line that gives the address it serves on says it is up.
_ANNOUNCES_ADDRESS = lazy_re(r"https?://|\b(?:on|at) [\w.\[\]:*-]*:\d{2,5}\b", re.IGNORECASE)


def still_starting(ev: Evidence, container: str | None) -> int | None:
    """The index of the container's newest start-up line (a migration, "starting", "loading", a wait) when its
    log ends in start-up work and names no error: the evidence that it was still starting when it was judged.
    None without such a line (no log at all is no evidence), or when the log names an error to fix instead."""
    containers = ev.logs.containers
    newest: list[int] = []  # the container's (and unlabelled) newest 30 lines, newest first
    if not container or ev.logs.only(container):
        newest = list(range(len(containers) - 1, max(-1, len(containers) - 31), -1))
    else:
        for i in range(len(containers) - 1, -1, -1):
            if containers[i] in (container, None):
                newest.append(i)
                if len(newest) == 30:
                    break
    if not newest or named_error(ev, container):
        return None
    for i in newest:
        text = ev.logs.texts[i]
        if _STARTING.search(text) and not _ANNOUNCES_ADDRESS.search(text):
            return i
    return None


# An error or warning the app wrote in words (not a class name): "No valid api key found", "stream closed: 13".
_SAYS_FAILURE = lazy_re(r"(?i)\b(?:invalid|not valid|no valid|denied|forbidden|unauthori[sz]ed|refused|failed|"
                           r"failure|cannot|can't|could not|unable|not found|no such|missing|closed|timed? ?out|"
                           r"unhealthy|expired|rejected|error)\b")
_NOISE = lazy_re(r"(?i)deprecat|warnings\.warn|will no longer|is deprecated")


_LEVEL_WORD = lazy_re(r"(?:^|[\s\[|(<])(?P<level>ERROR|ERR|FATAL|CRITICAL|CRIT|EMERG|PANIC|WARN|WARNING|"
                         r"error|fatal|critical|warn|warning)(?:$|[\s\]|):>])")


def _line_level(text: str) -> str | None:
    """The level a line states in a bracket or column of its own ("[warning]", "| ERROR |", " WARN "), as
    error/fatal/warn; the log reader's own level comes first."""
    m = _LEVEL_WORD.search(text[:120])
    if not m:
        return None
    word = m.group("level").lower()
    return "warn" if word.startswith("warn") else "fatal" if word in ("fatal", "panic", "emerg") else "error"


def logged_error(ev: Evidence, container: str | None) -> tuple[int, str, int] | None:
    """The error the container's own log names, for a step 1 that acts on it: (index of its newest occurrence,
    its text, how many times it was logged). First an error with its class or a panic (named_error), else the
    newest error-level line, else a warning that says a failure in words and repeats (at least 3 times). None
    when the log names nothing (then a generic step is all there is)."""
    named = named_error(ev, container)
    if named:
        return named[0], named[1], 1
    logs = ev.logs
    texts, containers = logs.texts, logs.containers
    start = max(0, len(texts) - 400)

    every = not container or logs.only(container)

    def own(i: int) -> bool:  # the container's line, or an unlabelled one (every line when no container)
        return every or containers[i] in (container, None)

    def times(raw: str) -> int:
        # How many of the container's newest 400 lines read as `raw` once numbers are set aside: a line that
        # does holds every piece of `raw` between them (a C-level `in`), so only those are normalised; and only
        # the lines whose raw text may hold the longest piece are read at all.
        key = _VARIES.sub("#", raw.strip())
        piece = max(key.split("#"), key=len)
        return sum(1 for j in logs.may_hold(piece, start) if own(j) and piece in texts[j]
                   and _VARIES.sub("#", texts[j].strip()) == key) or 1

    # One pass, newest first: the newest error-level line wins; else the newest warning that repeats.
    # (Only the lines `_SAYS_FAILURE` may match are read, and their container only: a match in a paste's
    # column is one in its line.)
    warnings: list[tuple[int, str]] = []
    for i in reversed([i for i in logs.may_match(_SAYS_FAILURE, start, learn=False) if own(i)]):
        raw = texts[i]
        text = unpaste(raw) if garbled(raw) else raw  # a console/table paste: the app's own column
        if _NOISE.search(text) or not _SAYS_FAILURE.search(text):
            continue
        level = logs.level(i) or _line_level(raw)
        if level in ("error", "fatal", "critical"):
            return i, message(text)[:200], times(raw)
        if level == "warn":
            warnings.append((i, text))
    for i, text in warnings:
        n = times(texts[i])
        if n >= 3:
            return i, message(text)[:200], n
    return None


# What a log line puts before its message: timestamps, [level] / [component] / [file:line] brackets, "| ERROR |".
_LINE_PREFIX = lazy_re(r"^(?:\s*(?:\[[^\]]{0,80}\]|\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?|"
                          r"(?:ERROR|WARN(?:ING)?|FATAL|CRITICAL|INFO)\b:?|\|)\s*)+")


def message(text: str) -> str:
    """A log line's message without its timestamp, level and source brackets, and without trailing punctuation."""
    t = " ".join(text.split())
    t = _LINE_PREFIX.sub("", t) or t
    return t.rstrip(" .,;:")


def agent_network(ev: Evidence) -> tuple[str, str]:
    """Whose subnets and security group the ECS agent's own calls at start (secrets, registry auth, image pull)
    leave from, as (subnets, sender): the task's on Fargate; on EC2 the container instance's, whatever the
    task's network mode (the agent runs on the instance)."""
    if is_fargate(ev):
        return "The task's subnets", "the task"
    return "The container instances' subnets (the ECS agent on the instance makes the call)", "the instances"
