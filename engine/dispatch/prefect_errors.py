"""Prefect's failures said in the project's words: short, one line, never SQL or its values."""

from __future__ import annotations

#: The most of Prefect's reason an error of the handoff repeats.
REASON_LIMIT = 160

#: Where SQLAlchemy's error text turns from the reason to the statement, its values (alert data)
#: and a link; anything on a later line (PostgreSQL's DETAIL, a traceback) goes too.
_REASON_ENDS = ("[SQL:", "[parameters:", "(Background on this error", "\n")


def prefect_reason(error: str) -> str:
    """Prefect's text for a run it did not create, as a short reason safe to log and to answer.

    A locked SQLite database, a deadlock and a timeout are said in the project's words; any
    other reason is kept up to its SQL, parameters or SQLAlchemy link, without the driver's
    ``(sqlite3.OperationalError)`` prefix, on one line and at most `REASON_LIMIT` characters.

    Args:
        error: Prefect's per-run error of a bulk create (often a SQLAlchemy error's text).

    Returns:
        The reason; never SQL text or parameters, which carry alert data.
    """
    head = error
    for end in _REASON_ENDS:
        head = head.split(end, 1)[0]
    lowered = head.lower()
    if "database is locked" in lowered:
        return "the database is busy (SQLite locked)"
    if "deadlock" in lowered:
        return "the database broke a deadlock between writers"
    if "timed out" in lowered or "timeouterror" in lowered or "statement timeout" in lowered:
        return "the database timed out"
    if head.startswith("(") and ") " in head:
        head = head.split(") ", 1)[1]
    reason = " ".join(head.split()) or "no reason given"
    if "operationalerror" in lowered:
        reason = f"the database failed: {reason}"
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 3] + "..."
