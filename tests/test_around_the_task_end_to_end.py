"""Issue 4's "Done when", end to end through the HTTP API, as the people would use it, on
one tenant: a nurse posts a task for Edith; Amy takes it and chats with the nurse (Cara,
another volunteer, cannot read it); Amy cannot reach Edith three times, which escalates
the task; a coordinator gives it to Ben; Ben raises a safeguarding concern that only the
lead reads; Ben completes the task and claims his shopping with a receipt photo, which a
coordinator approves and exports; Ben and the nurse leave feedback and both read the
task's timeline; the admin's audit trail shows every step with who did it; and nothing
the application logged on the way names Edith or says where or how to reach her.

Only the cast is set up directly (people, their roles and checks): every step of the
story is an HTTP call."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from nyby.core.db import utcnow
from tests.conftest import Person, World, mails_to, run_jobs
from tests.logscan import LogScan, client_details
from tests.tasking import TASKS, volunteer

API = "/api/v1/tenants/borough"
EDITH = {
    "name": "Edith Marchbanks",
    "phone": "+44 20 7946 0321",
    "email": "edith.marchbanks@example.net",
    "address": "7 Larkspur Close, Upper Dunwell",
    "postcode": "SE15 4QT",
    "latitude": 51.4731,
    "longitude": -0.0689,
}
CONCERN = "She had a black eye and said her grandson takes her pension card each week."


# -- helpers --------------------------------------------------------------------------


def receipt_photo(width: int = 4, height: int = 3) -> bytes:
    """A real PNG (a small photo of a receipt, as far as any decoder can tell): a
    signature, a header, compressed rows of RGB pixels and an end, each chunk with its
    CRC."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + bytes((250, 248, 240)) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def member_id(person: Person) -> str:
    assert person.membership is not None
    return str(person.membership.id)


def ok(response: Any, status: int = 200) -> Any:
    """The response's JSON, once it is known to have the expected status."""
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.json


def say(client: FlaskClient, person: Person, task_id: str, body: str) -> Any:
    return client.post(f"{TASKS}/{task_id}/messages", json={"body": body}, headers=person.headers)


def no_answer(client: FlaskClient, person: Person, task_id: str, method: str) -> Any:
    return client.post(
        f"{TASKS}/{task_id}/contact-attempts",
        json={"method": method, "note": "No answer; curtains drawn"},
        headers=person.headers,
    )


def inbox_kinds(client: FlaskClient, person: Person) -> list[str]:
    return [n["kind"] for n in ok(client.get(f"{API}/notifications", headers=person.headers))]


def trail(client: FlaskClient, admin: Person, **filters: Any) -> list[dict[str, Any]]:
    """The admin's audit trail, newest first."""
    return ok(  # type: ignore[no-any-return]
        client.get(
            f"{API}/audit", query_string={"page_size": 100, **filters}, headers=admin.headers
        )
    )


def changes(entry: dict[str, Any]) -> dict[str, list[Any]]:
    return {c["field"]: [c["before"], c["after"]] for c in entry["changes"]}


def actors(entries: list[dict[str, Any]]) -> list[str]:
    return [e["actor_membership_id"] for e in entries]


# -- the story ------------------------------------------------------------------------


