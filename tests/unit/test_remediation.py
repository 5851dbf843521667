"""shared/remediation.py: commands and ARNs filled with what the evidence knows."""

from __future__ import annotations

import dataclasses
import shlex

import pytest

from shared import remediation as remedy
from shared.evidence.model import NetworkFacts
from shared.render import steps
from tests.support.fixcheck import command_problems
from tests.unit.helpers import evidence


def test_commands_name_the_task_and_parse():
    ev = evidence([], launchType="FARGATE", cpu="512", memory="1024")
    cmds = [remedy.deploy(ev), remedy.redeploy(ev), remedy.describe_task(ev), remedy.service_events(ev),
            remedy.run_task(ev), remedy.probe(ev, "app", "nc -zv -w 5 db.internal 5432"),
            remedy.describe_task_definition(ev, "taskDefinition.containerDefinitions[?name=='app'].environment"),
            remedy.docker_run(ev, "app", env=["DATABASE_URL"], port=8080)]
    for cmd in cmds:
        assert cmd and command_problems(cmd) == [], cmd
        shlex.split(cmd)
    assert "--cluster prod --service orders-api --task-definition orders-api" in cmds[0]
    assert "--launch-type FARGATE" in cmds[4] and "awsvpcConfiguration" in cmds[4]
    assert '"command":["sh","-c","nc -zv -w 5 db.internal 5432"]' in cmds[5]
    assert "--memory 1024m --cpus 0.5 -e DATABASE_URL -p 8080:8080" in cmds[7]


def test_a_task_no_service_runs_is_run_again_not_updated():
    ev = evidence([], group="family:nightly-etl")
    assert remedy.deploy(ev).startswith("aws ecs run-task ")
    assert remedy.service_events(ev) is None


