"""Client records: the care team keeps them; nobody else reads them."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from nyby.geo import STREET_RESOLUTION, Place
from tests.conftest import Person, World

URL = "/api/v1/tenants/borough/clients"
EDITH = {
    "name": "Edith Clark",
    "phone": "+44 20 7946 0000",
    "address": "12 Example Road",
    "postcode": "SW1A 1AA",
    "latitude": 51.5014,
    "longitude": -0.1419,
    "hearing_impairment": True,
    "key_safe": True,
    "risk_assessment": "Lives alone; uses a walking frame. Knock loudly and wait.",
    "consent_given": True,
    "consent_note": "Agreed on the phone with her daughter present.",
}


@pytest.fixture
def borough(world: World) -> Any:
    return world.tenant("borough")


@pytest.fixture
def nurse(world: World, borough: Any) -> Person:
    return world.person(borough, Role.PROFESSIONAL)


def _create(client: FlaskClient, person: Person, **changes: Any) -> Any:
    return client.post(URL, json={**EDITH, **changes}, headers=person.headers)


def test_a_professional_records_a_client_and_is_responsible_for_them(
    client: FlaskClient, nurse: Person
) -> None:
    created = _create(client, nurse)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["status"] == "active" and body["hearing_impairment"] is True
    assert nurse.membership is not None
    assert body["professionals"] == [str(nurse.membership.id)]
    assert body["consent_given_at"] and body["consent_recorded_by"] == str(nurse.membership.id)
    detail = client.get(f"{URL}/{body['id']}", headers=nurse.headers)
    assert detail.status_code == 200 and detail.json == body
    listed = client.get(f"{URL}?name=clar", headers=nurse.headers)
    assert [c["id"] for c in listed.json] == [body["id"]]
    assert client.get(f"{URL}?name=nobody", headers=nurse.headers).json == []


def test_places_get_area_and_street_cells() -> None:
    place = Place(EDITH["latitude"], EDITH["longitude"])
    assert len(place.street_cell) == 15 and place.street_cell != place.area_cell
    import h3

    assert h3.get_resolution(place.street_cell) == STREET_RESOLUTION
    assert h3.cell_to_parent(place.street_cell, 7) == place.area_cell


def test_volunteers_and_staff_never_read_client_records(
    client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    edith = _create(client, nurse).json
    for role in (Role.VOLUNTEER, Role.STAFF):
        person = world.person(borough, role)
        assert client.get(URL, headers=person.headers).status_code == 403
        missing = client.get(f"{URL}/{edith['id']}", headers=person.headers)
        assert missing.status_code == 404 and "Edith" not in missing.get_data(as_text=True)
        assert _create(client, person).status_code == 403


def test_bad_client_input_is_a_clear_422_and_writes_nothing(
    client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    volunteer = world.person(borough, Role.VOLUNTEER)
    outsider = world.person(world.tenant("kommune"), Role.PROFESSIONAL)
    assert volunteer.membership is not None and outsider.membership is not None
    for changes, field in (
        ({"latitude": 91}, "latitude"),
        ({"longitude": -181}, "longitude"),
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"tenant_id": "x"}, "tenant_id"),
        ({"status": "ended"}, "status"),
        ({"professionals": [str(volunteer.membership.id)]}, "professionals"),
        ({"professionals": [str(outsider.membership.id)]}, "professionals"),
    ):
        response = _create(client, nurse, **changes)
        assert response.status_code == 422, changes
        assert field in str(response.json["errors"]), (field, response.json)
    only_one = {k: v for k, v in EDITH.items() if k != "longitude"}
    assert client.post(URL, json=only_one, headers=nurse.headers).status_code == 422
    assert client.get(URL, headers=nurse.headers).json == []


def test_pausing_or_ending_support_needs_a_reason_and_an_etag(
    client: FlaskClient, nurse: Person
) -> None:
    edith = _create(client, nurse).json
    url = f"{URL}/{edith['id']}"
    etag = client.get(url, headers=nurse.headers).headers["ETag"]
    headers = {**nurse.headers, "If-Match": etag}
    no_reason = client.patch(url, json={"status": "ended"}, headers=headers)
    assert no_reason.status_code == 422 and "status_reason" in no_reason.json["errors"]
    ended = client.patch(
        url, json={"status": "ended", "status_reason": "Moved into a care home."}, headers=headers
    )
    assert ended.status_code == 200 and ended.json["status"] == "ended"
    stale = client.patch(url, json={"pets": True}, headers=headers)
    assert stale.status_code == 412
    assert client.get(f"{URL}?status=active", headers=nurse.headers).json == []


def test_responsible_professionals_can_change(
    client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    colleague = world.person(borough, Role.PROFESSIONAL)
    assert colleague.membership is not None and nurse.membership is not None
    edith = _create(client, nurse).json
    url = f"{URL}/{edith['id']}"
    etag = client.get(url, headers=nurse.headers).headers["ETag"]
    both = [str(nurse.membership.id), str(colleague.membership.id)]
    changed = client.patch(
        url, json={"professionals": both}, headers={**nurse.headers, "If-Match": etag}
    )
    assert changed.status_code == 200 and sorted(changed.json["professionals"]) == sorted(both)
    assert changed.headers["ETag"] != etag
