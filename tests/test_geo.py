"""The area cells a search reads cover its whole circle, anywhere on Earth."""

from __future__ import annotations

import math
import random

import pytest

from nyby.geo import Place, area_cells_within, distance_km


def point_at(origin: Place, km: float, bearing: float) -> Place:
    north = km * math.cos(bearing) / 111.195
    east = km * math.sin(bearing) / (111.195 * math.cos(math.radians(origin.latitude)))
    return Place(origin.latitude + north, origin.longitude + east)


@pytest.mark.parametrize("radius_km", [0.1, 1.0, 5.0, 20.0, 50.0])
def test_every_point_within_the_radius_lies_in_a_listed_cell(radius_km: float) -> None:
    rng = random.Random(radius_km)
    for _ in range(150):
        origin = Place(rng.uniform(-80, 80), rng.uniform(-180, 180))
        cells = area_cells_within(origin, radius_km)
        for _ in range(40):
            # half on the very edge of the circle, where a missing cell would show
            km = radius_km * (0.9999 if rng.random() < 0.5 else math.sqrt(rng.random()))
            point = point_at(origin, km, rng.uniform(0, 2 * math.pi))
            if distance_km(origin, point) <= radius_km:
                assert point.area_cell in cells, (origin, point)


def test_only_cells_that_reach_the_circle_are_read() -> None:
    leicester = Place(52.6364, -1.1334)
    cells = area_cells_within(leicester, 5.0)
    # The hexagonal disk of rings around it has 61; half of them lie outside the circle.
    assert 25 <= len(cells) <= 35
