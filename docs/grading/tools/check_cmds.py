"""Aid for the E column: extract commands shown in a finding's remediation and check them.

- `aws ...`: service, operation and every --option against botocore's service models
  (kebab-case, as the AWS CLI names them), plus required parameters present. A few CLI-only
  customisations (logs tail, ecr get-login-password, s3 ...) are accepted by name.
- other backticked commands that look like shell (docker, curl, nc, dig, ...): shlex parse.
- JSON blocks that look like IAM policies: json.loads + Resource values are ARNs or "*".
- placeholders: any <...> left in a step.
It prints issues; the grader still decides E by reading. Usage:
  python docs/grading/tools/check_cmds.py docs/grading/before/*.json
"""

import json
import re
import shlex
import sys

import botocore.session
from botocore import xform_name

SESSION = botocore.session.get_session()
SERVICES = set(SESSION.get_available_services())
CLI_ALIAS = {"s3api": "s3", "configservice": "config", "elbv2": "elbv2"}
CUSTOM = {
    ("logs", "tail"),
    ("logs", "start-live-tail"),
    ("ecr", "get-login-password"),
    ("ecr", "get-login"),
    ("s3", "cp"),
    ("s3", "ls"),
    ("s3", "sync"),
    ("ecs", "wait"),
    ("sts", "get-caller-identity"),
}
GLOBAL = {
    "--region",
    "--query",
    "--output",
    "--profile",
    "--no-cli-pager",
    "--cli-input-json",
    "--endpoint-url",
    "--debug",
    "--no-paginate",
    "--max-items",
    "--page-size",
    "--starting-token",
    "--cli-binary-format",
    "--generate-cli-skeleton",
    "--color",
    "--no-verify-ssl",
}
SHELL_START = (
    "docker ",
    "curl ",
    "nc ",
    "dig ",
    "nslookup ",
    "getent ",
    "wget ",
    "ls ",
    "cat ",
    "df ",
    "sh ",
    "bash ",
    "openssl ",
    "psql ",
    "mysql ",
    "redis-cli ",
    "telnet ",
    "ping ",
    "sudo ",
    "systemctl ",
    "ecs-cli ",
    "jq ",
    "grep ",
    "npm ",
    "pip ",
    "node ",
    "python ",
    "java ",
)


def check_aws(cmd: str) -> list[str]:
    probs = []
    try:
        toks = shlex.split(cmd)
    except ValueError as e:
        return [f"shlex: {e}"]
    if len(toks) < 3:
        return ["aws command without service/operation"]
    svc_cli, op = toks[1], toks[2]
    svc = CLI_ALIAS.get(svc_cli, svc_cli)
    if (svc_cli, op) in CUSTOM:
        return probs
    if svc not in SERVICES:
        return [f"unknown service {svc_cli}"]
    model = SESSION.get_service_model(svc)
    ops = {xform_name(o, "-"): o for o in model.operation_names}
    if op not in ops:
        return [f"unknown operation {svc_cli} {op}"]
    om = model.operation_model(ops[op])
    members = {}
    required = set()
    if om.input_shape is not None:
        members = {"--" + xform_name(m, "-"): m for m in om.input_shape.members}
        required = {"--" + xform_name(m, "-") for m in om.input_shape.required_members}
    given = set()
    for t in toks[3:]:
        if t.startswith("--"):
            name = t.split("=", 1)[0]
            base = name[5:] if name.startswith("--no-") else None
            if name in members or name in GLOBAL or (base and "--" + base in members):
                given.add(name)
            else:
                probs.append(f"unknown option {name} for {svc_cli} {op}")
        if re.search(r"<[^>]+>", t):
            probs.append(f"placeholder {t}")
    miss = required - given
    if miss and "--cli-input-json" not in given:
        probs.append(f"missing required {sorted(miss)}")
    return probs


def main() -> None:
    for path in sys.argv[1:]:
        with open(path) as fh:
            f = json.load(fh)
        out = []
        for i, step in enumerate(f["remediation"], 1):
            for seg in re.findall(r"`([^`]+)`", step):
                s = seg.strip()
                if s.startswith("aws "):
                    for p in check_aws(s):
                        out.append(f"  step {i}: {p} :: {s[:140]}")
                elif s.startswith(SHELL_START):
                    try:
                        shlex.split(s)
                    except ValueError as e:
                        out.append(f"  step {i}: shlex {e} :: {s[:140]}")
                    if re.search(r"<[^>]+>", s):
                        out.append(f"  step {i}: placeholder in shell :: {s[:140]}")
            for ph in re.findall(r"<[A-Za-z][^<>]{0,60}>", step):
                out.append(f"  step {i}: placeholder {ph}")
        print(path.split("/")[-1], "OK" if not out else "")
        for o in out:
            print(o)


if __name__ == "__main__":
    main()
