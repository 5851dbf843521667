from __future__ import annotations

from typing import Any

import pytest

from tests.support.diagnosed import READERS


@pytest.fixture(autouse=True, scope="session")
def _ecs_as_the_stand_in_models_it():
    """The unit tests are pure: none runs moto, so none needs moto's ECS extended (tests/conftest.py) and
    `make unit` does not pay for importing moto (about a second on a 2-core machine)."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make unit`'s workers (`-n 2 --dist loadscope`) take whole test modules, as pytest-xdist's loadscope does,
    and the modules that read case findings (tests/support/diagnosed.py's READERS) together as one unit, so that
    one worker diagnoses each case once. A module is one message to a worker and one entry in the scheduler's
    books; `--dist loadgroup` made every test outside a group a unit of its own (~5,000 messages, and books
    re-counted on every report: ~4 s of the controller's CPU on a 2-core machine the workers need)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesWithTheReadersTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "case findings" if nodeid.split("::", 1)[0] in READERS else super()._split_scope(nodeid)

    return ModulesWithTheReadersTogether(config, log)
