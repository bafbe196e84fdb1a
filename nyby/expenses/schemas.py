from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload

from nyby.expenses.models import ClaimStatus, ExpenseCategory

CATEGORIES = [category.value for category in ExpenseCategory]
STATUSES = [status.value for status in ClaimStatus]


class Amount(ma.fields.Decimal):
    """A decimal typed by a person: "12.50", or "12,50" from a Norwegian keyboard. Exact
    (never a float), positive, with at most ``decimals`` places."""

    def __init__(self, decimals: int, **kwargs: Any) -> None:
        pattern = rf"^\d+([.,]\d{{1,{decimals}}})?$"
        kwargs["metadata"] = {"type": "string", "pattern": pattern, **kwargs.get("metadata", {})}
        super().__init__(as_string=True, allow_nan=False, **kwargs)
        self.decimals = decimals

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        if isinstance(value, bool):
            raise self.make_error("invalid")
        amount: Decimal = super()._deserialize(value, attr, data, **kwargs)
        if amount != amount.quantize(Decimal(1).scaleb(-self.decimals)):
            raise ma.ValidationError(f"Use at most {self.decimals} decimal places.")
        if not Decimal("0.01") <= amount <= Decimal("1000000"):
            raise ma.ValidationError("Must be more than 0 and at most 1000000.")
        return amount


class ClaimCreateSchema(ma.Schema):
    """multipart/form-data (with a receipt) or JSON (without). Mileage gives the
    distance; every other category the amount paid."""

    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))
    amount = Amount(2, metadata={"description": "Paid, in the tenant's currency (not mileage)"})
    distance_km = Amount(1, metadata={"description": "Mileage only: km driven for the task"})
    currency = ma.fields.String(
        validate=ma.validate.Length(equal=3),
        metadata={"description": "Default, and the only one accepted: the tenant's currency"},
    )
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    receipt = Upload(
        metadata={
            "description": "A JPEG or PNG photo, or a PDF, of at most MAX_UPLOAD_BYTES; the "
            "type is read from the content. Needed for shopping; none for mileage."
        }
    )

    @ma.validates_schema
    def _amount_or_distance(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("category") == ExpenseCategory.MILEAGE:
            if "distance_km" not in data:
                raise ma.ValidationError("Give the distance driven.", "distance_km")
            if "amount" in data:
                raise ma.ValidationError("Mileage is worked out from the distance.", "amount")
        elif data.get("category") is not None:
            if "amount" not in data:
                raise ma.ValidationError("Give the amount paid.", "amount")
            if "distance_km" in data:
                raise ma.ValidationError("Only mileage takes a distance.", "distance_km")


class ClaimSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    task_title = ma.fields.String(required=True)
    claimant_id = ma.fields.UUID(required=True, metadata={"description": "Membership id"})
    claimant_name = ma.fields.String(required=True)
    category = ma.fields.String(required=True, metadata={"enum": CATEGORIES})
    description = ma.fields.String(required=True)
    amount = ma.fields.Decimal(as_string=True, required=True, metadata={"example": "12.50"})
    currency = ma.fields.String(required=True, metadata={"example": "GBP"})
    distance_km = ma.fields.Decimal(as_string=True, allow_none=True)
    rate_per_km = ma.fields.String(allow_none=True, metadata={"description": "Mileage only"})
    has_receipt = ma.fields.Boolean(required=True)
    receipt_file_name = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    decided_by = ma.fields.UUID(allow_none=True)
    decided_by_name = ma.fields.String(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decision_reason = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class ClaimQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    task_id = ma.fields.UUID()


class RejectionSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class ReceiptLinkSchema(ma.Schema):
    file_name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size_bytes = ma.fields.Integer(required=True)
    download_url = ma.fields.String(
        required=True,
        metadata={"description": "Downloads the receipt until download_expires_at only"},
    )
    download_expires_at = ma.fields.AwareDateTime(required=True)


class ExportQuerySchema(ma.Schema):
    start = ma.fields.Date(
        data_key="from", metadata={"description": "Approved on or after this day (local)"}
    )
    end = ma.fields.Date(
        data_key="to", metadata={"description": "Approved on or before this day (local)"}
    )

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("Must not be before the start.", "to")