def test_around_the_task_from_the_first_message_to_the_audit_trail(
    app: Flask, client: FlaskClient, world: World, borough: Any, log_scan: LogScan
) -> None:
    admin = world.person(borough, Role.ADMIN)
    nurse = world.person(borough, Role.PROFESSIONAL)
    coordinator = world.person(borough, Role.COORDINATOR)
    lead = world.person(borough, Role.COORDINATOR)
    amy, ben, cara = (volunteer(app, world, borough) for _ in range(3))

    # The admin names the safeguarding lead.
    member_url = f"{API}/members/{member_id(lead)}"
    etag = client.get(member_url, headers=admin.headers).headers["ETag"]
    named = client.patch(
        member_url, json={"is_safeguarding_lead": True}, headers={**admin.headers, "If-Match": etag}
    )
    assert ok(named)["is_safeguarding_lead"] is True

    # The nurse records Edith and posts her weekly shop; Amy takes it and sees where to go.
    edith = ok(client.post(f"{API}/clients", json=EDITH, headers=nurse.headers), 201)
    start = utcnow() + timedelta(hours=1)
    task = ok(
        client.post(
            TASKS,
            json={
                "role": "shopper",
                "client_id": edith["id"],
                "title": "Weekly shop",
                "description": "Bread, milk and tea; she pays by card on delivery.",
                "estimated_minutes": 60,
                "earliest_start": start.isoformat(),
                "due_by": (start + timedelta(days=1)).isoformat(),
            },
            headers=nurse.headers,
        ),
        201,
    )
    task_url = f"{TASKS}/{task['id']}"
    ok(client.post(f"{task_url}/accept", headers=amy.headers))
    held = ok(client.get(task_url, headers=amy.headers))
    assert held["assignee_id"] == member_id(amy)
    assert held["client"]["address"] == EDITH["address"]

    # -- 1. Amy chats with the nurse about the task; Cara cannot read it.
    question = ok(say(client, amy, task["id"], "Is semi-skimmed milk all right?"), 201)
    assert question["author_is"] == "holder" and "email" not in question
    assert ok(client.get(f"{task_url}/chat", headers=nurse.headers))["unread"] == 1
    assert "chat_message" in inbox_kinds(client, nurse)
    [seen] = ok(client.get(f"{task_url}/messages", headers=nurse.headers))
    assert seen["body"] == "Is semi-skimmed milk all right?" and seen["mine"] is False
    ok(say(client, nurse, task["id"], "Yes, and a small loaf please."), 201)
    answers = ok(client.get(f"{task_url}/messages", headers=amy.headers))
    assert [m["body"] for m in answers] == [
        "Yes, and a small loaf please.",
        "Is semi-skimmed milk all right?",
    ]
    for refused in (
        client.get(f"{task_url}/messages", headers=cara.headers),
        client.get(f"{API}/messages/{question['id']}", headers=cara.headers),
        say(client, cara, task["id"], "Can I help?"),
    ):
        assert refused.status_code == 404, refused.json
    # A phone number stays out of the chat: refused, not stored.
    assert say(client, amy, task["id"], "Ring me on 07700 900123").status_code == 422
    assert len(ok(client.get(f"{task_url}/messages", headers=amy.headers))) == 2

    # -- 2. Three failed contacts escalate the task; a coordinator gives it to Ben.
    for method in ("door", "phone"):
        assert ok(no_answer(client, amy, task["id"], method), 201)["escalation_id"] is None
    assert [
        e for e in ok(client.get(f"{API}/escalations", headers=coordinator.headers))
        if e["task"]["id"] == task["id"]
    ] == []  # fmt: skip
    third = ok(no_answer(client, amy, task["id"], "door"), 201)
    assert third["escalation_id"] is not None
    assert "contact_escalated" in inbox_kinds(client, coordinator)
    [escalation] = [
        e for e in ok(client.get(f"{API}/escalations", headers=coordinator.headers))
        if e["task"]["id"] == task["id"]
    ]  # fmt: skip
    assert escalation["id"] == third["escalation_id"]
    assert escalation["reason"] == "failed_contact" and escalation["failed_contacts"] == 3
    escalation_url = f"{API}/escalations/{escalation['id']}"
    history = ok(client.get(escalation_url, headers=coordinator.headers))
    assert [a["method"] for a in history["attempts"]] == ["door", "phone", "door"]
    candidates = ok(client.get(f"{escalation_url}/candidates", headers=coordinator.headers))
    assert member_id(ben) in [c["membership_id"] for c in candidates]
    assert member_id(amy) not in [c["membership_id"] for c in candidates]
    given = ok(
        client.post(
            f"{escalation_url}/reassign",
            json={"membership_id": member_id(ben), "note": "Ben lives on her street"},
            headers=coordinator.headers,
        )
    )
    assert given["status"] == "resolved" and given["resolution"] == "reassigned"
    assert all(
        e["id"] != escalation["id"]
        for e in ok(client.get(f"{API}/escalations", headers=coordinator.headers))
    )
    now_bens = ok(client.get(task_url, headers=ben.headers))
    assert now_bens["status"] == "assigned" and now_bens["assignee_id"] == member_id(ben)
    assert now_bens["client"]["name"] == EDITH["name"]  # the new holder is shown her record
    assert "task_given_to_you" in inbox_kinds(client, ben)
    assert "task_given_to_other" in inbox_kinds(client, amy)
    # Amy no longer holds it: its chat is closed to her; Ben reads what was said.
    assert client.get(f"{task_url}/messages", headers=amy.headers).status_code == 404
    assert len(ok(client.get(f"{task_url}/messages", headers=ben.headers))) == 2

    # -- 3. Ben raises a safeguarding concern: it reaches only the lead.
    concern = ok(
        client.post(
            f"{API}/concerns",
            json={"task_id": task["id"], "category": "financial", "description": CONCERN},
            headers=ben.headers,
        ),
        201,
    )
    assert concern["status"] == "open" and concern["client_id"] == edith["id"]
    concern_url = f"{API}/concerns/{concern['id']}"
    read_by_lead = ok(client.get(concern_url, headers=lead.headers))
    assert read_by_lead["description"] == CONCERN
    assert read_by_lead["client_name"] == EDITH["name"]
    assert [c["id"] for c in ok(client.get(f"{API}/concerns", headers=lead.headers))] == [
        concern["id"]
    ]
    for outsider in (coordinator, admin, nurse, amy):
        assert client.get(concern_url, headers=outsider.headers).status_code == 404
        assert ok(client.get(f"{API}/concerns", headers=outsider.headers)) == []
        assert not any(k.startswith("concern") for k in inbox_kinds(client, outsider))
    # The lead is told at once, in the app and by mail, never in the concern's words.
    [notice] = [
        n
        for n in ok(client.get(f"{API}/notifications", headers=lead.headers))
        if n["kind"] == "concern_raised"
    ]
    assert notice["params"]["link"].endswith(f"/concerns/{concern['id']}")
    assert "pension" not in str(notice) and "black eye" not in str(notice)
    # Nor is it in the task's chat.
    assert all(
        "pension" not in m["body"]
        for m in ok(client.get(f"{task_url}/messages", headers=nurse.headers))
    )

    # -- 4. Ben completes the task and claims the shopping with a receipt photo.
    ok(client.post(f"{task_url}/start", headers=ben.headers))
    done = ok(
        client.post(
            f"{task_url}/complete",
            json={"minutes_spent": 50, "outcome_note": "All delivered, tea made."},
            headers=ben.headers,
        )
    )
    assert done["status"] == "completed"
    photo = receipt_photo()
    claimed = ok(
        client.post(
            f"{task_url}/expenses",
            data={
                "category": "shopping",
                "amount": "18.60",
                "description": "Groceries from the list",
                "receipt": (io.BytesIO(photo), "receipt.png", "image/png"),
            },
            headers=ben.headers,
            content_type="multipart/form-data",
        ),
        201,
    )
    assert claimed["status"] == "claimed" and claimed["has_receipt"] is True
    assert claimed["amount"] == "18.60" and claimed["currency"] == "GBP"
    claim_url = f"{API}/expenses/{claimed['id']}"
    queue = ok(
        client.get(
            f"{API}/expenses", query_string={"status": "claimed"}, headers=coordinator.headers
        )
    )
    assert [c["id"] for c in queue] == [claimed["id"]]
    link = ok(client.get(f"{claim_url}/receipt", headers=coordinator.headers))
    assert link["content_type"] == "image/png"
    assert client.get(link["download_url"]).data == photo
    # Ben cannot approve his own claim; the coordinator does.
    assert client.post(f"{claim_url}/approve", headers=ben.headers).status_code == 403
    approved = ok(client.post(f"{claim_url}/approve", headers=coordinator.headers))
    assert approved["status"] == "approved" and approved["decided_by"] == member_id(coordinator)
    assert "expense_approved" in inbox_kinds(client, ben)
    today = utcnow().date()
    export = client.get(
        f"{API}/expenses/export",
        query_string={"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))},
        headers=coordinator.headers,
    )
    assert export.status_code == 200 and export.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(export.text)))
    assert row["claim_id"] == claimed["id"] and row["task_id"] == task["id"]
    assert row["volunteer_member_id"] == member_id(ben)
    assert (row["category"], row["amount"], row["currency"]) == ("shopping", "18.60", "GBP")
    assert row["receipt"] == "yes" and row["description"] == "Groceries from the list"
    assert row["approved_by"] == coordinator.account.name
    assert not any(detail in export.text for detail in client_details(EDITH))

    # -- 5. Both sides leave feedback, and both read the task's timeline.
    from_ben = ok(
        client.post(
            f"{task_url}/feedback",
            json={"rating": 5, "comment": "Lovely to meet her."},
            headers=ben.headers,
        ),
        201,
    )
    from_nurse = ok(
        client.post(
            f"{task_url}/feedback",
            json={"rating": 4, "comment": "On time and careful."},
            headers=nurse.headers,
        ),
        201,
    )
    assert (from_ben["side"], from_nurse["side"]) == ("volunteer", "poster")
    for person in (ben, nurse):
        timeline = ok(client.get(f"{task_url}/timeline", headers=person.headers))
        assert [e["kind"] for e in timeline] == [
            "posted",
            "accepted",  # Amy took it
            "accepted",  # given to Ben
            "started",
            "completed",
            "feedback",
            "feedback",
        ]
        assert [e["actor_id"] for e in timeline][1:5] == [
            member_id(amy),
            member_id(coordinator),
            member_id(ben),
            member_id(ben),
        ]
        assert timeline[2]["note"] == "Ben lives on her street"
        assert [(e["side"], e["rating"]) for e in timeline[-2:]] == [
            ("volunteer", 5),
            ("poster", 4),
        ]
    # Amy, who no longer holds it, and Cara, who never did, cannot read it.
    for outsider in (amy, cara):
        assert client.get(f"{task_url}/timeline", headers=outsider.headers).status_code == 404

    # -- 6. The admin's audit trail shows each step, with who took it.
    [message_row] = [
        e
        for e in trail(client, admin, object_type="task_message", action="create")
        if e["object_id"] == question["id"]
    ]
    assert message_row["actor_membership_id"] == member_id(amy)
    assert changes(message_row)["task_id"] == [None, task["id"]]
    attempts = trail(client, admin, object_type="contact_attempt", action="create")
    assert len(attempts) == 3 and set(actors(attempts)) == {member_id(amy)}
    assert sorted(changes(a)["method"][1] for a in attempts) == ["door", "door", "phone"]
    opened, resolved = (
        trail(client, admin, object_id=escalation["id"], action=action)
        for action in ("create", "update")
    )
    assert [e["object_type"] for e in opened] == ["escalation"]
    assert changes(opened[0])["reason"] == [None, "failed_contact"]
    assert actors(opened) == [member_id(amy)]  # her third attempt opened it
    assert changes(resolved[0])["resolution"] == [None, "reassigned"]
    assert actors(resolved) == [member_id(coordinator)]
    handed_over = [
        e
        for e in trail(client, admin, object_id=task["id"], action="update")
        if "assignee_id" in changes(e)
    ]
    assert [changes(e)["assignee_id"] for e in handed_over] == [
        [member_id(amy), member_id(ben)],  # newest first: the reassignment
        [None, member_id(amy)],  # Amy taking it
    ]
    assert actors(handed_over) == [member_id(coordinator), member_id(amy)]
    [raised] = trail(client, admin, object_type="safeguarding_concern", action="create")
    assert raised["object_id"] == concern["id"] and raised["actor_membership_id"] == member_id(ben)
    assert changes(raised)["category"] == [None, "financial"]
    # The admin learns that a concern was raised, not what it says: that is the leads'.
    assert "pension" not in str(raised) and "black eye" not in str(raised)
    claim_rows = trail(client, admin, object_type="expense_claim", object_id=claimed["id"])
    assert [e["action"] for e in claim_rows] == ["update", "create"]
    assert actors(claim_rows) == [member_id(coordinator), member_id(ben)]
    assert changes(claim_rows[0])["status"] == ["claimed", "approved"]
    assert changes(claim_rows[1])["amount_minor"] == [None, 1860]
    feedback_rows = trail(client, admin, object_type="task_feedback", action="create")
    assert sorted(actors(feedback_rows)) == sorted([member_id(ben), member_id(nurse)])
    reads = trail(client, admin, object_type="client", object_id=edith["id"], action="read")
    assert {member_id(amy), member_id(ben)} <= set(actors(reads))
    assert all(e["request_id"] for e in reads)
    # Nobody but an admin reads the trail.
    for person in (coordinator, lead, nurse, ben):
        assert client.get(f"{API}/audit", headers=person.headers).status_code == 403

    # -- 7. The lead's mail went out, without the concern's words, and nothing that was
    # logged on the way (requests, SQL, jobs, mail) names Edith or says how to reach her.
    run_jobs(app)
    bodies = [m.get_body(("plain",)).get_content() for m in mails_to(app, lead.account.email)]
    [text] = [body for body in bodies if concern["id"] in body]
    assert "pension" not in text and "black eye" not in text
    assert log_scan.lines, "nothing was captured: the scan would prove nothing"
    assert any(task["id"] in line for line in log_scan.lines)
    log_scan.assert_free_of(*client_details(EDITH))
