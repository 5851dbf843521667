"""`ecs-autopsy`: diagnose stopped ECS tasks from the command line.

    ecs-autopsy diagnose --event EVENT.json [--logs LOGS.txt] --offline [--format text|json|markdown]
    ecs-autopsy diagnose --event EVENT.json [--logs LOGS.txt] --task-definition TD.json
                         [--previous-task-definition PREV.json]        (offline: what changed, too)
    ecs-autopsy diagnose --case CASE.json [CASE.json ...] --offline --format json
    ecs-autopsy diagnose --cluster C --task T | --service S [--region R] [--log-lines N] [--format ...]
    ecs-autopsy score DIR|CASE.json ... [--show-misses] [--format text|json]
    ecs-autopsy schema
    ecs-autopsy --version

`-` for --event, --logs or --case reads standard input (one of them), e.g.
`aws ecs describe-tasks --cluster C --tasks T --query tasks | ecs-autopsy diagnose --event -`.

Exit status: 0 when a diagnosis was made (`unknown` included), 2 on bad input (one line on stderr
naming the file and the problem; in a batch the bad case prints {"error", "case"} on its line and
the others are still diagnosed) and when a live diagnosis cannot start (no AWS credentials, no
Region), 3 when a live diagnosis could read no evidence at all from AWS (the finding, from the event
alone, is still printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from shared.engine import diagnose
from shared.inputs import (
    BadInput,
    display,
    is_stdin,
    load_case,
    load_event,
    load_logs,
    offline_evidence,
    read_json,
)
from shared.models.event import TaskStateChangeEvent
from shared.models.finding import Finding
from shared.render.formats import renderer

PROG = "ecs-autopsy"
OFFLINE_FORMATS = ("text", "json", "markdown")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Tells you why an Amazon ECS task stopped.")
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    d = sub.add_parser("diagnose", help="diagnose a stopped task")
    src = d.add_mutually_exclusive_group(required=True)
    src.add_argument("--event", type=Path, metavar="EVENT.json",
                     help="an ECS Task State Change event (EventBridge), DescribeTasks output (also "
                          "`--query tasks`) or a task; - for stdin")
    src.add_argument("--case", type=Path, nargs="+", metavar="CASE.json",
                     help="case files {event, logs, expect}; prints one finding per case per line; - for stdin")
    src.add_argument("--task", metavar="TASK", help="live: a stopped task's ARN or id (with --cluster)")
    src.add_argument("--service", metavar="SERVICE", help="live: the service's most recent stopped tasks")
    d.add_argument("--cluster", metavar="CLUSTER", help="live: the cluster of --task/--service")
    d.add_argument("--region", metavar="REGION", help="live: AWS region (default: the task ARN's, then AWS_REGION)")
    d.add_argument("--log-lines", type=int, metavar="N", help="live: log lines read per container (default 100)")
    d.add_argument("--logs", type=Path, metavar="LOGS.txt", help="log lines of the task's containers (with --event); - for stdin")
    d.add_argument("--task-definition", type=Path, metavar="TD.json",
                   help="offline: the task's definition (`aws ecs describe-task-definition` output or a bare one)")
    d.add_argument("--previous-task-definition", type=Path, metavar="PREV.json",
                   help="offline: the revision that ran healthy; the finding says what changed and whether "
                        "that explains the cause (with --task-definition)")
    d.add_argument("--offline", action="store_true", help="use only the files given; never call AWS")
    d.add_argument("--format", default="text", help="text (default), json, markdown; live also slack, sns, chatbot")
    d.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    d.set_defaults(func=cmd_diagnose)

    sc = sub.add_parser("score", help="score the engine on labelled case files (pattern, facts, cause)")
    sc.add_argument("paths", type=Path, nargs="+", metavar="DIR|CASE.json",
                    help="case files, or folders of them (searched recursively for *.json)")
    sc.add_argument("--show-misses", action="store_true", help="list every case with a wrong pattern, fact or cause")
    sc.add_argument("--format", choices=("text", "json"), default="text")
    sc.set_defaults(func=cmd_score)

    s = sub.add_parser("schema", help="print the JSON Schema of a finding")
    s.set_defaults(func=cmd_schema)
    return parser


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ecs-autopsy")
    except PackageNotFoundError:
        return "(not installed)"


def cmd_score(args: argparse.Namespace) -> int:
    from shared.score import run

    return run(list(args.paths), show_misses=args.show_misses, fmt=args.format)


def cmd_schema(args: argparse.Namespace) -> int:
    from shared.schema import generate

    sys.stdout.write(json.dumps(generate(), indent=2) + "\n")
    return 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    from shared.render.text import use_colour

    if args.logs and args.case:
        raise BadInput("--logs goes with --event; a case file carries its own logs")
    stdin = [p for p in (args.event, args.logs, args.task_definition, args.previous_task_definition,
                         *(args.case or ())) if is_stdin(p)]
    if len(stdin) > 1:
        raise BadInput("standard input (-) can be read once: give the other inputs as files")
    if args.offline and (args.task or args.service):
        raise BadInput("--task and --service read AWS: drop --offline (or give --event with --offline)")
    if args.task_definition or args.previous_task_definition:
        if not args.event:
            raise BadInput("--task-definition and --previous-task-definition go with --event")
        if args.previous_task_definition and not args.task_definition:
            raise BadInput("--previous-task-definition needs --task-definition (the failing revision)")
        args.offline = True  # the files say it all: no AWS call
    if not args.offline:
        live = _live_command()
        if live is None:
            raise BadInput("live diagnosis is not available in this installation: add --offline")
        return live(args)
    render = renderer(args.format, colour=not args.no_color and use_colour())
    if args.event:
        event = load_event(args.event)
        logs = load_logs(args.logs) if args.logs else []
        if args.task_definition:
            finding = _with_task_definitions(event, logs, args.task_definition, args.previous_task_definition)
        else:
            finding = diagnose(offline_evidence(event, logs))
        sys.stdout.write(render(finding))
        return 0
    status = 0
    for path in args.case:
        try:
            event, logs = load_case(path)
            finding = diagnose(offline_evidence(event, logs))
        except BadInput as exc:
            status = 2
            if args.format == "json":
                sys.stdout.write(json.dumps({"error": str(exc), "case": display(path)}) + "\n")
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            continue
        sys.stdout.write(render(finding))
        if args.format != "json" and len(args.case) > 1:
            sys.stdout.write("\n")
    sys.stdout.flush()
    return status


def load_task_definition(path: Path) -> dict:
    """A task definition file: `aws ecs describe-task-definition` output or a bare task definition."""
    from shared.changes import task_definition_of

    obj = read_json(path)  # BadInput naming the file (or <stdin>) when it cannot be read or parsed
    try:
        return task_definition_of(obj if isinstance(obj, dict) else {})
    except ValueError as exc:
        raise BadInput(f"{display(path)}: {exc}") from None


def _with_task_definitions(event: TaskStateChangeEvent, logs: object, td_path: Path, previous_path: Path | None) -> Finding:
    """Offline, with the task definition (and the healthy one before it): the diagnosis and what changed."""
    from dataclasses import replace

    from shared.changes import compare, relate, snapshot
    from shared.evidence.ecs import task_definition_facts
    from shared.models.event import cluster_name, service_name

    td = load_task_definition(td_path)
    gap = "Offline diagnosis: target group health, IAM policies and network configuration were not read."
    ev = replace(offline_evidence(event, logs, (gap,)), task_definition=task_definition_facts(td))
    finding = diagnose(ev)
    if previous_path is None:
        return finding
    d = ev.detail
    comp = compare(snapshot(load_task_definition(previous_path)), snapshot(td), basis="given",
                   cluster=cluster_name(d.cluster_arn), service=service_name(d.group))
    return relate(finding, comp)


def _live_command() -> Callable[[argparse.Namespace], int] | None:
    try:
        from shared import live
    except ImportError:
        return None
    return live.cli_diagnose


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BadInput as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
