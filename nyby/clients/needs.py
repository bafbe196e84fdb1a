"""What a helper should know about a client before they say yes: the need flags, in
words. Never who or where: an offer and a notice carry these, not the name or address."""

from __future__ import annotations

from flask_babel import gettext

from nyby.clients.models import NEED_FLAGS, Client


def need_phrases() -> dict[str, str]:
    """Each need flag as a sentence for a helper, in the reader's language."""
    return {
        "hearing_impairment": gettext("Hard of hearing: knock firmly and speak clearly."),
        "dementia": gettext("Lives with dementia."),
        "mobility_needs": gettext("Moves with difficulty."),
        "pets": gettext("Has pets."),
        "key_safe": gettext("Has a key safe."),
        "lone_working_risk": gettext("Do not visit alone."),
    }


def good_to_know(client: Client | None) -> list[str]:
    """The client's need flags that are set, in ``NEED_FLAGS`` order."""
    if client is None:
        return []
    return [flag for flag in NEED_FLAGS if getattr(client, flag)]


def describe(needs: list[str], language: str | None) -> str:
    """The flags (and the language the client speaks) as sentences, for a message."""
    phrases = need_phrases()
    parts = [phrases[flag] for flag in needs if flag in phrases]
    if language:
        parts.append(gettext("Speaks %(language)s.", language=language))
    return " ".join(parts)
