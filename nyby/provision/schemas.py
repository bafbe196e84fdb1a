from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from nyby.configuration.schemas import KEY_PATTERN
from nyby.geo import AREA_RESOLUTION
from nyby.provision.services import MAX_DAYS, MIN_RESOLUTION, STATES

# Dates a period may name: anything else is a typo (and past year 9999, an overflow).
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


class NeedProvisionQuerySchema(ma.Schema):
    """What to map: a period of posting (default: the last month), a role, a resolution."""

    class Meta:
        unknown = ma.RAISE

    start = ma.fields.Date(
        data_key="from",
        validate=ma.validate.Range(min=EARLIEST, max=LATEST),
        metadata={"description": "Tasks posted on or after this day (local)"},
    )
    end = ma.fields.Date(
        data_key="to",
        validate=ma.validate.Range(min=EARLIEST, max=LATEST),
        metadata={"description": "Tasks posted on or before this day (local)"},
    )
    role = ma.fields.String(
        validate=ma.validate.Regexp(KEY_PATTERN),
        metadata={"description": "A travelling role's key; default: every travelling role"},
    )
    resolution = ma.fields.Integer(
        strict=False,
        validate=ma.validate.Range(min=MIN_RESOLUTION, max=AREA_RESOLUTION),
        metadata={
            "description": f"H3 resolution, {MIN_RESOLUTION} (large areas) to "
            f"{AREA_RESOLUTION} (about 2.4 km across); default: the tenant's setting"
        },
    )

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("Must not be before the start.", "to")
        if start is not None and end is not None and (end - start).days > MAX_DAYS:
            raise ma.ValidationError("Choose a period of at most a year.", "to")


class TotalsSchema(ma.Schema):
    posted = ma.fields.Integer(required=True)
    unmet = ma.fields.Integer(required=True)
    people = ma.fields.Integer(required=True)
    areas_with_need = ma.fields.Integer(required=True)
    areas_without_provision = ma.fields.Integer(required=True)


class SummarySchema(ma.Schema):
    start = ma.fields.Date(data_key="from", required=True)
    end = ma.fields.Date(data_key="to", required=True)
    resolution = ma.fields.Integer(required=True)
    across_km = ma.fields.Float(required=True, metadata={"description": "An area's width"})
    role = ma.fields.String(allow_none=True, required=True)
    provision_as_of = ma.fields.DateTime(
        required=True, metadata={"description": "When the people on duty were counted"}
    )
    totals = ma.fields.Nested(TotalsSchema, required=True)


class AreaSchema(ma.Schema):
    cell = ma.fields.String(required=True, metadata={"description": "H3 cell id"})
    resolution = ma.fields.Integer(required=True)
    latitude = ma.fields.Float(required=True, metadata={"description": "The area's centre"})
    longitude = ma.fields.Float(required=True)
    posted = ma.fields.Integer(required=True, metadata={"description": "Tasks posted"})
    unmet = ma.fields.Integer(
        required=True,
        metadata={"description": "Expired, closed as unmet, or still open past due"},
    )
    people = ma.fields.Integer(
        required=True, metadata={"description": "On duty now, qualified, living here"}
    )
    people_nearby = ma.fields.Integer(
        required=True, metadata={"description": "The same, living in the neighbouring areas"}
    )
    state = ma.fields.String(required=True, metadata={"enum": list(STATES)})
    need_without_provision = ma.fields.Boolean(required=True)


class NeedProvisionTableSchema(SummarySchema):
    areas = ma.fields.List(
        ma.fields.Nested(AreaSchema),
        required=True,
        metadata={"description": "Need and no provision first, then the most unmet"},
    )


class PolygonSchema(ma.Schema):
    type = ma.fields.String(required=True, metadata={"enum": ["Polygon"]})
    coordinates = ma.fields.List(
        ma.fields.List(ma.fields.List(ma.fields.Float())),
        required=True,
        metadata={"description": "One closed ring of [longitude, latitude]"},
    )


class FeatureSchema(ma.Schema):
    type = ma.fields.String(required=True, metadata={"enum": ["Feature"]})
    id = ma.fields.String(required=True)
    geometry = ma.fields.Nested(PolygonSchema, required=True)
    properties = ma.fields.Nested(AreaSchema, required=True)


class FeatureCollectionSchema(ma.Schema):
    type = ma.fields.String(required=True, metadata={"enum": ["FeatureCollection"]})
    properties = ma.fields.Nested(SummarySchema, required=True)
    features = ma.fields.List(ma.fields.Nested(FeatureSchema), required=True)
