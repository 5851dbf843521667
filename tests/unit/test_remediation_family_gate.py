"""remediation.may_name_family: the word prefilter in front of error_family / family_near names nothing it drops."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import remediation as remedy
from shared.inputs import load_case
from shared.pasted import normalise

CASES = Path(__file__).resolve().parents[1] / "cases"


def _unfiltered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remedy, "_FAMILY_WORDS", [None])


def test_every_gate_is_a_regex_requiring_words():
    for name in remedy._FAMILY_GATES:
        assert remedy.required_words(getattr(remedy, name)), name
    assert not remedy.may_name_family("x") or not remedy.HAVE_AUTOMATON  # (builds the automaton)
    assert remedy._FAMILY_WORDS[0] is not None or not remedy.HAVE_AUTOMATON


@pytest.mark.parametrize("text", [
    "nginx: [emerg] bind() to 0.0.0.0:80 failed (13: Permission denied)",
    "Error: yaml: line 3: did not find expected key",
    'nginx: [emerg] host not found in upstream "app:8080" in /etc/nginx/conf.d/default.conf:12',
    "/etc/app/settings.toml:12: unexpected character",  # file:line with a complaint word only
    "error: the following arguments are required: --input",
    "open /data/cache: no such file or directory",
    "mkdir /var/lib/app: read-only file system",
    "Run `rake db:migrate` to see the error",
    "ERROR: APPCMD failed with error code 4312",
])
def test_near_misses_still_named(text: str, monkeypatch: pytest.MonkeyPatch):
    ev = remedy.error_family(text)
    assert remedy.may_name_family(text)
    _unfiltered(monkeypatch)
    assert remedy.error_family(text) == ev


def test_ordinary_lines_are_dropped():
    for text in ("INFO  [main] c.e.orders.web.RequestLogger - GET /api/orders/12 200 3ms request_id=ab12",
                 '10.0.1.2 - - [01/May/2024:10:00:01 +0000] "GET /health HTTP/1.1" 200 2 "-" "ELB-HealthChecker/2.0"'):
        assert not remedy.may_name_family(text)
        assert remedy.error_family(text) is None


def test_no_case_line_named_is_dropped(monkeypatch: pytest.MonkeyPatch):
    """Every log line of every case (and each stop reason) that error_family names passes the prefilter."""
    texts: list[str] = []
    for path in sorted(CASES.rglob("*.json")):
        try:
            event, logs = load_case(path)
        except Exception:  # a deliberately broken input case
            continue
        texts.append(event.detail.stopped_reason or "")
        texts.extend(c.reason or "" for c in event.detail.containers)
        try:
            ls = normalise(logs)
        except Exception:
            continue
        texts.extend(list(ls.texts))
    texts = list(dict.fromkeys(t for t in texts if t))
    kept = {t: remedy.may_name_family(t) for t in texts}
    _unfiltered(monkeypatch)
    named = [t for t in texts if remedy.error_family(t) is not None]
    assert named, "the corpus names some families"
    assert [t for t in named if not kept[t]] == []
    assert sum(kept.values()) < len(texts)  # (the filter does drop lines)
