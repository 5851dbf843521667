"""log-driver-failed: ECS or Docker could not set up a container's log driver (awslogs, awsfirelens, splunk).

Signals: "failed to initialize logging driver"; "failed to validate logger args"; "The specified
log group does not exist"; "failed to create Cloudwatch log stream/group"; the ECS agent or Docker failing
to set up FireLens for a container ("unable to create firelens ...", "failed to get fluentd log driver
arguments"); Docker rejecting the logConfiguration ("unknown log opt '...' for fluentd log driver", "no log
driver named '...' is registered"). Facts: log_group (from the text or the task definition), cause (not-found /
access-denied / network), log_driver (from the task definition, else the text), container. Most
specific: a CannotStartContainerError caused by the logging driver is log-driver-failed, not
container-start-failed. Not this pattern: a FireLens log router container (Fluent Bit, Fluentd) that started
and then exited on its own configuration file (a section missing a property, an unknown plugin, a parse
error) is app-crash in that router container; log-driver-failed is only ECS or Docker failing to set up the
log driver before or as the container starts.
"""

from __future__ import annotations

import json
import re

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Cause,
    Explanation,
    Facts,
    Match,
    ReasonPattern,
    Stage,
    classify,
    container_for_line,
    container_for_reason,
    find_in_logs,
    find_in_reasons,
    log_proof,
    reason_proof,
    words,
)
from shared.scan import lazy_re

_LOCAL_REFUSED = lazy_re(r"dial (?:tcp|udp) (127\.\d+\.\d+\.\d+|localhost|\[::1\]|172\.17\.0\.1|169\.254\.172\.1):(\d+):"
                         r"[^\n]{0,40}connection refused", re.IGNORECASE)
_SIGNAL = lazy_re(
    r"failed to initiali[sz]e logging driver|failed to validate logger args|log group does not exist"
    r"|failed to create cloudwatch log (?:stream|group)|unable to create (?:log stream|firelens)"
    r"|firelens(?!-[0-9a-f]{6,}\b).{0,80}(?:fail|error|unable)|logging driver.{0,60}(?:fail|error|not supported)"
    r"|awslogs.{0,40}(?:failed|error)"
    # Docker refusing the log options or the driver itself: "unknown log opt 'fluentd-async-connect' for fluentd log
    # driver" (an option a Docker release removed), "logger: no log driver named 'splunkd' is registered".
    r"|(?:unknown|invalid) log opt\b.{0,120}\blog driver|no log driver named",
    re.IGNORECASE,
)
# The driver a Docker log-option or registration error names.
_DRIVER_NAMED = lazy_re(r"\bfor ['\"]?([\w-]+)['\"]? log driver|\blog driver named ['\"]?([\w-]+)", re.IGNORECASE)
_FIRELENS = lazy_re(r"firelens", re.IGNORECASE)
# The agent failing to turn an awsfirelens logConfiguration into the fluentd driver's arguments, or into the log
# router's configuration ("unable to generate firelens config: unable to apply log options of container app to
# firelens config: missing output key Name which is required for firelens configuration of type fluentbit"). Not the
# agent failing to write the configuration it built to the instance ("unable to generate firelens config file: rename
# ...: input/output error", "unable to create firelens config directory"): the host's disk, not the options.
_FIRELENS_ARGS = lazy_re(r"failed to get fluentd log ?driver (?:arguments|args|options)"
                         r"|unable to (?:generate|create) firelens config(?!\s*(?:file|dir))"
                         r"|unable to apply log options of container", re.IGNORECASE)
# That write itself failing: the configuration was built, the instance's storage refused it.
_FIRELENS_FILE = lazy_re(r"unable to (?:generate|create) firelens config\s*(?:file|dir\w*)\b[^\n]{0,300}?:\s*"
                         r"(?P<err>[^:\n]{1,80})$", re.IGNORECASE | re.MULTILINE)
