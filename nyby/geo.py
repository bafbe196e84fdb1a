"""Places as latitude/longitude plus H3 cells (DESIGN.md decision 8).

Two resolutions are stored with every place: an area cell (about 1.4 km edge) that
makes "near me" a cheap indexed prefilter before the exact distance, and a street
cell (about 200 m edge) that groups tasks for a street champion. No online geocoder
is needed: callers give coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import h3

AREA_RESOLUTION = 7
STREET_RESOLUTION = 9
EARTH_RADIUS_KM = 6371.0088
# Neighbouring H3 cells differ a little in size and shape: a safety margin.
SHAPE_MARGIN = 0.8


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float

    @property
    def area_cell(self) -> str:
        return str(h3.latlng_to_cell(self.latitude, self.longitude, AREA_RESOLUTION))

    @property
    def street_cell(self) -> str:
        return str(h3.latlng_to_cell(self.latitude, self.longitude, STREET_RESOLUTION))

    def columns(self) -> dict[str, Any]:
        """The four columns every located record (client, task) stores."""
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "area_cell": self.area_cell,
            "street_cell": self.street_cell,
        }


def locate(record: object, place: Place) -> None:
    """Put a client, a task or any located record at this place."""
    for column, value in place.columns().items():
        setattr(record, column, value)


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance (haversine)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlng = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def area_cells_within(place: Place, radius_km: float) -> set[str]:
    """Area cells that cover every point within ``radius_km`` (a superset: then filter exactly).

    Cells are measured where the search is (H3 cell sizes vary across the globe). The
    k-th ring of neighbours lies at least ``1.5 * edge * k`` away, so enough rings cover
    the circle; of those, only cells whose centre is within the radius plus a cell's
    reach (its edge, the hexagon's circumradius, with a margin) can hold a point of
    the circle: about half the disk at 5 km.
    """
    origin = place.area_cell
    edges = [h3.edge_length(edge, "km") for edge in h3.origin_to_directed_edges(origin)]
    rings = math.ceil(radius_km / (1.5 * min(edges) * SHAPE_MARGIN)) + 1
    reach = radius_km + max(edges) / SHAPE_MARGIN
    return {
        str(cell)
        for cell in h3.grid_disk(origin, rings)
        if distance_km(place, Place(*h3.cell_to_latlng(cell))) <= reach
    }
