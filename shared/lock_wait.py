"""A start-up that waits on a Liquibase migration lock left behind by a migration that was killed.

Liquibase (Metabase, Keycloak and any app that migrates with it at start-up) takes a row lock in the
DATABASECHANGELOGLOCK table while it migrates; a container killed mid-migration (a health-check replacement, a
deploy) leaves LOCKED set, and every later start waits for it ("Waiting for changelog lock....") until the health
checks replace the task again, which can leave the lock behind once more. The fix is to release the stale lock, then
give the migration the time it needs. Flyway and the other migration tools keep no such row (they use the database's
own advisory or table locks, released when the connection ends), so only Liquibase's evidence counts here.
"""

from __future__ import annotations

from itertools import islice

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import log_proof
from shared.scan import lazy_re

# Liquibase's own wait ("Waiting for changelog lock....", "Could not acquire change log lock. Currently locked by
# ..."), and an app's wording of it ("Waiting for migration lock to be cleared...").
_WAIT = lazy_re(r"(?i)\bwaiting for (?:the )?(?:change ?log|migration) lock\b|could not acquire change ?log lock")
# Words only Liquibase's wait says itself: no other evidence of Liquibase is needed then.
_LIQUIBASE_OWN = lazy_re(r"(?i)change ?log lock")
_LIQUIBASE = lazy_re(r"(?i)liquibase|databasechangelog")
# The lock was taken or released after the wait, or the app then said it started or listens: the wait ended, it is
# not why the app never served (a start-up line older than the wait, a web server launched before migrating, counts
# for nothing: the lines are read newest first up to the wait).
_ENDED = lazy_re(r"(?i)(?:acquired|released) change ?log lock|migration lock (?:is|was|has been) (?:cleared|released|"
                 r"acquired)|lock (?:is|was) cleared|\bstarted in [\d.]+ ?m?s|\bstarted \w+ in [\d.]+|\blistening on\b"
                 r"|ready to accept connections|application startup complete|\bserver started\b|startup completed")
_NEWEST = 60  # the container's newest lines read

# Apps with a command of their own that releases the lock, run through the image's entrypoint as a command override.
_RELEASE_COMMANDS = (
    (lazy_re(r"(?i)\bmetabase\b"), ["migrate", "release-locks"], "Metabase's own `migrate release-locks` command"),
)

RELEASE_SQL = "UPDATE DATABASECHANGELOGLOCK SET LOCKED=FALSE, LOCKGRANTED=NULL, LOCKEDBY=NULL WHERE ID=1;"


def lock_wait(ev: Evidence, container: str | None) -> int | None:
    """The index of the container's newest line waiting on a Liquibase lock, when its log ends in that wait."""
    logs = ev.logs
    if not logs.may_match(_WAIT, learn=False):
        return None  # no line holds a word of the wait (the raw text searched, no line parsed): nothing to read
    containers = logs.containers
    # (newest first, reading the containers of only as many lines as it takes: a long log is not parsed whole)
    mine = list(islice((i for i in range(len(logs) - 1, -1, -1) if containers[i] in (container, None)), _NEWEST)) \
        if container and not logs.only(container) else list(range(len(logs) - 1, max(-1, len(logs) - 1 - _NEWEST), -1))
    for i in mine:  # newest first
        text = logs.texts[i]
        if _ENDED.search(text):
            return None
        if _WAIT.search(text):
            if _LIQUIBASE_OWN.search(text) or any(_LIQUIBASE.search(logs.texts[j]) for j in mine):
                return i
            return None
    return None


def release_step(ev: Evidence, container: str | None) -> str | None:
    """Step 1 for a start-up stuck on a stale Liquibase lock: release it (the app's own command when it has one,
    else the SQL), then let the migration finish before the health checks count."""
    i = lock_wait(ev, container)
    if i is None:
        return None
    who = container or "the container"
    image = remedy.image(ev, container) or ""
    said = " ".join(ev.logs.texts[j] for j in range(max(0, i - 20), i + 1))
    own = next(((cmd, name) for regex, cmd, name in _RELEASE_COMMANDS if regex.search(image) or regex.search(said)),
               None)
    release = (f"run {own[1]} once as a one-off task with the task's settings and network: "
               f"`{remedy.run_task(ev, container=container, command=own[0], same_groups=True)}` (or run "
               f"`{RELEASE_SQL}` against the app's database)" if own else
               f"run `{RELEASE_SQL}` against the app's database (or `liquibase release-locks` with the Liquibase "
               "CLI)")
    return (f"{who} was waiting for Liquibase's migration lock when it was stopped: a row in the database's "
            "`DATABASECHANGELOGLOCK` table still says LOCKED, left by an earlier container killed in the middle of "
            "a migration (often by these same health checks), so every new task waits for it and never serves. "
            f"First make sure no other task of the app is migrating right now, then release the stale lock: {release}. "
            "Then give the migration time to finish before the checks count (the service's health-check grace period, "
            "or the container health check's `startPeriod`), or the next replacement leaves the lock behind again."
            + remedy.because(log_proof(ev, i).source, ev.logs.texts[i]))
