"""The audit log of coordinators' and admins' actions (built by the audit log's own work; a no-op here)."""


def record_action(session, user, kind, target, before, after, networks):
    """Record that ``user`` did ``kind`` to ``target`` (values ``before`` and ``after``), within ``networks``
    (the ids of the curating networks concerned). A no-op until the audit log exists."""
