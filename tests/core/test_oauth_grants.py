"""The grant registry (core/oauth/grants): every registered grant is one a client can be
given, by its name or its short alias, and nothing else is accepted."""

from __future__ import annotations

import pytest

from gatepass.core.errors import InvalidRequest
from gatepass.core.oauth import GRANT_ALIASES, GRANT_TYPES, GRANTS, validate_grant_types


def test_the_registry_is_keyed_by_each_grants_own_type() -> None:
    assert list(GRANTS) == list(GRANT_TYPES)
    for grant_type, grant in GRANTS.items():
        assert grant.grant_type == grant_type


@pytest.mark.parametrize("grant_type", GRANT_TYPES)
def test_every_registered_grant_can_be_given_to_a_client(grant_type: str) -> None:
    assert validate_grant_types([grant_type]) == frozenset({grant_type})


@pytest.mark.parametrize(("alias", "grant_type"), sorted(GRANT_ALIASES.items()))
def test_aliases_name_their_grant(alias: str, grant_type: str) -> None:
    assert grant_type in GRANTS
    assert validate_grant_types([f" {alias} "]) == frozenset({grant_type})


def test_an_unregistered_grant_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidRequest) as refused:
        validate_grant_types(["client_credentials", "implicit"])
    assert refused.value.description == (
        "unknown grant type(s) implicit; choose from authorization_code, client_credentials, "
        "password, refresh_token, token-exchange, jwt-bearer"
    )


def test_none_alone_means_no_grant() -> None:
    assert validate_grant_types(["none"]) == frozenset()
