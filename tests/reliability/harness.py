"""The Lambda handlers end to end, for the reliability tests: moto in-process for AWS, a real HTTP server on
127.0.0.1 for Slack, and fault injection on every AWS call the handlers make.

    with Lambda(monkeypatch) as lam:                 # topic -> subscriber queue, state table, webhook secret
        world = lam.world([container_def("app")])    # cluster, task definition, log group (moto)
        lam.faults.fail("ecs.DescribeTaskDefinition", "throttling")
        out = lam.invoke("task_stopped", event)      # the result, or the exception the handler raised
        lam.sns()                                    # findings the subscriber received (drained)
        lam.slack.accepted                           # payloads Slack showed

Faults are botocore event hooks on every client `shared.aws.Clients` builds (the handlers' evidence
clients, the delivery clients functions/runtime.py hands to SNS, Secrets Manager, DynamoDB and
Powertools Idempotency, and the member-account clients of a hub):

- an error response (throttling, access denied, not found, 5xx) answers the call in `before-call`,
  the way botocore's Stubber does: the service's real error code and HTTP status, raised as botocore
  raises it. It stands for a fault that outlasted botocore's own retries (they are not replayed).
- a timeout raises botocore's ReadTimeoutError in `before-send`, below the retry layer: botocore
  retries it (MAX_ATTEMPTS is lowered to 2 in these tests to keep them short), then raises it.
- "applied-then-timeout" lets moto apply the request, then raises ReadTimeoutError on that first
  attempt: the answer was lost, botocore retries a request that already took effect.

`answer()` gives canned answers for the operations moto does not implement (SimulatePrincipalPolicy).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from demo import lambda_local
from tests.support.aws import REGION, make_table, make_topic_with_queue
from tests.support.slack_receiver import SlackReceiver

# The API calls ("service.Operation") each handler made in scenarios without faults (test_faults.py
# fills it; test_least_privilege.py checks every one is granted).
OBSERVED: dict[str, set[str]] = defaultdict(set)
KINDS = ("throttling", "access-denied", "not-found", "timeout", "server-error")

# The error each service answers, by fault kind: (code, HTTP status). Per operation where the service
# names the missing thing; the service default otherwise (None key: the common JSON-protocol code).
_ERRORS: dict[str, dict[str | None, tuple[str, int]]] = {
    "throttling": {None: ("ThrottlingException", 400), "ec2": ("RequestLimitExceeded", 503),
                   "elbv2": ("Throttling", 400), "iam": ("Throttling", 400), "sts": ("Throttling", 400),
                   "sns": ("Throttled", 400), "dynamodb": ("ProvisionedThroughputExceededException", 400)},
    "access-denied": {None: ("AccessDeniedException", 400), "ec2": ("UnauthorizedOperation", 403),
                      "elbv2": ("AccessDenied", 403), "iam": ("AccessDenied", 403), "sts": ("AccessDenied", 403),
                      "sns": ("AuthorizationError", 403)},
    "not-found": {None: ("ResourceNotFoundException", 400),
                  "ecs.DescribeTaskDefinition": ("ClientException", 400),  # "Unable to describe task definition."
                  "ecs.DescribeTasks": ("ClusterNotFoundException", 400),
                  "ecs.DescribeServices": ("ClusterNotFoundException", 400),
                  "ecs.ListTasks": ("ServiceNotFoundException", 400),
                  "elbv2.DescribeTargetGroups": ("TargetGroupNotFound", 400),
                  "elbv2.DescribeTargetHealth": ("TargetGroupNotFound", 400),
                  "elbv2.DescribeLoadBalancers": ("LoadBalancerNotFound", 400),
                  "iam.SimulatePrincipalPolicy": ("NoSuchEntity", 404),
                  "ec2.DescribeSubnets": ("InvalidSubnetID.NotFound", 400),
                  "ec2.DescribeSecurityGroups": ("InvalidGroup.NotFound", 400),
                  "ec2.DescribeRouteTables": ("InvalidRouteTableID.NotFound", 400),
                  "ec2.DescribeVpcEndpoints": ("InvalidVpcId.NotFound", 400),
                  "sns.Publish": ("NotFound", 404),
                  "sts.AssumeRole": ("AccessDenied", 403),  # STS answers a missing role with AccessDenied
                  "sts.GetCallerIdentity": ("InvalidClientTokenId", 403)},
    "server-error": {None: ("InternalServerError", 500), "ecs": ("ServerException", 500),
                     "ec2": ("InternalError", 500), "elbv2": ("InternalFailure", 500), "iam": ("ServiceFailure", 500),
                     "sts": ("InternalFailure", 500), "sns": ("InternalError", 500),
                     "secretsmanager": ("InternalServiceError", 500), "logs": ("ServiceUnavailableException", 500)},
}


def error_for(op: str, kind: str) -> tuple[str, int]:
    table = _ERRORS[kind]
    return table.get(op) or table.get(op.split(".")[0]) or table[None]


class Faults:
    """Which operations ("service.Operation") fail, and how; hooks on every client built."""

    def __init__(self) -> None:
        self.active: dict[str, str] = {}
        self.answers: dict[str, dict[str, Any]] = {}
        self.hits: Counter[str] = Counter()
        self._applied: set[str] = set()
        self._skip: Counter[str] = Counter()

    def fail(self, op: str, kind: str, *, skip: int = 0) -> None:
        """From now on `op` fails with `kind`; "applied-then-timeout" hits the call after `skip` others, once."""
        self.active[op] = kind
        self._skip[op] = skip

    def clear(self) -> None:
        self.active.clear()
        self._applied.clear()
        self._skip.clear()

    def answer(self, op: str, parsed: dict[str, Any]) -> None:
        self.answers[op] = parsed

    def install(self, client: Any) -> None:
        service = client.meta.service_model.service_name

        def before_call(model: Any = None, **_: Any) -> Any:
            return self._before_call(f"{service}.{model.name}")

        def before_send(request: Any = None, event_name: str = "", **_: Any) -> Any:
            return self._before_send(f"{service}.{event_name.rsplit('.', 1)[-1]}", request, event_name)

        client.meta.events.register_first("before-call", before_call)
        client.meta.events.register_first("before-send", before_send)

    def _before_call(self, op: str) -> Any:
        from botocore.awsrequest import AWSResponse

        kind = self.active.get(op)
        if kind in _ERRORS:
            self.hits[op] += 1
            code, status = error_for(op, kind)
            parsed = {"Error": {"Code": code, "Message": f"injected {kind} on {op}"},
                      "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "fault-injected"}}
            return AWSResponse("https://fault.invalid", status, {}, None), parsed
        if op in self.answers and op not in self.active:  # a timeout goes on to before-send
            return AWSResponse("https://stub.invalid", 200, {}, None), self.answers[op]
        return None

    def _before_send(self, op: str, request: Any, event_name: str) -> Any:
        from botocore.exceptions import ReadTimeoutError

        kind = self.active.get(op)
        if kind == "timeout":
            self.hits[op] += 1
            raise ReadTimeoutError(endpoint_url=request.url)
        if kind == "applied-then-timeout":
            # Once per operation: moto applies the request, the answer is lost on the way back.
            if op in self._applied:
                return None
            if self._skip[op] > 0:
                self._skip[op] -= 1
                return None
            self._applied.add(op)
            self.hits[op] += 1
            from moto.core.models import botocore_stubber

            botocore_stubber(event_name=event_name, request=request)
            raise ReadTimeoutError(endpoint_url=request.url)
        return None


def warm_reset() -> None:
    """Between two cells of a matrix: the caches a new container would not have (task definitions,
    the webhook secret, the storm memory, what changed in the deploy ...), keeping the built clients,
    settings and channels, whose calls the cells count."""
    lambda_local.cold_start(keep=lambda_local.KEEP_COUNTED)


class _Errors(logging.Handler):
    """Records of level ERROR and above from the standard logging tree (shared.*, slack_sdk, botocore)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Lambda:
    """moto, the subscriber queue on the topic, the state table, the webhook secret, the Slack receiver."""

    def __init__(self, monkeypatch: Any, *, env: dict[str, str] | None = None, max_attempts: int = 2,
                 slack_timeout: int = 1, slack_base_delay: float = 0.02) -> None:
        self.mp = monkeypatch
        self.extra_env = env or {}
        self.max_attempts = max_attempts
        self.slack_timeout = slack_timeout
        self.slack_base_delay = slack_base_delay
        self.faults = Faults()
        self.slack = SlackReceiver()
        self.out = io.StringIO()
        self.errors = _Errors()
        self._stack = contextlib.ExitStack()
        self._world: dict[str | None, Any] = {}

    # -- setup ------------------------------------------------------------------------------------
    def __enter__(self) -> Lambda:
        from moto import mock_aws

        import shared.aws
        import shared.notify.slack as slack

        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            self.mp.delenv(name, raising=False)
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                            "POWERTOOLS_METRICS_NAMESPACE": "EcsAutopsyTest"}.items():
            self.mp.setenv(name, value)
        # Shorter waits, same code: fewer botocore attempts, a short Slack timeout and backoff.
        self.mp.setattr(shared.aws, "MAX_ATTEMPTS", self.max_attempts)
        base_delay = self.slack_base_delay

        class QuickRetry(slack.BoundedRetryHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("base_delay", base_delay)
                super().__init__(*args, **kwargs)

        self.mp.setattr(slack, "BoundedRetryHandler", QuickRetry)
        original_build = shared.aws.Clients._build
        faults = self.faults

        def build(clients: Any, service: str, region: str | None) -> Any:
            client = original_build(clients, service, region)
            faults.install(client)
            return client

        self.mp.setattr(shared.aws.Clients, "_build", build)

        self._stack.enter_context(mock_aws())
        self.slack.start()
        self._stack.callback(self.slack.stop)
        import boto3

        self.topic_arn, self.queue_url = make_topic_with_queue(raw=True)
        self.table = make_table()
        self.secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="ecs-autopsy/slack", SecretString=json.dumps({"url": self.slack.url}))["ARN"]
        env = {"ECS_AUTOPSY_TOPIC_ARN": self.topic_arn, "ECS_AUTOPSY_TABLE_NAME": self.table,
               "ECS_AUTOPSY_SLACK_SECRET_ID": self.secret_arn, **self.extra_env}
        for name, value in env.items():
            self.mp.setenv(name, value)
        lambda_local.cold_start()
        self._stack.callback(lambda_local.cold_start)

        import functions.runtime as runtime

        previous = runtime.logger.registered_handler.setStream(self.out)
        self._stack.callback(runtime.logger.registered_handler.setStream, previous)
        logging.getLogger().addHandler(self.errors)
        self._stack.callback(logging.getLogger().removeHandler, self.errors)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # -- the world -----------------------------------------------------------------------------------
    def clients(self, account: str | None = None) -> Any:
        """Clients for building and reading the world (not the handlers' own, not counted with theirs)."""
        from shared.aws import Clients

        if account not in self._world:
            c = Clients(REGION, member_role_name="ecs-autopsy-reader" if account else None)
            self._world[account] = c.for_account(account) if account else c
        return self._world[account]

    def world(self, containers: list[dict] | None = None, *, account: str | None = None) -> Any:
        from tests.functional.aws_world import World

        return World.build(self.clients(account), containers)

    @property
    def runtime_clients(self) -> Any:
        import functions.runtime as runtime

        return runtime.clients()

    # -- invoking ------------------------------------------------------------------------------------
    def invoke(self, function: str, event: Any, request_id: str = "req-1", **context: Any) -> Any:
        """The handler's result, or the exception it raised (which sends an async event to retry/DLQ)."""
        self._tune_slack()
        try:
            return lambda_local.invoke(function, event, aws_request_id=request_id, **context)
        except Exception as exc:
            return exc

    def _tune_slack(self) -> None:
        import functions.runtime as runtime
        from shared.notify import SlackChannel

        for ch in runtime.channels():
            if isinstance(ch, SlackChannel):
                ch._timeout = self.slack_timeout

    # -- what was delivered ----------------------------------------------------------------------------
    def sns(self) -> list[dict]:
        """The findings the subscriber queue received since the last call (drained)."""
        sqs = self.clients()("sqs")
        out: list[dict] = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", [])
            if not got:
                return out
            out += [json.loads(m["Body"]) for m in got]
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])

    def noise_items(self) -> list[dict]:
        """The noise windows in the state table, one per failure: its item's id, the fingerprint, the count,
        window_start and previous_count (one item per service holds the windows of its failures)."""
        from boto3.dynamodb.types import TypeDeserializer

        from shared.notify.state import windows

        des = TypeDeserializer()
        ddb = self.clients()("dynamodb")
        items = ddb.scan(TableName=self.table, ConsistentRead=True)["Items"]
        out = []
        for it in items:
            if it["id"]["S"].startswith("noise#"):
                item = {k: des.deserialize(v) for k, v in it.items()}
                out += [{"id": item["id"], "fingerprint": fp, **w} for fp, w in windows(item).items()]
        return out

    def clear_table(self) -> None:
        ddb = self.clients()("dynamodb")
        for item in ddb.scan(TableName=self.table, ProjectionExpression="id")["Items"]:
            ddb.delete_item(TableName=self.table, Key={"id": item["id"]})

    def error_lines(self) -> list[str]:
        """ERROR lines since the last call: Powertools JSON lines and standard logging records."""
        text = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        lines = []
        for line in text.split("\n"):  # not splitlines(): U+2028 and friends stay raw inside JSON strings
            if line.startswith("{"):
                obj = json.loads(line)
                if obj.get("level") in ("ERROR", "CRITICAL"):
                    lines.append(str(obj.get("message")))
        import functions.runtime as runtime

        # The Powertools logger's records propagate here too: counted once, from its own output above.
        lines += [r.getMessage() for r in self.errors.records if r.name != runtime.logger.name]
        self.errors.records.clear()
        return lines


@contextlib.contextmanager
def quiet_metrics() -> Iterator[None]:
    """Powertools warns on every invocation without application metrics (a skipped deploy event)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        yield

