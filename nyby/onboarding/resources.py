from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.core.pipeline import accepts_files
from nyby.members.access import get_member_or_404
from nyby.members.models import Membership
from nyby.onboarding import checks, passport, services, signup
from nyby.onboarding.access import get_check_record_or_404, get_check_type_or_404
from nyby.onboarding.models import PassportCheck
from nyby.onboarding.schemas import (
    ApplicantSchema,
    ApprovalTimesSchema,
    CheckOutcomeSchema,
    EvidenceSchema,
    EvidenceUploadSchema,
    GuardianConsentSchema,
    MyCheckSchema,
    PassportCheckSchema,
    PassportConsentSchema,
    PassportDecisionSchema,
    PassportSharedSchema,
    PassportShareSchema,
    QualificationsSchema,
    RoleDecisionSchema,
    SignUpResultSchema,
    SignUpSchema,
    TokenSchema,
    TrainingAnswersSchema,
    TrainingModuleSchema,
    TrainingResultSchema,
    VerificationSentSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor, public, public_tenant

blp = Blueprint(
    "onboarding",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Roles and checks: who may take which tasks.",
)


@blp.route("/members/<uuid:member_id>/qualifications")
class Qualifications(MethodView):
    @blp.response(200, QualificationsSchema)
    def get(self, member_id: uuid.UUID) -> dict[str, Any]:
        """A member's roles and checks, and what is missing for each role (coordinators,
        and the member themself)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VIEW_MEMBERS)
        return services.qualifications(actor, member)


@blp.route("/members/<uuid:member_id>/role-decisions")
class RoleDecision(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.arguments(RoleDecisionSchema)
    @blp.response(200, QualificationsSchema)
    def post(self, body: dict[str, Any], member_id: uuid.UUID) -> dict[str, Any]:
        """Approve, reject or suspend a member in a role (coordinators)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        services.decide_role(
            actor, member, body["role"], body["status"], body["reason"], body["version"]
        )
        return services.qualifications(actor, member)


@blp.route("/members/<uuid:member_id>/check-outcomes")
class CheckOutcome(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.arguments(CheckOutcomeSchema)
    @blp.response(200, QualificationsSchema)
    def post(self, body: dict[str, Any], member_id: uuid.UUID) -> dict[str, Any]:
        """Record a check as verified (with its expiry) or rejected (coordinators)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        services.record_check(
            actor,
            member,
            body["check_type"],
            body["status"],
            body.get("expires_at"),
            body["reason"],
            body["version"],
        )
        return services.qualifications(actor, member)


# -- checks with evidence, training, the approval queue (onboarding.checks) ------------------


@blp.route("/me/checks")
class MyChecks(MethodView):
    @blp.response(200, MyCheckSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Each check my roles need (applied for, held or paused): its status, why it was
        rejected, its expiry, the evidence it wants and whether a module passes it online."""
        return checks.my_checks(current_actor())


@blp.route("/me/checks/<uuid:check_type_id>/evidence")
@accepts_files
class MyCheckEvidence(MethodView):
    @blp.arguments(EvidenceUploadSchema, location="upload")
    @blp.response(200, MyCheckSchema)
    @blp.alt_response(403, description="None of my roles needs this check")
    @blp.alt_response(409, description="Verified and not yet due for renewal")
    @blp.alt_response(413, description="The file is larger than the limit")
    def post(self, body: dict[str, Any], check_type_id: uuid.UUID) -> dict[str, Any]:
        """Send evidence for a check (multipart/form-data: ``file`` and/or ``number``; a
        number alone may be JSON). The check then waits for a coordinator; new evidence
        replaces what was sent before. Nothing to send for a check a coordinator records
        (422). Within 30 days of its expiry a verified check can be renewed."""
        actor = current_actor()
        check_type = get_check_type_or_404(actor, check_type_id)
        checks.submit_evidence(actor, check_type, body.get("file"), body.get("number"))
        return checks.my_check(actor, check_type)


@blp.route("/me/checks/<uuid:check_type_id>/training")
class MyCheckTraining(MethodView):
    @blp.response(200, TrainingModuleSchema)
    def get(self, check_type_id: uuid.UUID) -> dict[str, Any]:
        """The check's online training module: introduction and questions, not answers."""
        actor = current_actor()
        return checks.training_module(actor, get_check_type_or_404(actor, check_type_id))

    @blp.arguments(TrainingAnswersSchema)
    @blp.response(200, TrainingResultSchema)
    @blp.alt_response(403, description="None of my roles needs this check")
    @blp.alt_response(409, description="Verified and not yet due for renewal")
    def post(self, body: dict[str, Any], check_type_id: uuid.UUID) -> dict[str, Any]:
        """Answer the module. A pass verifies the check at once (expiring after its
        validity period); otherwise it says how many were right, and I can try again."""
        actor = current_actor()
        check_type = get_check_type_or_404(actor, check_type_id)
        return checks.take_training(actor, check_type, body["answers"])


@blp.route("/checks/<uuid:check_id>/evidence")
class CheckEvidence(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.response(200, EvidenceSchema)
    def get(self, check_id: uuid.UUID) -> dict[str, Any]:
        """The evidence a member sent for a check, with a link that downloads the file for
        the next few minutes (coordinators; the volunteer gets 403: sent is sent)."""
        actor = current_actor()
        return checks.present_evidence(get_check_record_or_404(actor, check_id))


@blp.route("/approval-queue")
class ApprovalQueue(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.response(200, ApplicantSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """Applicants, oldest sign-up first: each role applied for with what is still
        missing, and evidence waiting to be checked (coordinators)."""
        return services.waiting_for_decision(current_actor())


@blp.route("/approval-times")
class ApprovalTimes(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.response(200, ApprovalTimesSchema)
    def get(self) -> dict[str, Any]:
        """Days from sign-up to first approval for members approved in the last 90 days:
        median, 90th percentile and how many (coordinators)."""
        return services.approval_times(current_actor())


# -- sign-up (onboarding.signup) -------------------------------------------------------------


@blp.route("/sign-up")
@public
class SignUp(MethodView):
    @blp.doc(security=[{}, {"bearerAuth": []}])
    @blp.arguments(SignUpSchema)
    @blp.response(201, SignUpResultSchema)
    @blp.alt_response(409, description="The email is registered, or already a member here")
    @blp.alt_response(410, description="The campaign has ended")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Sign up as a volunteer (no login needed). Logged in, only the roles and the
        agreement are needed: the rest comes from the account and the person's other
        membership. Mails a link to confirm the email, and a consent link to a parent
        or guardian of an under-18."""
        tenant = public_tenant()
        signed = signup.sign_up(tenant, g.get("account"), body)
        return signup.describe(tenant, signed)


@blp.route("/sign-up/resend-verification")
class ResendVerification(MethodView):
    @blp.response(202, VerificationSentSchema)
    @blp.alt_response(409, description="The email is already confirmed")
    @blp.alt_response(429, description="A link was sent less than a minute ago")
    def post(self) -> dict[str, Any]:
        """Mail the link that confirms my email address again."""
        return {"sent_to": signup.resend_verification(current_actor())}


@blp.route("/guardian-consent")
@public
class GuardianConsent(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TokenSchema)
    @blp.response(200, GuardianConsentSchema)
    @blp.alt_response(410, description="The link has expired")
    def post(self, body: dict[str, str]) -> Membership:
        """A parent or guardian consents, with the token from the link mailed to them."""
        return signup.give_guardian_consent(public_tenant(), body["token"])


# -- the volunteer passport (onboarding.passport) ------------------------------------


@blp.route("/passport/consents")
class PassportConsents(MethodView):
    @blp.response(200, PassportConsentSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """The tenants I shared my verified checks with from here: when, and whether I
        took it back."""
        return passport.my_consents(current_actor())

    @blp.arguments(PassportShareSchema)
    @blp.response(201, PassportSharedSchema)
    @blp.alt_response(422, description="Not an active member of that tenant")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Share my verified, unexpired checks from here with another tenant I belong to
        (my consent). Sharing again sends them again, refreshed."""
        return passport.share(current_actor(), body["to_tenant"])


@blp.route("/passport/consents/<uuid:consent_id>/revoke")
class PassportConsentRevoke(MethodView):
    @blp.response(200, PassportConsentSchema)
    def post(self, consent_id: uuid.UUID) -> dict[str, Any]:
        """Take my consent back: the other tenant loses the shared checks it has not
        decided on (what it accepted is its own check now). Revoking twice is fine."""
        actor = current_actor()
        return passport.revoke(actor, passport.get_consent_or_404(actor, consent_id))


@blp.route("/members/<uuid:member_id>/passport")
class MemberPassport(MethodView):
    @blp.response(200, PassportCheckSchema(many=True))
    @blp.paginate()
    def get(self, member_id: uuid.UUID) -> Any:
        """Checks another tenant verified and the member shared with this one: who
        verified what and when, and this tenant's decision (coordinators)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        return passport.received(actor, member)


@blp.route("/members/<uuid:member_id>/passport/<uuid:passport_check_id>/decision")
class PassportCheckDecision(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.arguments(PassportDecisionSchema)
    @blp.response(200, PassportCheckSchema)
    @blp.alt_response(409, description="Already decided")
    def post(
        self, body: dict[str, Any], member_id: uuid.UUID, passport_check_id: uuid.UUID
    ) -> PassportCheck:
        """Accept a shared check instead of repeating it (it becomes the member's verified
        check of the given type, with the shared expiry), or decline it."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        shared = passport.get_passport_check_or_404(actor, member, passport_check_id)
        return passport.decide(actor, shared, body["decision"], body.get("check_type"))
