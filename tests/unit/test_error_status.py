"""Issue 14: one mapping from domain errors to HTTP status, for every door."""

from __future__ import annotations

import inspect

import pytest

from openblotter.domain import errors as domain_errors
from openblotter.domain.errors import InvalidInput, NotFound, OpenBlotterError
from openblotter.web.errors import STATUS, form_status, status_of

KINDS = [
    kind
    for _, kind in inspect.getmembers(domain_errors, inspect.isclass)
    if issubclass(kind, OpenBlotterError) and kind is not OpenBlotterError
]


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_domain_error_has_its_status(kind: type[OpenBlotterError]) -> None:
    assert kind in STATUS
    assert status_of(kind("message")) == STATUS[kind]


def test_a_missing_release_is_a_404_and_a_bad_parameter_a_400_on_every_door() -> None:
    missing = NotFound("Release 2030-Q1 does not exist.", detail={"parameter": "_release"})
    assert status_of(missing) == 404
    assert status_of(InvalidInput("_release twice.", detail={"parameter": "_release"})) == 400


def test_a_page_that_shows_a_problem_beside_its_filters_is_a_400_unless_the_release_is_missing():
    assert form_status(NotFound("There is no column 'precinct'.", detail={"parameter": "x"})) == 400
    assert form_status(NotFound("No release 2030-Q1.", detail={"parameter": "_release"})) == 404
