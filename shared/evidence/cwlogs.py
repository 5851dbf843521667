"""CloudWatch Logs: the tail of each container's exact awslogs stream.

The stream of an awslogs container is ``<awslogs-stream-prefix>/<container>/<task-id>`` (without a
prefix, the Docker container id, which the event carries as ``runtimeId``). It is read with one
GetLogEvents from the end (``startFromHead=False``): no FilterLogEvents scans, whose quota is a
few calls per second per account. Other log drivers (FireLens, splunk ...) become gaps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.aws import error_code
from shared.evidence.errors import Gap
from shared.evidence.model import LogSource, TaskDefinitionFacts
from shared.models.event import TaskDetail, split_arn, task_id

MAX_LIMIT = 10_000  # GetLogEvents returns at most 10,000 events per call
EMPTY_PAGE_RETRIES = 2  # follow-up reads when a page comes back empty (rare: sparse streams)


def sources(td: TaskDefinitionFacts, detail: TaskDetail, region: str | None) -> tuple[list[LogSource], dict[str, str]]:
    """(log sources per container of the task definition, container -> why its logs are not readable)."""
    out: list[LogSource] = []
    gaps: dict[str, str] = {}
    tid = task_id(detail.task_arn)
    runtime_ids = {c.name: c.runtime_id for c in detail.containers if c.name}
    for cdef in td.containers:
        driver = cdef.log_driver
        if not driver:
            gaps[cdef.name] = (f"Container {cdef.name} has no log configuration: its output was not kept, so "
                               "there are no logs to read.")
            continue
        if driver == "awsfirelens":
            routed, why = firelens_source(cdef.name, cdef.log_options, tid,
                                          region or split_arn(detail.task_arn)[0])
            if routed is not None:
                out.append(routed)
            else:
                gaps[cdef.name] = why
            continue
        if driver != "awslogs":
            gaps[cdef.name] = (f"Container {cdef.name} logs through the {driver} driver: only CloudWatch Logs "
                               "streams are read, so its logs were not read.")
            continue
        group = cdef.log_options.get("awslogs-group")
        prefix = cdef.log_options.get("awslogs-stream-prefix")
        stream = None
        if prefix and tid:
            stream = f"{prefix}/{cdef.name}/{tid}"
        elif runtime_ids.get(cdef.name):
            stream = runtime_ids[cdef.name]
        if not group or not stream:
            gaps[cdef.name] = (f"Container {cdef.name}: the awslogs stream name cannot be worked out "
                               f"({'no awslogs-group' if not group else 'no awslogs-stream-prefix and no container id'}).")
        out.append(LogSource(container=cdef.name, group=group, stream=stream,
                             region=cdef.log_options.get("awslogs-region") or region or split_arn(detail.task_arn)[0]))
    return out, gaps


# FireLens output plugins and the options that say where they send (for the gap when it is not CloudWatch).
_DESTINATIONS = {
    "es": ("Elasticsearch/OpenSearch", ("Host", "Index")), "opensearch": ("OpenSearch", ("Host", "Index")),
    "datadog": ("Datadog", ("Host", "dd_service", "dd_source")), "s3": ("S3", ("bucket", "s3_key_format")),
    "kinesis_firehose": ("Kinesis Data Firehose", ("delivery_stream",)), "firehose": ("Kinesis Data Firehose",
                                                                                      ("delivery_stream",)),
    "kinesis_streams": ("Kinesis Data Streams", ("stream",)), "kinesis": ("Kinesis Data Streams", ("stream",)),
    "splunk": ("Splunk", ("Host",)), "http": ("HTTP", ("Host", "URI")), "loki": ("Loki", ("host", "Host")),
    "newrelic": ("New Relic", ("endpoint",)), "forward": ("Fluentd forward", ("Host",)),
}


def firelens_source(container: str, options: Mapping[str, str], tid: str | None,
                    region: str | None) -> tuple[LogSource | None, str]:
    """Where a FireLens-routed container's logs can be read: its CloudWatch Logs stream when the router's
    output is cloudwatch_logs/cloudwatch (stream = prefix + the FireLens tag `<container>-firelens-<task id>`,
    or log_stream_name), else (None, a gap naming the destination)."""
    opts = {k.lower(): v for k, v in options.items()}
    plugin = (opts.get("name") or "").lower()
    if plugin in ("cloudwatch_logs", "cloudwatch"):
        group = opts.get("log_group_name")
        stream = opts.get("log_stream_name") or (f"{opts.get('log_stream_prefix', '')}{container}-firelens-{tid}"
                                                 if tid else None)
        if group and stream and "$(" not in stream and "${" not in stream:
            return LogSource(container=container, group=group, stream=stream, region=opts.get("region") or region), ""
        if not group:
            return None, (f"Container {container} logs through FireLens to CloudWatch Logs, but its log options name "
                          "no log_group_name (set in the router's own config?), so its logs were not read.")
        return None, (f"Container {container} logs through FireLens to CloudWatch Logs ({group}), but its stream name "
                      "uses a template ecs-autopsy cannot resolve, so its logs were not read.")
    if not plugin:
        return None, (f"Container {container} logs through FireLens with an output set in the router's own config "
                      "file: its logs were not read (they are wherever that output sends them).")
    label, keys = _DESTINATIONS.get(plugin, (plugin, ("Host",)))
    where = ", ".join(f"{k} {options.get(k) or opts.get(k.lower())}" for k in keys if opts.get(k.lower()))
    return None, (f"Container {container} logs through FireLens to {label} (output plugin {plugin}"
                  + (f": {where}" if where else "") + "): only CloudWatch Logs is read, so its logs were not read; "
                  "look for them there.")


def fetch(client: Any, source: LogSource, limit: int = 100) -> list[str]:
    """The messages of the last `limit` events of the stream, oldest first."""
    if not source.group or not source.stream:
        raise Gap(f"Container {source.container}: no log stream to read.")
    kwargs = {"logGroupName": source.group, "logStreamName": source.stream, "startFromHead": False,
              "limit": max(1, min(limit, MAX_LIMIT))}
    events: list[dict] = []
    token = None
    for _ in range(1 + EMPTY_PAGE_RETRIES):
        try:
            resp = client.get_log_events(**kwargs, **({"nextToken": token} if token else {}))
        except Exception as exc:
            # error_code: a read timeout carries `response = None` (requests' exception base), not a dict.
            if error_code(exc) == "ResourceNotFoundException":
                raise Gap(f"Logs of {source.container}: stream {source.group}/{source.stream} does not exist (log "
                          "group deleted or expired, or the container never started and wrote nothing).") from None
            raise
        events = resp.get("events") or []
        following = resp.get("nextBackwardToken")
        # GetLogEvents may answer a page with no events while older ones exist; the same token
        # coming back means the start of the stream.
        if events or not following or following == token:
            break
        token = following
    return [_line(e) for e in events[-limit:]]


def _line(event: dict) -> str:
    # The message as the container wrote it (indentation kept: tracebacks are read as blocks).
    return str(event.get("message", "")).rstrip("\n")