# The container whose awsfirelens log options the agent could not apply: that container's logConfiguration is the
# fault, not the router's.
_OPTIONS_OF = lazy_re(r"log options of container ['\"]?([\w.-]+)", re.IGNORECASE)
# The option key the router's configuration requires and the container's options lack (case-sensitive): Fluent Bit's
# `Name`, Fluentd's `@type`; older agents say "missing output option Name".
_MISSING_KEY = lazy_re(r"missing (?:output )?(?:key|option) ['\"]?(@?[\w.-]+)['\"]?", re.IGNORECASE)
# The router type the message names ("firelens configuration of type fluentbit").
_ROUTER_TYPE = lazy_re(r"configuration of type (fluentbit|fluentd)\b", re.IGNORECASE)
_NEEDLES = ("logging driver", "logger args", "log group", "cloudwatch log", "firelens", "awslogs", "log opt",
            "log driver named")
_GROUPS = (
    lazy_re(r"arn:aws[\w-]*:logs:[\w-]*:\d*:log-group:([^:\s,'\"]+)"),
    lazy_re(r"awslogs-group[\s:='\"]+([\w/.#-]{2,})", re.IGNORECASE),
    lazy_re(r"log[- ]group(?: name)?[\s:'\"]+(/[\w/.#-]+)", re.IGNORECASE),
    lazy_re(r"log[- ]group (?:named |called )?['\"]([\w/.#-]+)['\"]", re.IGNORECASE),
)
_ACTION = lazy_re(r"not authorized to perform: (logs:\w+)")


# Why the driver failed, first row that matches: a log group that does not exist, denied, the network path.
_CAUSES = (
    Cause("not-found", words("does not exist", "resourcenotfound")),
    Cause("access-denied", words("accessdenied", "not authorized", "access denied")),
    # CloudWatch Logs refused the call for its request rate (CreateLogStream has a per-account, per-region quota):
    # too many containers started at once, not a missing group or a permission.
    Cause("throttled", words("throttlingexception", "rate exceeded", "toomanyrequests", "too many requests")),
    Cause("network", words("i/o timeout", "deadline exceeded", "timed out", "requesterror", "dial tcp", "no such host")),
)


# The principal a denial names (`User: arn:aws:sts::123456789012:assumed-role/<role>/<session>`), maybe cut short.
_PRINCIPAL = lazy_re(r"arn:aws[\w-]*:(?:sts|iam)::(?P<account>\d{12}):(?:assumed-)?role/(?:[\w+=,.@-]+/)*?"
                        r"(?P<role>[\w+=,.@-]+)(?=/|\s|$|[\"'])")
# The call the driver names when the error gives no `not authorized to perform: logs:...`.
_DRIVER_CALLS = (("log group", "logs:CreateLogGroup"), ("log stream", "logs:CreateLogStream"),
                 ("putlogevents", "logs:PutLogEvents"))


def _denied_call(text: str) -> str | None:
    low = text.lower()
    m = re.search(r"failed to (?:create|put) (?:cloudwatch )?(log group|log stream)|(putlogevents)", low)
    if not m or not re.search(r"accessdenied|not authorized|access denied", low):
        return None
    what = m.group(1) or m.group(2)
    return next(action for key, action in _DRIVER_CALLS if key == what)


def _denied_role(ev: Evidence, principal: re.Match[str] | None) -> str:
    """Who must get the grant: the role the denial names; without an execution role, the agent on an EC2
    instance calls CloudWatch Logs with the instance role."""
    td = ev.task_definition
    role = principal.group("role") if principal else None
    execution = remedy.role_name(td.execution_role_arn) if td and td.execution_role_arn else None
    if role and (role == execution or "execution" in role.lower()):
        return f"the task EXECUTION role `{role}` (the agent writes the logs, not the app)"
    if role and (re.search(r"instance", role, re.IGNORECASE) or (td is not None and not execution)):
        return (f"the container INSTANCE role `{role}` (the role the denial names: "
                + ("the task has no execution role, so " if td is not None else "without an execution role ")
                + "the agent on the instance writes the logs with the instance profile's role; the name in the "
                "message may be cut short, match it in the IAM console)")
    if role:
        return f"the role `{role}` the denial names (the agent writes the logs with it, not the app)"
    return "the task EXECUTION role (the agent writes the logs, not the app)"


