"""JSON bodies nested without end are refused with a 400, never a RecursionError 500."""
from __future__ import annotations

import pytest

from bookingapp.core.json_depth import MAX_JSON_DEPTH, nesting_depth
from bookingapp.services.accounts import create_api_token
from bookingapp.extensions import db

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def bearer(app):
    return {"Authorization": f"Bearer {create_api_token(db.session, 'tests')}"}


@pytest.mark.parametrize("method, path, staff", [
    ("post", "/api/bookings", False),
    ("post", "/api/games", True),
    ("patch", "/api/games/{id}", True),
])
def test_a_body_of_100000_brackets_answers_400_too_deep(app, bearer, make_game, method, path, staff):
    client = app.test_client()
    path = path.format(id=make_game().id)
    response = getattr(client, method)(
        path, data=DEEP, content_type="application/json", headers=bearer if staff else {}
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert response.get_json()["error"]["code"] == "too_deep"


def test_an_object_nested_just_past_the_bound_is_refused_and_at_it_is_read(app):
    client = app.test_client()
    at_bound = '{"a":' * (MAX_JSON_DEPTH - 1) + "{}" + "}" * (MAX_JSON_DEPTH - 1)
    too_deep = "[" + at_bound + "]"
    refused = client.post("/api/bookings", data=too_deep, content_type="application/json")
    assert refused.status_code == 400
    read = client.post("/api/bookings", data=at_bound, content_type="application/json")
    assert read.status_code == 422  # read, then judged: it is not a booking


@pytest.mark.parametrize("text, depth", [
    ("{}", 1),
    ('{"a": [1, {"b": []}]}', 4),
    ('{"a": "[[[[[[["}', 1),
    ('{"a": "\\"[[[["}', 1),
    ('"[[[["', 0),
    ("[[[", 3),
])
def test_nesting_depth_skips_brackets_inside_strings(text, depth):
    assert nesting_depth(text) == depth
