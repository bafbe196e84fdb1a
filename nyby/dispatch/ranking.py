"""The match score: who is asked first. A pure function over plain numbers, so it can be
read, tested and simulated without a database.

    score = w_distance   * distance      (1 at the task's door .. 0 at the wave's radius;
                                          0 for everyone on a remote role: not a factor)
          + w_continuity * continuity    (1 if they completed a task for this client)
          + w_fairness   * fairness      (1 / (1 + offers and tasks in the last 7 days))
          + w_language   * language      (1 if they speak the client's language; 0 if
                                          not, or if the client has none to match)
          + w_response   * response      ((answered + 1) / (offers closed + 2): a
                                          newcomer starts at 1/2, not at 0 or 1)
          + PREFERRED_ROLE_BONUS         (if the task's role is one they prefer)

Every term lies in [0, 1], so a tenant's weights say directly what counts how much. The
default weights (``DispatchWeightsSchema``) give fairness the most: NHS Volunteer
Responders' volunteers drifted away when they were never asked, so someone a little
further away who has not been asked this week goes before the busy neighbour. Ties are
broken by the caller on the membership id, so a wave is the same every time it is run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# A small nudge: it decides between near-equals, it does not beat a real difference.
PREFERRED_ROLE_BONUS = 0.1
# Terms of the score, as the tenant's dispatch policy names their weights.
TERMS = ("distance", "continuity", "fairness", "language", "response")


@dataclass(frozen=True)
class Candidate:
    """What the score knows about one person for one task."""

    distance_km: float | None  # None: a remote role, where distance plays no part
    radius_km: float  # the wave's radius: the distance term reaches 0 there
    helped_client: bool
    recent_load: int  # offers received plus tasks taken in the last 7 days
    speaks_client_language: bool
    offers_answered: int  # accepted or declined
    offers_closed: int  # answered, plus those that expired unanswered
    prefers_role: bool


def terms(candidate: Candidate) -> dict[str, float]:
    """Each term of the score, between 0 and 1."""
    distance = 0.0
    if candidate.distance_km is not None and candidate.radius_km > 0:
        distance = max(0.0, 1.0 - candidate.distance_km / candidate.radius_km)
    return {
        "distance": distance,
        "continuity": 1.0 if candidate.helped_client else 0.0,
        "fairness": 1.0 / (1 + max(0, candidate.recent_load)),
        "language": 1.0 if candidate.speaks_client_language else 0.0,
        "response": (candidate.offers_answered + 1) / (candidate.offers_closed + 2),
    }


def score(candidate: Candidate, weights: Mapping[str, float]) -> float:
    """The weighted sum of ``terms`` plus the preferred-role bonus (higher is asked first)."""
    parts = terms(candidate)
    total = sum(weights.get(name, 0.0) * parts[name] for name in TERMS)
    if candidate.prefers_role:
        total += PREFERRED_ROLE_BONUS
    return round(total, 6)
