"""Who holds which volunteer role, and which checks they have passed.

The onboarding issue adds sign-up, evidence and the approval queue on top of these
records; the rule that decides who may take a task (``qualification``) lives here.
"""
