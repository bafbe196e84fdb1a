"""The one vocabulary of roles and actions that every access helper decides on."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    PROFESSIONAL = "professional"
    STAFF = "staff"
    VOLUNTEER = "volunteer"


class Action(StrEnum):
    VIEW_TENANT = "view_tenant"
    VIEW_CONFIGURATION = "view_configuration"
    CHANGE_CONFIGURATION = "change_configuration"
    VIEW_MEMBERS = "view_members"
    CHANGE_MEMBERS = "change_members"
    VIEW_CLIENTS = "view_clients"
    CHANGE_CLIENTS = "change_clients"
    POST_TASKS = "post_tasks"
    VIEW_ALL_TASKS = "view_all_tasks"
    TAKE_TASKS = "take_tasks"
    VERIFY_VOLUNTEERS = "verify_volunteers"
    MANAGE_CAMPAIGNS = "manage_campaigns"
    HANDLE_ESCALATIONS = "handle_escalations"
    VIEW_AUDIT = "view_audit"
    JOIN_TASK_CHATS = "join_task_chats"
    RAISE_CONCERNS = "raise_concerns"
    CLAIM_EXPENSES = "claim_expenses"
    DECIDE_EXPENSES = "decide_expenses"
    SEND_THANKS = "send_thanks"
    VIEW_NEED_PROVISION = "view_need_provision"
    EXPORT_DATA = "export_data"
    VIEW_REPORTS = "view_reports"


ALL_ROLES = frozenset(Role)
CARE_TEAM = frozenset({Role.ADMIN, Role.COORDINATOR, Role.PROFESSIONAL})

# Who may do what. A domain adds its actions here, so the whole policy reads in one place.
RULES: dict[Action, frozenset[Role]] = {
    Action.VIEW_TENANT: ALL_ROLES,
    Action.VIEW_CONFIGURATION: ALL_ROLES,
    Action.CHANGE_CONFIGURATION: frozenset({Role.ADMIN}),
    Action.VIEW_MEMBERS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Action.CHANGE_MEMBERS: frozenset({Role.ADMIN}),
    # Client records are for the people who care for them; volunteers see only what a
    # task they hold needs, through the task.
    Action.VIEW_CLIENTS: CARE_TEAM,
    Action.CHANGE_CLIENTS: CARE_TEAM,
    Action.POST_TASKS: CARE_TEAM,
    Action.VIEW_ALL_TASKS: CARE_TEAM,
    # Whether they may take a given task is then decided by onboarding.qualification.
    Action.TAKE_TASKS: frozenset({Role.VOLUNTEER, Role.STAFF}),
    # Approving people into roles and recording their checks.
    Action.VERIFY_VOLUNTEERS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    # Recruitment campaigns and their funnels (reading them: VIEW_MEMBERS or VERIFY_VOLUNTEERS).
    Action.MANAGE_CAMPAIGNS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    # Push tasks nobody took after the last wave of offers (nyby.dispatch).
    Action.HANDLE_ESCALATIONS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    # The audit trail holds every change and every read of a client record (nyby.audit).
    Action.VIEW_AUDIT: frozenset({Role.ADMIN}),
    # Every task's chat (nyby.chat); its holder and poster take part in their own.
    Action.JOIN_TASK_CHATS: frozenset({Role.COORDINATOR}),
    # Anyone may raise a safeguarding concern; only the tenant's safeguarding leads (a
    # membership flag, not a role: nyby.safeguarding.access) read and handle them.
    Action.RAISE_CONCERNS: ALL_ROLES,
    # Out-of-pocket costs of a task the person holds or held (nyby.expenses).
    Action.CLAIM_EXPENSES: frozenset({Role.VOLUNTEER, Role.STAFF}),
    Action.DECIDE_EXPENSES: frozenset({Role.ADMIN, Role.COORDINATOR}),
    # A thumbs-up to a volunteer (nyby.feedback).
    Action.SEND_THANKS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    # Where tasks go unmet against who is on duty, by area (nyby.provision).
    Action.VIEW_NEED_PROVISION: frozenset({Role.ADMIN, Role.COORDINATOR}),
    # Whole-tenant CSV files of tasks, volunteers and metrics, made by a job (nyby.exports).
    Action.EXPORT_DATA: frozenset({Role.ADMIN}),
    # The dashboard, its metrics and success criteria (nyby.reporting); changing the
    # criteria is CHANGE_CONFIGURATION, as they are part of the tenant file.
    Action.VIEW_REPORTS: frozenset({Role.ADMIN, Role.COORDINATOR}),
}


def allows(roles: frozenset[Role], action: Action) -> bool:
    return bool(roles & RULES[action])
