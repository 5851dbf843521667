"""shared.aws.new_botocore_session: its data loader tests that a service exists without listing every
service (a cold start's slowest step of the first client), answers as botocore's own loader does,
and decodes model files into plain dicts (the same data, in the same order)."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.session import Session

from shared.aws import new_botocore_session

TYPES = ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2")


@pytest.mark.parametrize("type_name", TYPES)
def test_every_service_botocore_lists_is_known_and_nothing_else(type_name: str) -> None:
    stock = Session().get_component("data_loader").list_available_services(type_name)
    known = new_botocore_session().get_component("data_loader").list_available_services(type_name)
    assert all(name in known for name in stock)
    everything = set(Session().get_available_services())
    others = sorted(everything - set(stock))  # services without a model of this type (waiters, paginators)
    assert not any(name in known for name in others)
    for name in ("nosuchservice", "", ".", "..", "../ecs", "ecs/2014-11-13", "ECS", None, 7):
        assert name not in known
    assert list(known) == stock and len(known) == len(stock) and known == stock  # the list, when read


def test_available_services_and_an_unknown_service_as_botocore_says() -> None:
    session = new_botocore_session()
    assert session.get_available_services() == Session().get_available_services()
    with pytest.raises(UnknownServiceError) as ours:
        session.create_client("nosuchservice", region_name="us-east-1")
    with pytest.raises(UnknownServiceError) as theirs:
        Session().create_client("nosuchservice", region_name="us-east-1")
    assert str(ours.value) == str(theirs.value)


def test_clients_work_and_aws_data_path_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    client = new_botocore_session().create_client("ecs", region_name="us-east-1", aws_access_key_id="testing",
                                                   aws_secret_access_key="testing")
    assert client.meta.service_model.service_name == "ecs"
    monkeypatch.setenv("AWS_DATA_PATH", f"{tmp_path}{os.pathsep}~/models")
    ours = new_botocore_session().get_component("data_loader").search_paths
    assert ours == Session().get_component("data_loader").search_paths
    assert ours[0] == str(tmp_path)


@pytest.mark.parametrize("service", ("ecs", "logs", "dynamodb", "sns", "secretsmanager", "elbv2", "ec2"))
def test_models_decode_to_plain_dicts_with_botocore_s_data(service: str) -> None:
    ours = new_botocore_session().get_component("data_loader")
    stock = Session().get_component("data_loader")
    for type_name in TYPES:
        try:
            theirs = stock.load_service_model(service, type_name)
        except DataNotFoundError:  # a model type this service has not
            continue
        mine = ours.load_service_model(service, type_name)
        assert type(mine) is dict
        assert mine == theirs

        def keys(value: object) -> object:  # every mapping's keys, in order, all the way down
            if isinstance(value, dict):
                return [(k, keys(v)) for k, v in value.items()]
            if isinstance(value, list):
                return [keys(v) for v in value]
            return None

        assert keys(mine) == keys(theirs)
    assert ours.load_data("endpoints") == stock.load_data("endpoints")
