from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _ecs_as_the_stand_in_models_it():
    """The unit tests are pure: none runs moto, so none needs moto's ECS extended (tests/conftest.py) and
    `make unit` does not pay for importing moto (about a second on a 2-core machine)."""