@pytest.mark.parametrize(("value", "arn"), [
    ("prod/billing/stripe-api-key", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/billing/stripe-api-key-??????"),
    ("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbC123", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbC123"),
    ("arn:aws:secretsmanager:us-east-1:xxxxxxxxxxxx:secret:db:password::", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????"),
])
def test_secret_arns(value, arn):
    assert remedy.secret_arn(evidence([]), value) == arn


def test_masked_account_and_region_are_put_back():
    ev = evidence([])
    assert remedy.fill_arn(ev, "arn:aws:sqs:{REGION}:[ACCOUNT-ID]:jobs") == "arn:aws:sqs:us-east-1:111122223333:jobs"
    assert remedy.fill_arn(ev, "arn:aws:s3:::bucket/key") == "arn:aws:s3:::bucket/key"
    # a short mask ("xxx") is no account either; a real account, "aws" and S3's empty account stay
    assert remedy.fill_arn(ev, "arn:aws:ecs:us-east-1:xxx:task-set/xxx-cluster/api/ecs-svc/1") == \
        "arn:aws:ecs:us-east-1:111122223333:task-set/xxx-cluster/api/ecs-svc/1"
    assert remedy.fill_arn(ev, "arn:aws:sqs:us-east-1:444455556666:jobs") == "arn:aws:sqs:us-east-1:444455556666:jobs"
    assert remedy.fill_arn(ev, "arn:aws:iam::aws:policy/ReadOnlyAccess") == "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.mark.parametrize(("need", "cpu", "pair"), [
    (1280, None, (256, 2048)), (3968, 1024, (1024, 4096)), (5000, 256, (1024, 5120)),
    (9000, None, (2048, 9216)), (200000, None, (16384, 122880)),
])
def test_fargate_sizes_are_valid_pairs_at_or_above_the_need(need, cpu, pair):
    got = remedy.fargate_size(need, cpu)
    assert got == pair and got[1] in remedy.FARGATE_SIZES[got[0]] and got[1] >= min(need, 122880)


def test_memory_headroom_and_units():
    assert remedy.mib("3.1 GiB") == pytest.approx(3174.4)
    assert remedy.memory_with_headroom(3174.4, 2048) == 4096
    assert remedy.memory_with_headroom(0, 1024) == 1280


def test_run_task_leaves_out_an_unknown_security_group_and_names_a_known_one():
    ev = evidence([], launchType="FARGATE")
    cmd = remedy.run_task(ev)
    assert "security group" not in cmd and "securityGroups" not in cmd and "<" not in cmd
    assert "subnets=[subnet-0a1b2c3d4e5f60718]" in cmd
    assert command_problems(cmd) == [], cmd
    known = dataclasses.replace(ev, network=NetworkFacts(security_groups=("sg-0123456789abcdef0", "sg-0fedcba9876543210")))
    cmd = remedy.run_task(known)
    assert "securityGroups=[sg-0123456789abcdef0,sg-0fedcba9876543210]" in cmd
    assert command_problems(cmd) == [], cmd


@pytest.mark.parametrize(("detail", "kind"), [
    ({"group": "service:web", "startedBy": "ecs-svc/123"}, "service"),
    ({"group": "family:job", "startedBy": "arn:aws:batch:us-east-1:111122223333:job/2f0b3c9e-7a41-4d16-9b0e-5c8d2a7e1f63"},
     "batch"),
    ({"group": "family:job", "startedBy": "2f0b3c9e-7a41-4d16-9b0e-5c8d2a7e1f63",
      "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/AWSBatch-ce-1"}, "batch"),
    ({"group": "family:etl", "startedBy": "AWS Step Functions"}, "stepfunctions"),
    ({"group": "family:digest", "startedBy": "events-rule/daily-digest"}, "schedule"),
    ({"group": "family:migrate", "startedBy": "ecs-deploy"}, "run-task"),
    ({"group": "family:fargate-test", "startedBy": "jenkins-amazon-ecs-plugin"}, "jenkins"),
    # the cluster Batch creates for a compute environment: <name>_Batch_<uuid>
    ({"group": "family:nf-task", "startedBy": "2b1ef2b1-7a62-4d67-9bd4-4b0b1e8c1f3a",
      "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/ce-1_Batch_5fcdae08-6c0f-378f-992a-cdd267cbd40a"}, "batch"),
    # near miss: a cluster merely named like a batch workload is not Batch's
    ({"group": "family:nightly", "startedBy": "ecs-deploy",
      "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/nightly_Batch_jobs"}, "run-task"),
])
def test_who_starts_the_task_again(detail, kind):
    ev = evidence([], **detail)
    assert remedy.launcher(ev) == kind
    again = remedy.start_again(ev)
    assert ("service" in again) == (kind == "service")
    if kind in ("batch", "stepfunctions", "jenkins"):
        assert "run-task" not in remedy.rerun(ev)
    if kind in ("batch", "jenkins"):
        where = remedy.roll_out(ev)
        assert "run-task" not in where and ("job definition" in where or "agent template" in where), where
    elif kind == "stepfunctions":
        # the state machine names the task definition: the change goes there
        assert "state machine" in remedy.roll_out(ev) and "run-task" not in remedy.roll_out(ev)
    elif kind == "schedule":
        # the rule's target names a revision: it is pointed at the new one (test_fixes_subcause covers it)
        assert "aws events put-targets" in remedy.roll_out(ev)
    else:
        assert remedy.roll_out(ev) == f"`{remedy.deploy(ev)}`"


def test_an_aws_host_dialled_at_a_private_address_points_at_its_interface_endpoint():
    text = ("failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post "
            "https://logs.us-east-2.amazonaws.com/: dial tcp 10.20.10.16:443: i/o timeout")
    assert remedy.private_endpoint(text) == ("logs.us-east-2.amazonaws.com", "10.20.10.16", "com.amazonaws.us-east-2.logs")
    ecr = ('Head "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/api/manifests/v42": dial tcp '
           "172.31.4.9:443: i/o timeout")
    assert remedy.private_endpoint(ecr)[2] == "com.amazonaws.us-east-1.ecr.dkr"
    step = remedy.endpoint_unreachable_step(evidence([], launchType="EC2", attachments=[]), text)
    assert step and "container instances' security group" in step and "NAT" in step
    for cmd in steps.commands(step):
        assert command_problems(cmd) == [], cmd


@pytest.mark.parametrize("text", [
    "Post https://logs.us-east-2.amazonaws.com/: dial tcp 52.94.10.3:443: i/o timeout",  # public: no endpoint
    "dial tcp: lookup logs.us-east-2.amazonaws.com on 10.0.0.2:53: no such host",  # DNS, not the endpoint
    "Get https://registry.example.org/v2/: dial tcp 10.1.2.3:443: i/o timeout",  # not an AWS service
])
def test_near_miss_a_public_address_a_dns_failure_or_another_host_keeps_the_route_advice(text):
    assert remedy.private_endpoint(text) is None


@pytest.mark.parametrize(("ref", "parts"), [
    ("nginx:latest", (None, "nginx", "latest", None)),
    ("localhost:5000/app", ("localhost:5000", "app", None, None)),
    ("111122223333.dkr.ecr.us-east-1.amazonaws.com/team/api:1.2@sha256:" + "a" * 64,
     ("111122223333.dkr.ecr.us-east-1.amazonaws.com", "team/api", "1.2", "sha256:" + "a" * 64)),
    ("grafana/loki:3.0.0", (None, "grafana/loki", "3.0.0", None)),
])
def test_image_references_parse_by_dockers_grammar(ref, parts):
    assert remedy.image_parts(ref) == parts


@pytest.mark.parametrize(("ref", "pushes_to_it"), [
    ("111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2", True),  # the task's own ECR
    ("999988887777.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2", False),  # another account's
    ("nginx:1.27", False), ("public.ecr.aws/nginx/nginx:1", False), ("ghcr.io/acme/api:1", False),
])
def test_a_rebuild_is_pushed_only_to_the_tasks_own_ecr(ref, pushes_to_it):
    text = " ".join(remedy.rebuild_for(evidence([]), ref, "linux/arm64"))
    assert (f"-t {ref} --push" in text) is pushes_to_it
    for cmd in [c for s in remedy.rebuild_for(evidence([]), ref, "linux/arm64") for c in steps.commands(s)]:
        assert command_problems(cmd) == [], cmd


def test_a_cdk_asset_is_rebuilt_by_cdk_with_its_platform():
    ref = "111122223333.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-111122223333-us-east-1:9f3c"
    text = remedy.rebuild_for(evidence([]), ref, "linux/amd64")[0]
    assert "Platform.LINUX_AMD64" in text and "--push" not in text


def test_a_probe_of_a_service_task_uses_the_services_network_configuration_and_a_rerun_does_not_need_it():
    """A look from inside tests the network path, so it runs in the task's own network (subnets, security groups,
    public IP: the service's networkConfiguration read as JSON in the command); a plain re-run may take the VPC
    default group (near miss)."""
    import shlex

    ev = evidence([], launchType="FARGATE", group="service:api")
    probe = remedy.probe(ev, "app", "nc -zv -w 5 db 5432")
    assert command_problems(probe) == [], probe
    words = shlex.split(probe)
    value = words[words.index("--network-configuration") + 1]
    assert value == ("$(aws ecs describe-services --cluster prod --services api --query "
                     "'services[0].networkConfiguration' --output json)"), value
    assert "describe-services" not in remedy.run_task(ev)
    assert remedy.same_network(ev) == "same task definition and network configuration"
    lone = evidence([], launchType="FARGATE", group="family:migrate", startedBy="ecs-deploy")
    assert "describe-services" not in remedy.probe(lone, "app", "true") and "default group" in remedy.same_network(lone)


def test_a_rebuilt_image_is_pushed_to_your_own_ecr_never_to_someone_elses_repository():
    """A public/third-party image is rebuilt into an ECR repository of the account; an ECR image of the task
    is pushed where it was (near miss)."""
    ev = evidence([])
    ref, create = remedy.own_repository(ev, "onerahmet/openai-whisper-asr-webservice:latest")
    assert ref == "111122223333.dkr.ecr.us-east-1.amazonaws.com/openai-whisper-asr-webservice:latest"
    assert create == "openai-whisper-asr-webservice"
    assert "create-repository" in remedy.build_for(ev, "nginx:1.25", "linux/arm64")
    mine = "111122223333.dkr.ecr.us-east-1.amazonaws.com/api:7"
    assert remedy.own_repository(ev, mine) == (mine, None)
    assert remedy.build_for(ev, mine, "linux/amd64") == (
        "`aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin "
        f"111122223333.dkr.ecr.us-east-1.amazonaws.com`, then `docker buildx build --platform linux/amd64 -t {mine} --push .`")


def test_a_local_run_keeps_the_task_definitions_command_argument_by_argument():
    """`docker run IMAGE "${cmd[@]}"` after reading `command` tab-separated into an array: an argument with a
    space stays one argument, and no command (null) gives none (not the word None)."""
    import jmespath

    ev = evidence([], launchType="FARGATE")
    line = remedy.read_command(ev, "app")
    assert line.startswith("IFS=$'\\t' read -r -a cmd <<< \"$(aws ecs describe-task-definition")
    query = line.split("--query \"", 1)[1].split("\" --output", 1)[0]
    td = {"taskDefinition": {"containerDefinitions": [{"name": "app", "command": ["sh", "-c", "npm start"]}]}}
    assert jmespath.search(query, td) == ["sh", "-c", "npm start"]
    assert jmespath.search(query, {"taskDefinition": {"containerDefinitions": [{"name": "app"}]}}) == [""]
    assert remedy.RUN_COMMAND == '"${cmd[@]}"'


def test_garbled_reads_pastes_only():
    """A console/table paste (a tab, "N minutes ago", pipes between columns) is garbled; near misses are not
    (one pipe, "ago" glued to a word, no separator at all)."""
    from shared.remediation import garbled

    assert garbled("a\tb") and garbled("3 minutes ago  web  started") and garbled("x | web | started")
    assert not garbled("x | started") and not garbled("3 minutes agony") and not garbled("ERROR boom: failed")