# The driver's credential chain came up empty (the Go SDK's NoCredentialProviders, boto's NoCredentialsError, the
# JS SDK's "Could not load credentials"): nothing was signed, so no call reached CloudWatch Logs.
_NO_CREDENTIALS = lazy_re(r"NoCredentialProviders|no valid providers in chain|NoCredentialsError|Unable to locate "
                          r"credentials|Could not load credentials from any providers|EC2RoleRequestError",
                          re.IGNORECASE)


def _no_credentials_steps(ev: Evidence, why: str) -> list[str]:
    """What to check when the awslogs driver found no credentials: where it gets them on this launch type."""
    query = remedy.describe_task_definition(ev, "taskDefinition.executionRoleArn")
    if remedy.is_fargate(ev):
        return [f"The log driver found no AWS credentials at all (not a missing log group or a denied permission): on "
                "Fargate it signs with the task execution role, so the task definition needs an `executionRoleArn` "
                "(a role trusting ecs-tasks.amazonaws.com with the AmazonECSTaskExecutionRolePolicy managed policy); "
                f"check it has one, `{query}`, and add it in a new revision: {remedy.roll_out(ev)}.{why}"]
    steps = [f"The log driver found no AWS credentials at all (not a missing log group or a denied permission: no "
             "call reached CloudWatch Logs). On EC2, Docker's awslogs driver signs with the task execution role when "
             "the task definition has one (the ECS agent hands it those credentials), and otherwise with the "
             "instance role, which Docker reads from the instance metadata service (IMDS). Check which applies, "
             f"`{query}`; with no execution role, the instance needs an instance profile: on the instance, "
             "`aws sts get-caller-identity` (with no credentials configured it walks the same chain) must name the "
             "instance role; if it finds none either, attach an instance profile to the instances (their launch "
             f"template), or give the task an execution role.{why}",
             "If the instances send their traffic through an HTTP proxy (`HTTP_PROXY`/`HTTPS_PROXY` for Docker in "
             "/etc/sysconfig/docker or a systemd drop-in, and for the agent in /etc/ecs/ecs.config), the metadata "
             "and credentials requests go to the proxy, which cannot answer them: set "
             "`NO_PROXY=169.254.169.254,169.254.170.2,/var/run/docker.sock` in both places, then `sudo systemctl "
             "restart docker ecs` (in the launch template's user data too, for new instances)."]
    return steps


# Docker's refusal of a log option it does not know: "unknown log opt 'fluentd-async-connect' for fluentd log driver".
_UNKNOWN_OPT = lazy_re(r"unknown log opt '([^']+)'(?: for (\w+) log driver)?", re.IGNORECASE)


class LogDriverFailedFacts(Facts):
    """The facts of log-driver-failed."""

    action: str | None = Field(None, description="The denied action, when denied.")
    cause: str | None = Field(None, description="missing-group, access-denied, network, throttled, ...")
    log_group: str | None = Field(None, description="The log group.")
    log_driver: str | None = Field(None, description="The container's log driver (awslogs, awsfirelens, ...).")




