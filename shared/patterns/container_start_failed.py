"""container-start-failed: the container process could not start.

Signals: "exec format error" (image built for another CPU architecture); "executable file not
found in $PATH"; "exec: ... no such file or directory" (missing entrypoint, or a CRLF shebang);
"permission denied" starting the process; CannotStartContainerError / OCI runtime create failed;
exit 126 (not executable) or 127 (command not found) with the shell's complaint. Facts: container,
cause (exec-format / entrypoint-not-found / permission), executable.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Cause,
    Explanation,
    Facts,
    Match,
    Proof,
    ReasonPattern,
    Stage,
    container_for_line,
    container_for_reason,
    exit_code,
    find_in_logs,
    find_in_reasons,
    log_proof,
    reason_proof,
    strip_quotes,
)
from shared.scan import lazy_re


def _architecture(text: str, m: re.Match[str], ev: Evidence) -> dict[str, Any]:
    """The image was built for another CPU: the task's architecture (Fargate's default when unset)."""
    # Only what the evidence shows: an event without runtimePlatform or the attribute says nothing of the CPU.
    return {"cpu_architecture": ev.cpu_architecture}


# What kept the process from starting, one row per family of wordings. The signal is any row's words; the
# row whose words the signal matched (the leftmost in the text, see _row) names the cause and adds its facts.
_STARTS = (
    Cause("exec-format", lazy_re(r"exec format error", re.IGNORECASE), _architecture),
    Cause("entrypoint-not-found", lazy_re(
        r"executable file not found(?: in (?:\$PATH|%PATH%))?|exec: \"[^\"]+\": (?:stat \S+?(?::\s*|\.\.\.))?no such file or dir"
        r"|exec (?:user process caused: )?(?:\S+: )?no such file or directory|(?:/usr/bin/env|env): '?[\w./-]+(?:\\r|\r)'?: No such file or directory"
        r"|exec user process caused:? \\?\"?no such file or directory"
        r"|CreateProcess: failure in a Windows system call: The system cannot find the (?:file|path) specified",
        re.IGNORECASE)),
    Cause("permission", lazy_re(
        r"(?:starting container process caused|exec user process caused|exec: \"[^\"]+\"|exec \S+):? \\?\"?permission denied",
        re.IGNORECASE)),
)
_SPECIFIC = lazy_re("|".join(f"(?P<row{i}>{row.regex.pattern})" for i, row in enumerate(_STARTS)), re.IGNORECASE)


# A process supervisor in the image (s6-overlay: fdmove, s6-*, execline's tools) that could not exec a service.
_SUPERVISED_EXEC = lazy_re(r"\b(?:fdmove|s6-[\w-]+|execlineb|with-contenv|importas|backtick):\s*fatal:\s*"
                           r"unable to exec ([\w./-]+)", re.IGNORECASE)


def _supervised_exec(m: Match) -> str | None:
    """The program a supervisor in the image could not exec, when a log line reports it."""
    for p in m.proofs:
        if p.source.startswith("logs"):
            hit = _SUPERVISED_EXEC.search(p.text)
            if hit:
                return hit.group(1)
    return None


def _row(m: re.Match[str]) -> Cause:
    """The row of _STARTS whose words the signal matched."""
    return _STARTS[int((m.lastgroup or "row1")[3:])]


_SPACED_EXEC = lazy_re(r'exec: \\*"([\w./-]+ [^"\\]*)')
_STAT_EXE = lazy_re(r'exec: \\*"/[^"\\]+\\*": stat /')
_EXEC_INTO = lazy_re(r"OCI runtime exec failed|exec failed: (?:container_linux|unable to start)", re.IGNORECASE)
_GENERIC = lazy_re(r"CannotStartContainerError|OCI runtime (?:create|exec|start) failed|starting container process caused",
                      re.IGNORECASE)
_SHELL = lazy_re(
    r"^(?:/bin/sh|sh|bash|/bin/bash|/usr/bin/env|[\w/.-]+\.sh)(?:: exec)?(?:: line \d+)?:?(?: \d+:)? (?:exec: )?([\w./-]+): "
    r"(?P<what>not found|command not found|Permission denied|No such file or directory)"
)
_EXE = (
    lazy_re(r"exec: \"([^\"]+)\""),
    lazy_re(r'exec: \\*"([\w./-]+ [^"\\]*?)\s*(?:\\|$)'),  # a shell line in exec form: "apt-get update && ..."
    # the runtime's message quoted inside another message (a JSON or Go string): exec: \"name\": ...
    lazy_re(r'exec: \\+"([^"\\\s]+)\\+"'),
    lazy_re(r"exec (/[^\s:]+): (?:exec format error|no such file|permission denied)", re.IGNORECASE),
    lazy_re(r"(?:/usr/bin/env|env): '?([\w./-]+?)(?:\\r|\r)?'?: No such file"),
)
_COMMAND_LINE = lazy_re(r'"CommandLine"\s*:\s*"([^"]+)"')
_CHDIR = lazy_re(r"chdir to cwd \(?\\?\"?([^\"\\)\s]+)\\?\"?\)?[^:]*: permission denied", re.IGNORECASE)
_NEEDLES = ("exec format", "executable file not found", "no such file or directory", "permission denied",
            "not found", "oci runtime", "exec user process")


class ContainerStartFailedFacts(Facts):
    """The facts of container-start-failed."""

    cause: str | None = Field(None, description="exec-format, entrypoint-not-found, permission, ...")
    cpu_architecture: str | None = Field(None, description="The task's CPU architecture.")
    crlf: bool | None = Field(None, description="The entrypoint script has Windows line endings.")
    executable: str | None = Field(None, description="The program ECS could not start.")
    exit_code: int | None = Field(None, description="The container's exit code.")


_CMD_QUERY = "taskDefinition.containerDefinitions[].[name, entryPoint, command]"


# "open /tmp/containerd-mount123/etc/passwd: no such file or directory", "unable to find user app: no matching
# entries in passwd file"
_PASSWD = lazy_re(r"etc/passwd: no such file or directory|unable to find user (?P<user>[\w.-]+): no matching "
                     r"entries in passwd file")



# hcsshim: a Windows image of another Windows Server version than the host (process isolation needs the same).
# Words that say which architecture is involved: in the image reference, the log or the stop reasons.
_ARCH_WORDS = lazy_re(r"\b(?:arm64|aarch64|armv[5-8]\w*|arm/v[5-8]|amd64|x86[_-]64|linux/arm|graviton|apple silicon)\b",
                      re.IGNORECASE)


def _arch_evidence(ev: Evidence, m: Match) -> bool:
    """Something besides "exec format error" points at a CPU architecture: the task runs on arm64 (where most
    images, built for amd64, fail so), or the image, the error or the stop reasons name an architecture."""
    if "arm" in (ev.cpu_architecture or "") or "aarch64" in (ev.cpu_architecture or ""):
        return True
    said = " ".join([ev.reason_text, *(p.text for p in m.proofs), *(c.image or "" for c in ev.detail.containers)])
    return bool(_ARCH_WORDS.search(said))


def _exec_format_unknown(ev: Evidence, img: str | None, exe: str | None, arch: str, target: str,
                         rebuild: list[str]) -> list[str]:
    """Steps for an "exec format error" that names no architecture: check what the image and its executable
    are built for, then fix whichever it is."""
    what = f"`{exe}`" if exe else "the container's entrypoint"
    check = ""
    if img and remedy.is_image_ref(img):
        login = remedy.ecr_login_aside(ev, img)
        check = (f" Check what the image is built for{login}: `docker pull {remedy.q(img)}`, then "
                 f"`docker image inspect --format '{{{{.Os}}}}/{{{{.Architecture}}}}' {remedy.q(img)}`.")
    first = rebuild[0]
    return [f"The kernel could not execute {what}: it is not a Linux executable for this CPU "
            f"({arch or 'the task' + chr(39) + 's architecture'}). The error alone does not say why: an image built for "
            "another architecture (arm64 from an Apple-silicon Mac or a Graviton builder), or a binary built for "
            "another OS copied into the image (a Go or native build made on macOS or Windows), or a script without "
            "a `#!` line." + check,
            f"If it prints another OS/architecture than linux/{target}: " + first[0].lower() + first[1:],
            *rebuild[1:],
            (f"If it prints linux/{target}, the image is right and the executable in it is not: build it for Linux "
             "inside the Dockerfile (a Go binary with `CGO_ENABLED=0 GOOS=linux GOARCH=" + target + " go build` in "
             "a build stage, not copied from the build machine), or start a script with a `#!/bin/sh` line."
             if remedy.own_ecr(ev, img) else
             f"If it prints linux/{target}, the image is labelled right but the executable in it is not built for "
             "it: that tag of someone else's image is broken, so pin another release of it (and report it to its "
             "maintainers).")]


def _exec_format_both_unknown(ev: Evidence, img: str | None, exe: str | None) -> list[str]:
    """Steps for an "exec format error" where the evidence shows neither the task's CPU architecture (no
    runtimePlatform, no `ecs.cpu-architecture` attribute) nor the image's: read both, then rebuild for the task's."""
    what = f"`{exe}`" if exe else "the container's entrypoint"
    task_arch = f"`{remedy.describe_task_definition(ev, 'taskDefinition.runtimePlatform')}`"
    ci = ev.detail.container_instance_arn
    if remedy.is_fargate(ev):
        where = (f"{task_arch} (`cpuArchitecture` ARM64 or X86_64; none set means X86_64)")
    elif ci:
        where = (f"the container instance's `ecs.cpu-architecture` attribute, `aws ecs describe-container-instances "
                 f"--cluster {remedy.q(remedy.cluster(ev))} --container-instances {remedy.q(ci)}{remedy.region_flag(ev)} "
                 "--query \"containerInstances[0].attributes[?name=='ecs.cpu-architecture'].value\"` (arm64 or x86_64)")
    else:
        where = f"{task_arch} (`cpuArchitecture` ARM64 or X86_64), or the instance's `uname -m`"
    check = ""
    if img and remedy.is_image_ref(img):
        check = (f" Then check what the image is built for{remedy.ecr_login_aside(ev, img)}: `docker pull "
                 f"{remedy.q(img)}`, then `docker image inspect --format '{{{{.Os}}}}/{{{{.Architecture}}}}' "
                 f"{remedy.q(img)}`.")
    steps = [f"The kernel could not execute {what}: it is not a Linux executable for the CPU the task runs on, "
             f"which the event does not show. Read the task's architecture: {where}.{check} The error alone does not "
             "say which side is off: an image built for the other architecture (arm64 from an Apple-silicon Mac or "
             "a Graviton builder, amd64 from an x86 CI runner), a binary built for another OS copied into the "
             "image (a Go or native build made on macOS or Windows), or a script without a `#!` line."]
    for platform, arch in (("linux/amd64", "X86_64 (x86_64)"), ("linux/arm64", "ARM64 (arm64)")):
        fix = remedy.rebuild_for(ev, img, platform)
        steps.append(f"If the task is {arch} and the image is not {platform}: " + fix[0][0].lower() + fix[0][1:]
                     + "".join(f" {more}" for more in fix[1:]))
    steps.append("If the image's platform is the task's, the executable in it is not: "
                 + ("build it for Linux inside the Dockerfile (a Go binary with `CGO_ENABLED=0`, `GOOS=linux` and "
                    "`GOARCH` set to the task's architecture, `amd64` or `arm64`, in a build stage, not copied from "
                    "the build machine), or start a script with a `#!/bin/sh` line."
                    if remedy.own_ecr(ev, img) else
                    "that tag of someone else's image is broken, so pin another release of it (and report it to "
                    "its maintainers)."))
    return steps


_WINDOWS_HOST_MISMATCH = lazy_re(r"container operating system does not match the host operating system"
                                    r"|0xc0370101", re.IGNORECASE)
_LTSC = lazy_re(r"ltsc(2016|2019|2022|2025)|\b(1809|1903|1909|2004|20H2)\b", re.IGNORECASE)


def _windows_version_steps(ev: Evidence, image: str) -> list[str]:
    """The image's Windows Server version differs from the container instance's."""
    tag = _LTSC.search(image or "")
    said = f" (its tag says {tag.group(0)})" if tag else ""
    year = tag.group(1) if tag and tag.group(1) else "2022"
    ci = ev.detail.container_instance_arn
    check = (f" See the instance's: `aws ecs describe-container-instances --cluster {remedy.q(remedy.cluster(ev))} "
             f"--container-instances {remedy.q(ci)} --query \"containerInstances[0].attributes[?name=='ecs.os-family'].value\"`."
             if ci else "")
    return [f"The image's Windows Server version{said} is not the container instance's: Windows containers in "
            "process isolation need the host's version, an operating-system mismatch no command or entrypoint "
            "change fixes. Use the image tag built for the instances' version (e.g. ltsc2019 on Windows Server 2019), "
            "or run the task on instances of the image's version (the ECS-optimized Windows AMI of that release, "
            f"pinned with the placement constraint `attribute:ecs.os-family == WINDOWS_SERVER_{year}_CORE` or its "
            f"`_FULL` family).{check}"]

class ContainerStartFailed(ReasonPattern):
    id = "container-start-failed"
    explained_by = ("runtimePlatform", "image", "imageDigest", "entryPoint", "command")
    priority = 120
    severity = "critical"
    Facts = ContainerStartFailedFacts
    key_facts = ("cause",)
    needles = (*_NEEDLES, "no such file")
    signal = _SPECIFIC
    causes = _STARTS

    def match(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, _SPECIFIC)
        if hit:
            source, text, m = hit
            return self._build(ev, text, _row(m).name, container_for_reason(ev, source),
                               Stage.PLATFORM, (reason_proof(source, text),), None, 0.95, _row(m), m)
        found = find_in_logs(ev, _NEEDLES, _SPECIFIC, allow_quiet=True)
        if found and _EXEC_INTO.search(" ".join(ev.logs.texts[max(0, found[0] - 2) : found[0] + 1])):
            found = None  # a command run inside a running container (health check, exec) failed, not the start
        if found:
            i, m = found
            return self._build(ev, ev.logs.texts[i], _row(m).name, container_for_line(ev, i),
                               Stage.APP, (log_proof(ev, i),), i, 0.93, _row(m), m)
        found = find_in_logs(ev, ("not found", "permission denied", "no such file"), _SHELL, allow_quiet=True)
        if found:
            i, m = found
            container = container_for_line(ev, i)
            code = exit_code(ev, container)
            what = m.group("what").lower()
            checked = "container health checks" in ev.stopped_reason.lower()
            # After failed container health checks, "sh: curl: not found" is the check command's own output:
            # the container started and ran until ECS killed it.
            if code in (126, 127) or (ev.logs.block_end(i) >= len(ev.logs) - 3 and not checked):
                cause: str | None = "permission" if "permission" in what else "entrypoint-not-found"
                match = self._build(ev, ev.logs.texts[i], cause, container, Stage.APP, (log_proof(ev, i),), i,
                                    0.85 if code in (126, 127) else 0.7)
                match.facts["executable"] = m.group(1)
                return match
        hit = find_in_reasons(ev, _GENERIC)
        if hit:
            source, text, _ = hit
            low = text.lower()
            # exec form given a whole shell line ("apt-get update && ..."): no executable has that name
            spaced = find_in_reasons(ev, _SPACED_EXEC)  # the stoppedReason may be cut before the exec part
            # runc stats the executable before it runs it: a failed stat (even cut before its "no such file") is
            # the entrypoint's path, not something only a local run can show.
            cause = ("permission" if "permission denied" in low else "entrypoint-not-found"
                     if spaced or _STAT_EXE.search(text) else None)
            if spaced and source == "stoppedReason":
                source, text = spaced[0], spaced[1]
            return self._build(ev, text, cause, container_for_reason(ev, source), Stage.PLATFORM,
                               (reason_proof(source, text),), None, 0.5)
        for c in ev.detail.containers:
            if c.exit_code in (126, 127) and c.name in ev.failing:
                cause = "permission" if c.exit_code == 126 else "entrypoint-not-found"
                proof = Proof(f"containers[{c.name}].exitCode", str(c.exit_code))
                return self._build(ev, "", cause, c.name, Stage.APP, (proof,), len(ev.logs), 0.6)
        return None

    def _build(self, ev, text, cause, container, stage, proofs, anchor, confidence, row: Cause | None = None,
               signal: re.Match[str] | None = None) -> Match:
        facts: dict = {"container": container, "cause": cause}
        for regex in _EXE:
            m = regex.search(text)
            if m:
                facts["executable"] = strip_quotes(m.group(1))
                break
        if row is not None and row.extract is not None and signal is not None:
            facts.update(row.extract(text, signal, ev))
        if "\\r" in text or "\r" in text or "^M" in text:
            facts["crlf"] = True
        code = exit_code(ev, container)
        if code is not None:
            facts["exit_code"] = code
        return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=proofs,
                     confidence=confidence, stage=stage, anchor=anchor, container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        container = f.get("container") or "the container"
        cause = f.get("cause")
        exe = f.get("executable")
        image = remedy.image(ev, f.get("container")) or "<the image of the container>"
        why = remedy.cite(m)
        crlf = bool(f.get("crlf")) and not remedy.is_windows(ev)
        steps: list[str] = []
        if cause == "entrypoint-not-found" and not exe and remedy.is_windows(ev):
            # Windows' CreateProcess failure names no file, but the HCS error detail carries the command line.
            line = next((c for t in ev.logs.texts if (c := _COMMAND_LINE.search(t))), None)
            exe = line.group(1).split()[0] if line and line.group(1).split() else None
        if (cause == "entrypoint-not-found" and exe and "nanoserver" in image.lower()
                and re.fullmatch(r"(?i)(?:.*\\)?powershell(?:\.exe)?", exe)):
            # Nano Server has no Windows PowerShell; the PowerShell images on it ship PowerShell 7 as pwsh.
            steps.append(f"Nano Server has no Windows PowerShell (`{exe}`): the PowerShell images built on it ship "
                         "PowerShell 7 as `pwsh`. Change the command to `pwsh` (e.g. `\"command\": [\"pwsh\", "
                         "\"-Command\", \"...\"]`), or use a Windows Server Core image, which has powershell.exe."
                         + why)
            why = ""
            exe = None
        named_fix = bool(steps)
        if named_fix:
            pass  # the executable's own fix is step 1
        elif cause == "exec-format" and (ev.detail.launch_type or "").upper() == "EXTERNAL":
            # ECS Anywhere: the host is whatever machine registered; runtimePlatform does not choose it.
            steps.append("The image was built for another CPU architecture than the external (ECS Anywhere) host "
                         "that ran it. Compare the two: `uname -m` on the host (aarch64 = arm64, x86_64 = amd64) and "
                         f"`docker manifest inspect {remedy.q(image)}` (the platforms the image has); then use a "
                         "tag built for the host's architecture, or build one with docker buildx and the option "
                         "--platform linux/arm64 (or linux/amd64) to match it. runtimePlatform does not pick external hosts: with hosts of both kinds, "
                         "constrain placement on the attribute `ecs.cpu-architecture`.")
        elif cause == "exec-format":
            arch = str(f.get("cpu_architecture") or "")
            target = "arm64" if "arm" in arch or "aarch64" in arch else "amd64"
            other = "X86_64" if target == "arm64" else "ARM64"
            img = remedy.image(ev, f.get("container"))
            run_other = (f"Run the task on the image's architecture: task definition "
                         f'`"runtimePlatform": {{"cpuArchitecture": "{other}", "operatingSystemFamily": "LINUX"}}`'
                         + ("." if remedy.is_fargate(ev) else f" on {other.lower()} container instances."))
            rebuild = remedy.rebuild_for(ev, img, f"linux/{target}")
            lead = (f"The image was built for another CPU architecture than the task runs on "
                    f"({arch or 'see runtimePlatform'}). ")
            if not arch and not _arch_evidence(ev, m):
                # Neither the task's architecture nor the image's is known: check both, then fix the one that differs.
                steps += _exec_format_both_unknown(ev, img, exe)
            elif not _arch_evidence(ev, m):
                # A bare "exec format error" on an x86_64 (or unknown) host: an image of another architecture and
                # a binary built for another OS (a Go build made on macOS, a Mach-O or .exe copied in) fail alike.
                # Check before asserting either; switching the task to ARM64 has nothing to rest on.
                steps += _exec_format_unknown(ev, img, exe, arch, target, rebuild)
            elif remedy.own_ecr(ev, img):
                steps += [lead + rebuild[0], *rebuild[1:], "Or r" + run_other[1:]]
            else:  # someone else's image: running it where it was built for is the quickest fix
                steps += [lead + run_other, *rebuild]
            if img and remedy.is_image_ref(img) and remedy.own_ecr(ev, img) and _arch_evidence(ev, m):
                steps.append(f"Check which platforms the image has: `{remedy.inspect_platforms(img)}`.")
        elif _WINDOWS_HOST_MISMATCH.search(" ".join(p.text for p in m.proofs)):
            steps += _windows_version_steps(ev, image)
        elif cause == "entrypoint-not-found" and crlf:
            # `bash\r` / `/bin/sh^M`: the interpreter exists; the script's first line ends in a carriage return.
            steps.append("The script has Windows (CRLF) line endings: its shebang names an interpreter whose name "
                         f"ends in a carriage return (`{exe or 'sh'}\\r`), which no image has. The interpreter itself "
                         "is not missing. Convert the script to LF line endings (run `dos2unix` on it, or "
                         "`sed -i 's/\\r$//'`) before the image is built, and add a `.gitattributes` rule `*.sh text eol=lf` so "
                         "a Windows checkout does not bring the CRLF back; then rebuild the image." + why)
            why = ""
        elif cause == "entrypoint-not-found" and exe and " " in exe:
            steps.append(f"The runtime looked for an executable literally named `{exe}`: a whole shell line was put in "
                         "one element of the exec-form `command`/`entryPoint` (or the Dockerfile's JSON-array CMD). "
                         f'Split it into arguments, or run it through a shell: `"command": ["sh", "-c", "{exe} ..."]`.')
        elif cause == "entrypoint-not-found" and (sup := _supervised_exec(m)):
            # The supervisor inside the image (s6-overlay's fdmove / s6-* / execline) reports it: the container's
            # entrypoint ran and its init started the services; one service's run script found no such program.
            steps.append(f"The container's entrypoint ran: the image's own init (s6-overlay) started its services "
                         f"and could not exec `{sup}` from a service's run script, so the task definition's "
                         "entryPoint/command is not what failed. The run scripts no longer find it on their PATH: "
                         "look at what this image changes in the init (a custom script in /etc/cont-init.d or "
                         "/etc/services.d, an S6_KEEP_ENV or PATH change) and compare it with the upstream image: "
                         f"`docker run --rm --entrypoint sh {remedy.q(image)} -c "
                         + shlex.quote(f"echo $PATH; command -v {sup}; ls /etc/cont-init.d /etc/services.d") + "`."
                         + why)
            why = ""
        elif cause == "entrypoint-not-found":
            what = f"`{exe}`" if exe else "the entrypoint/command"
            # An executable the message does not name: the first word of the task definition's entryPoint, or
            # of its command, read in the same block.
            read = "" if exe else remedy.td_value(ev, "exe", f.get("container"), "(entryPoint || command)[0]") + "\n"
            if remedy.is_windows(ev):
                probe = f"docker run --rm --entrypoint cmd {remedy.q(image)} /c where " + (remedy.q(exe) if exe else '"$exe"')
            else:
                probe = (f"docker run --rm --entrypoint sh {remedy.q(image)} -c "
                         + (shlex.quote("command -v " + exe) if exe else '"command -v $exe"'))
            steps.append(f"{what} does not exist in the image or is not on $PATH: check the Dockerfile's "
                         + ("ENTRYPOINT/CMD and the job definition's `command` (an AWS Batch job definition sets "
                            "no entryPoint, so the path comes from the image's ENTRYPOINT or from that command), e.g. "
                            if remedy.launcher(ev) == "batch" else
                            "ENTRYPOINT/CMD and the task definition's `entryPoint`/`command` overrides, e.g. ")
                         + (f"`{probe}`.{why}" if exe else f"```\n{read}{probe}\n```{why}"))
            why = ""
            said = ev.reason_text + "\n" + "\n".join(p.text for p in m.proofs)
            # "executable file not found in $PATH" / "stat <file>: no such file": the lookup found no file, so
            # nothing was run and no interpreter was asked for; only a file that exists and was executed can fail for
            # its interpreter ("exec user process caused: no such file or directory").
            if not remedy.is_windows(ev) and not re.search(r"(?i)not found in \$?PATH|\bstat \S+: no such file", said) \
                    and not _STAT_EXE.search(said):
                maybe_crlf = bool(exe and re.search(r"\.(?:sh|bash|py|pl|rb)$", exe)) and remedy.own_ecr(ev, image)
                steps.append("A script whose interpreter is missing (bash on Alpine, a glibc binary on musl) fails "
                             "the same way: install the interpreter or use a matching base image"
                             + (f"; so does a script saved with Windows line endings (CRLF, from a Windows checkout): "
                                "its #! line then names an interpreter ending in a carriage return, which does not "
                                f"exist. Convert `{exe}` to LF (`RUN sed -i 's/\\r$//' {exe}` in the Dockerfile, or "
                                "`*.sh text eol=lf` in .gitattributes)" if maybe_crlf else "")
                             + ". (Why: the runtime says no such file, which is also what a missing interpreter gives.)")
        elif cause == "permission" and (cwd := _CHDIR.search(ev.reason_text + "\n" + "\n".join(p.text for p in m.proofs))):
            # runc could not enter the working directory: the USER may not enter it; the entrypoint is not the fault.
            d = cwd.group(1)
            steps.append(f"The container's user may not enter its working directory `{d}` (runc's chdir was refused"
                         f"{', and /root is closed to other users' if d.startswith('/root') else ''}): set "
                         "`workingDirectory` in the container definition (or the Dockerfile's WORKDIR) to a directory "
                         f"that user can enter, e.g. its home or /app (`chown`/`chmod` it in the Dockerfile), or drop "
                         "the `user` override so the image's own user runs it. The entrypoint's mode is not the fault.")
        elif cause == "permission" and (exe == "/" or (exe or "").endswith("/")
                                        or "is a directory" in ev.reason_text.lower()):
            # The program to run is a directory: no mode makes a directory executable, and a shell cannot run it.
            steps.append(f"The entrypoint names {('`' + exe + '`') if exe else 'a path'}, which is a directory, not a "
                         "program: no `chmod` makes a directory runnable, nor does a shell run it. Correct the container "
                         "definition's `entryPoint` (and `command`) to the program's path, or remove the `entryPoint` "
                         "override so the image's own ENTRYPOINT runs (if the task definition sets none, the image's "
                         "ENTRYPOINT is the one to fix); check them with "
                         f"`{remedy.describe_task_definition(ev, remedy.container_query(ev, m.container, '[entryPoint, command]'))}`.")
        elif cause == "permission":
            script = exe and exe.startswith("/") and not exe.endswith((".py", ".js", ".rb"))
            steps.append(f"{('`' + exe + '`') if exe else 'The entrypoint'} is not executable: `RUN chmod +x` it in the "
                         "Dockerfile (or `COPY --chmod=755`), and make sure the USER can read it."
                         + (" Without rebuilding (an image you do not build): run it through the shell in the "
                            f'task definition, `"entryPoint": ["sh", "{exe}"]`, with the image\'s CMD repeated as '
                            '`command` (overriding the entrypoint clears it).' if script else ""))
        elif passwd := next((u for p in m.proofs if (u := _PASSWD.search(p.text))), None):
            # The runtime resolves the container's user in the image's /etc/passwd before it starts anything.
            who = passwd.group("user")
            steps.append((f"The user `{who}` the container runs as is not in the image's /etc/passwd"
                          if who else "The image has no /etc/passwd, which the runtime reads to resolve the user the "
                          "container runs as (an image built FROM scratch, or a publish output copied alone)")
                         + ": set the container definition's `user` to a numeric UID (`\"user\": \"1000\"`, or "
                         "`\"0\"` for root) or the Dockerfile's `USER` to one, or create the user / add /etc/passwd "
                         "in the image (a base image such as the runtime's official one has it). No volume is "
                         "involved, despite the word mount.")
        elif not remedy.local_repro_blocked(ev, f.get('container'), bash=False):
            steps.append("Run the image locally with the task's command to see the runtime's error"
                         + (" (on a Windows container host, in PowerShell)" if remedy.is_windows(ev) else "") + ": "
                         f"`{remedy.docker_run(ev, f.get('container'))}`; compare with the task definition's "
                         f"entryPoint/command: `{remedy.describe_task_definition(ev, _CMD_QUERY)}`.")
        if steps and why:
            steps[0] += why
        # An image of the task's own ECR repository is rebuilt and pushed there (remedy.rebuild_for): pinned by digest,
        # a revision naming the new push comes first. Another's image is replaced by a tag or a copy: a new revision.
        img = remedy.image(ev, f.get("container"))
        rolled = remedy.roll_out_image(ev, f.get("container")) if img and remedy.own_ecr(ev, img) else remedy.roll_out(ev)
        steps.append(f"Register the fixed task definition (or push the fixed image) and roll it out: {rolled}.")
        chdir = cause == "permission" and _CHDIR.search(ev.reason_text)
        # The step chain above picks the s6 step only when neither CRLF nor a whole shell line is the cause.
        supervised = (_supervised_exec(m) if cause == "entrypoint-not-found" and not crlf
                      and not (exe and " " in exe) else None)
        return Explanation(
            title=f"Container {container} could not start" + (
                " (script has CRLF line endings)" if cause == "entrypoint-not-found" and crlf
                else f" ({cause})" if cause else ""),
            summary=(f"The process of {container} could not be started"
                     + {"exec-format": ": the image's binaries are for a different CPU architecture.",
                        "entrypoint-not-found": (": its script's shebang ends in a carriage return (CRLF line "
                                                 "endings)." if crlf else ": its entrypoint or command was not found."),
                        "permission": (": its user may not enter its working directory." if chdir else
                                       ": its entrypoint is not executable.")}.get(cause or "", "."))
            if not supervised else
            (f"The entrypoint of {container} ran, but the image's own init (s6-overlay) could not exec `{supervised}` "
             "for one of its services, so the container stopped."),
            remediation=steps,
        )


PATTERN = ContainerStartFailed()