class LogDriverFailed(ReasonPattern):
    id = "log-driver-failed"
    explained_by = ("logConfiguration", "executionRoleArn")
    priority = 190
    severity = "critical"
    Facts = LogDriverFailedFacts
    key_facts = ("log_group", "cause")
    needles = _NEEDLES
    signal = _SIGNAL
    causes = _CAUSES

    def match(self, ev: Evidence) -> Match | None:
        """ECS's reason (platform evidence), else a log line of the task (the driver's own output)."""
        hit = find_in_reasons(ev, self.signal)
        if hit:
            source, text, _ = hit
            container, stage, proofs, anchor = container_for_reason(ev, source), Stage.PLATFORM, [
                reason_proof(source, text)], None
            if not source.startswith("containers[") and _FIRELENS.search(text):
                # The task's reason about FireLens (its config file, the router's setup) belongs to the router,
                # unless it names the container whose log options could not be applied: that container's
                # logConfiguration is what to fix.
                of = _OPTIONS_OF.search(text)
                named = of.group(1) if of and ev.container(of.group(1)) is not None else None
                container = named or next((name for name, kind in ev.attribution.sidecars.items()
                                           if kind == "log-router"), container)
        else:
            found = find_in_logs(ev, self.needles, self.signal)
            if not found:
                return None
            i, _ = found
            text, container, stage, proofs, anchor = ev.logs.texts[i], container_for_line(ev, i), Stage.APP, [
                log_proof(ev, i)], i
        facts = {"container": container, "cause": None, **self._details(text, container, ev),
                 **classify(text, self.causes, ev)}
        return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=tuple(proofs),
                     confidence=0.95, stage=stage, anchor=anchor, container=container)

    @staticmethod
    def _details(text: str, container: str | None, ev: Evidence) -> dict:
        """What every row shares: the log group (from the text, else the container's awslogs options),
        the denied action, the container's log driver."""
        facts: dict = {}
        group = next((m.group(1) for m in (r.search(text) for r in _GROUPS) if m), None)
        if group:
            facts["log_group"] = group
        else:
            cdef = ev.container_definition(container)
            if cdef and cdef.log_options.get("awslogs-group"):
                facts["log_group"] = cdef.log_options["awslogs-group"]
        action = _ACTION.search(text)
        if action:
            facts["action"] = action.group(1)
        cdef = ev.container_definition(container)
        named = _DRIVER_NAMED.search(text)
        if cdef and cdef.log_driver:
            facts["log_driver"] = cdef.log_driver
        elif named:
            facts["log_driver"] = named.group(1) or named.group(2)
        return facts

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        cdef = ev.container_definition(f.get("container") or ev.primary)
        group = f.get("log_group") or (cdef.log_options.get("awslogs-group") if cdef else None)
        gname = f"`{group}`" if group else "the log group named in the task definition (`awslogs-group`)"
        region = remedy.region(ev) or remedy.REGION_UNKNOWN
        cause = f.get("cause")
        why = remedy.cite(m)
        # The group's name, when no evidence gives it, is read from the task definition in the same block,
        # so the command runs as pasted.
        container = f.get("container") or ev.primary
        read = "" if group else remedy.td_value(ev, "group", container,
                                                 'logConfiguration.options."awslogs-group"') + "\n"
        group_arg = remedy.q(group) if group else '"$group"'
        create = f"```\n{read}aws logs create-log-group --log-group-name {group_arg} --region {region}\n```"
        steps: list[str] = []
        opt = _UNKNOWN_OPT.search(remedy.evidence_text(ev, m))
        if opt:
            # Docker refused an option of the task definition's logConfiguration: no log group or IAM is involved.
            option, driver = opt.group(1), opt.group(2) or f.get("log_driver") or "the log"
            steps.append(f"Docker on the container instance does not accept the log option `{option}` of the "
                         f"{driver} driver in the task definition's `logConfiguration.options` (a newer Docker "
                         "removed or renamed it; an older one may not have it yet): drop or rename it for the "
                         "instance's Docker version (its log-driver documentation lists the options), register the "
                         f"revision and roll it out: {remedy.roll_out(ev)}.{why}")
            steps.append("See the options the task definition passes and the instance's Docker version: "
                         f"`{remedy.describe_task_definition(ev, remedy.container_query(ev, container, 'logConfiguration'))}`"
                         " and, on the instance, `docker version --format '{{.Server.Version}}'`.")
            return Explanation(
                title=f"Docker rejected the log option {option}",
                summary=(f"The container could not be created: Docker on the instance rejected the log option "
                         f"{option} of the task definition's logConfiguration."),
                remediation=steps,
            )
        said = remedy.evidence_text(ev, m)
        missing = _MISSING_KEY.search(said) if _FIRELENS_ARGS.search(said) else None
        if missing:
            # The agent builds the router's configuration from the container's awsfirelens options, and a key it
            # requires (the output plugin's `Name`) is absent; keys are case-sensitive.
            key = missing.group(1)
            of = _OPTIONS_OF.search(said)
            owner = of.group(1) if of else container
            cdef = ev.container_definition(owner)
            router = _ROUTER_TYPE.search(said)
            kind = {"fluentbit": "Fluent Bit", "fluentd": "Fluentd"}.get(router.group(1).lower(), "") if router else ""
            options = cdef.log_options if cdef else {}
            near = next((k for k in options if k.lower() == key.lower() and k != key), None)
            fix = (f"rename its option `{near}` to `{key}`" if near else
                   f"add `\"{key}\": \"<the {kind or 'router'} output plugin, e.g. cloudwatch_logs, datadog, "
                   f"kinesis_firehose>\"`" if key == "Name" else f"add the `{key}` option")
            steps.append(f"The agent could not build the {kind + ' ' if kind else ''}log router's configuration from "
                         f"container `{owner}`'s `logConfiguration.options` (driver `awsfirelens`): it lacks the "
                         f"output key `{key}`"
                         + (f", and option keys are case-sensitive (a lower-case `{key.lower()}` is not read)"
                            if key != key.lower() else "")
                         + f". In the task definition, {fix}, register the revision and "
                         f"roll it out: {remedy.roll_out(ev)}.{why}")
            steps.append("See the options the container passes: "
                         f"`{remedy.describe_task_definition(ev, remedy.container_query(ev, owner, 'logConfiguration'))}`.")
            return Explanation(
                title=f"FireLens options of {owner} lack {key}",
                summary=(f"ECS could not start the task: container {owner}'s awsfirelens log options lack the "
                         f"output key {key} the log router's configuration requires. The application never ran."),
                remediation=steps,
            )
        written = _FIRELENS_FILE.search(said)
        if written:
            # The agent built the router's configuration but could not write it under its data directory on the
            # host: the host's storage, not the task definition.
            err = written.group("err").strip()
            steps.append(f"The ECS agent could not write the log router's configuration file on the host it runs on "
                         f"(`{err}`): the task definition's FireLens options are not the fault. "
                         + ("Run the task again: Fargate places it on another host." if remedy.is_fargate(ev) else
                            "On that container instance check the agent's data volume (`df -h /var/lib/ecs`, "
                            "`dmesg | tail` for I/O errors of its disk); drain the instance and replace it if the "
                            "disk is failing or full, then run the task again.") + why)
            return Explanation(
                title="ECS agent could not write the FireLens configuration",
                summary=(f"ECS could not start the task: the agent failed to write the log router's configuration "
                         f"file on the host ({err}). The application never ran."),
                remediation=steps,
            )
        if _FIRELENS_ARGS.search(said):
            # The agent turns an awsfirelens logConfiguration into Docker's fluentd driver pointed at the task's log
            # router; it could not build those arguments, so no log group, IAM or network path is involved.
            steps.append("The container logs through FireLens (`awsfirelens`, which ECS runs as Docker's fluentd "
                         "driver sending to the task's log router), and the agent could not build the fluentd "
                         "driver's arguments from its `logConfiguration`: give it `\"logDriver\": \"awsfirelens\"` "
                         "with `options` for the router's output (at least `Name`, the output plugin, and that "
                         "plugin's settings; a logConfiguration with no options gives it nothing to build), and keep "
                         "exactly one container with `firelensConfiguration` (the log router) in the task, which the "
                         "app container should `dependsOn` (condition START); register the revision and roll it "
                         f"out: {remedy.roll_out(ev)}.{why}")
            steps.append("See what the task definition gives: "
                         f"`{remedy.describe_task_definition(ev, 'taskDefinition.containerDefinitions[].[name, logConfiguration, firelensConfiguration]')}`.")
            return Explanation(
                title="FireLens log configuration could not be applied",
                summary=("ECS could not start the container: the agent could not turn its awsfirelens "
                         "logConfiguration into the fluentd driver's arguments for the log router. The application "
                         "never ran."),
                remediation=steps,
            )
        if cause == "throttled":
            batch = remedy.launcher(ev) == "batch"
            steps.append("CloudWatch Logs throttled the driver's CreateLogStream call (each container's start "
                         "creates a stream, and that call has a per-account request-rate quota in each Region): "
                         "too many containers started at once. Stagger the starts ("
                         + ("smaller array or submission batches, fewer vCPUs in the compute environment at once, "
                            "and a retryStrategy in the job definition so a throttled job is tried again"
                            if batch else "smaller deployment batches (a lower maximumPercent), fewer tasks per "
                            "RunTask call, and retries with backoff")
                         + f"), and request a higher CreateLogStream rate in Service Quotas (Amazon CloudWatch "
                         f"Logs) for {region}. The log group and the permissions are not the fault.{why}")
            steps.append("Add `\"mode\": \"non-blocking\"` (with `\"max-buffer-size\": \"25m\"`) to the "
                         + ("job definition's `containerProperties.logConfiguration.options`" if batch else
                            "container's `logConfiguration.options`") + " so the application is not blocked by CloudWatch "
                         "Logs while it writes; streams are still created at start, so the staggering above is "
                         "what avoids this failure.")
            steps.append(f"Then start the failed work again once the burst has passed: {remedy.rerun(ev)}.")
            why = ""
        if cause is None and _NO_CREDENTIALS.search(remedy.evidence_text(ev, m)):
            # The driver found no credentials at all: it never reached CloudWatch Logs, so neither the log group nor
            # a permission is what failed.
            return Explanation(
                title="Log driver found no AWS credentials",
                summary=("ECS could not start the container because its log driver found no AWS credentials to call "
                         "CloudWatch Logs with. The application never ran."),
                remediation=_no_credentials_steps(ev, why),
            )
        if cause == "not-found" or cause is None:
            steps.append(f"Create {gname}: {create} or let the driver create it with the log option "
                         '`"awslogs-create-group": "true"` plus `logs:CreateLogGroup` on the execution role.' + why)
            why = ""
        if cause in ("access-denied", None):
            # An unknown group: every group of the account and region (the evidence does not name it).
            resource = remedy.log_group_arn(ev, group) if group else remedy.arn(ev, "logs", "log-group:*")
            denied = f.get("action") if str(f.get("action") or "").startswith("logs:") else None
            text = " ".join(p.text for p in m.proofs)
            denied = denied or _denied_call(text)
            principal = _PRINCIPAL.search(text)
            if principal and not group:
                # The account is the one of the role the message names, not necessarily the event's.
                resource = f"arn:{remedy.partition(ev)}:logs:{region}:{principal.group('account')}:log-group:*"
            # Grant the action the reason names as denied; without one, what the driver needs to write.
            statement = remedy.statement([denied] if denied else ["logs:CreateLogStream", "logs:PutLogEvents"],
                                         [resource])
            steps.append(f"Give {_denied_role(ev, principal)} this statement"
                         + ("" if group else " (the evidence does not name the group: narrow `log-group:*` to the "
                            "task definition's `awslogs-group` if you like)")
                         + f": ```{json.dumps(statement)}```{why}")
            if denied == "logs:CreateLogGroup":
                steps.append("Or create the group once yourself and drop `awslogs-create-group` from the log "
                             f"options: {create}")
            why = ""
        endpoint = remedy.endpoint_unreachable_step(ev, m.proofs[0].text if m.proofs else "")
        text = ev.reason_text + "\n" + "\n".join(p.text for p in m.proofs)
        local = _LOCAL_REFUSED.search(text)
        if cause == "network" and local:
            # A refused local address is a log forwarder's receiver (fluentd forward 24224, syslog, GELF), not
            # CloudWatch Logs: nothing listens there, and no route or endpoint changes that.
            host, port = local.group(1), local.group(2)
            low = text.lower()
            kind, option, extra = (
                ("fluentd (forward protocol)", "`fluentd-address`", ", or set `fluentd-async: true` so the container "
                 "starts while fluentd is down") if port == "24224" or "fluentd" in low else
                ("syslog receiver", "`syslog-address`", "") if port == "514" or "syslog" in low else
                ("GELF receiver", "`gelf-address`", "") if port == "12201" or "gelf" in low else
                ("log collector", "address option (`fluentd-address`, `syslog-address`, `gelf-address`)", ""))
            steps.append(f"The log driver sends to a {kind} at {host}:{port}, and nothing listens there: start the "
                         "collector on every container instance before tasks are placed (an ECS daemon service, or "
                         f"the instance's user data), or point the driver's {option} at where it runs{extra}. This "
                         f"is not a CloudWatch Logs or network-route fault.{why}")
        elif cause == "network" and (ev.detail.launch_type or "").upper() == "EXTERNAL":
            # ECS Anywhere: the host is the customer's own server, in no VPC subnet, so no route table, NAT gateway
            # or VPC endpoint applies; 169.254.170.2 is the task credentials endpoint the ECS agent serves on it.
            if "169.254.170.2" in text:
                steps.append("This is an ECS Anywhere (EXTERNAL) host, and 169.254.170.2 is the task credentials "
                             "endpoint the ECS agent serves on that host itself (the log driver fetches the "
                             "execution role's credentials there): the host's redirect of 169.254.170.2 to the agent "
                             "is missing or blocked (no VPC route or endpoint applies to this host). On the host, check "
                             "the agent runs: `sudo systemctl status ecs`; check the redirect rule exists: `sudo "
                             "iptables -t nat -L -n | grep 169.254.170.2`; restarting the agent recreates it: `sudo "
                             "systemctl restart ecs`. A host firewall (firewalld, ufw) that reloads its rules can "
                             f"remove it again.{why}")
            else:
                steps.append("This is an ECS Anywhere (EXTERNAL) host, in no VPC subnet: it must reach "
                             f"`logs.{region}.amazonaws.com` on 443 over its own network (its firewall, proxy or "
                             "outbound route); check from the host with `curl -sI "
                             f"https://logs.{region}.amazonaws.com`.{why}")
        elif cause == "network" and endpoint:
            steps.append(endpoint + why)
        elif cause == "network":
            where = ("the task's subnets" if remedy.network_mode(ev) == "awsvpc" else
                     "the container instances' subnets (the agent sends the logs from the instance)")
            steps.append("The agent cannot reach CloudWatch Logs: add a route to a NAT gateway, or an interface "
                         f"VPC endpoint `com.amazonaws.{region}.logs` reachable from {where}.{why}")
        if cause in ("not-found", None):
            # A group that "does not exist" may exist under another name or region; a denial or a network failure
            # does not depend on where the group lives.
            steps.append("Check the container definition's `logConfiguration` (driver, `awslogs-region`, "
                         "`awslogs-group`) matches where the group really lives"
                         + (" (Why: the group was not found.)" if cause == "not-found" else "."))
        return Explanation(
            title=f"Log driver could not start{f' for {group}' if group else ''}",
            summary=("ECS could not start the container because its log driver failed to initialise"
                     + (f" ({cause.replace('-', ' ')})" if cause else "") + ". The application never ran."),
            remediation=steps,
        )


PATTERN = LogDriverFailed()
