"""Data retention (policy §11) in the store: the dry run and the purge that forgets.

What goes, and when (the due dates are pure: ``console.rules.retention``):

- support users' PII (name, e-mail) and their accounts: 90 days after the subscriber's
  contract terminates. The row is deleted, and the same name or address is removed from
  every text it was written in, across all cases (``console.scrub``: titles, notes, plan
  text, war-team member names, time-entry notes, attachment names, every ``by`` field);
- case attachments: 90 days after the case was resolved or closed (counted from the
  latest resolution or closure while it is still resolved or closed: a reopened case
  keeps its attachments), or 90 days after termination, whichever comes first. The
  record goes, and so does the file (``console.attachments.remove_files``).

Cases stay (they are the support record); their events keep their rows.

"Delete or securely dispose": the removed values cannot be read back from the database's
files afterwards. SQLite writes with ``secure_delete`` on (every connection), and the
purge ends with ``wal_checkpoint(TRUNCATE)``, so neither the file nor its ``-wal`` keeps
them. PostgreSQL keeps dead row versions until a VACUUM (FULL: see ``vacuum``): the
purge does it when the login may (the tables' owner), else the owner's
``support-console vacuum`` (nightly from cron) does.

``plan`` is the dry run: read-only. ``purge`` needs the lead role and does everything in
ONE transaction, ending with a ``purge_audit`` row holding counts and ids (user ids,
attachment ids, case ids touched), never names, e-mails or file names. On PostgreSQL the
transaction is one call of the SECURITY DEFINER function ``support_console_purge``
(migration 0010_identity): the history tables are not writable by any login but the
owner's, and the function applies exactly the rules below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, delete, insert, or_, select, text, update

from console.actions import Refused
from console.operators import require
from console.records import (
    Conn,
    case_table,
    escalation_table,
    event_table,
    subscriber_table,
    suspension_lift_table,
    suspension_table,
    time_entry_table,
)
from console.rules.clocks import Event
from console.rules.retention import (
    AttachmentRef,
    PurgePlan,
    UserRef,
    plan_purge,
    resolved_since,
)
from console.rules.timeutil import format_instant, parse_instant
from console.scrub import Scrubber
from console.store.engine import mark_changed
from models import Attachment, NotifyOutbox, PurgeAudit, SupportUser, table_of

A = table_of(Attachment)
U = table_of(SupportUser)
PA = table_of(PurgeAudit)
OUT = table_of(NotifyOutbox)
#: Tables a purge rewrites or deletes from: vacuumed after it on PostgreSQL.
TOUCHED_TABLES = (
    "support_user",
    "attachment",
    "support_case",
    "case_event",
    "time_entry",
    "escalation",
    "subscriber_suspension",
    "suspension_lift",
    "case_state",  # its copy of the title (migration 0011)
    "notify_outbox",
)  # messages quote titles (migration 0013)
#: How far ``--at`` may lie ahead of the clock (a purge removes what is due by now).
AHEAD = 300


@dataclass(slots=True)
class PurgeResult:
    plan: PurgePlan
    audit_id: int | None = None  # None for a dry run
    paths: list[str] = field(default_factory=list)  # attachment files removed from disk
    cases_touched: list[str] = field(default_factory=list)
    text_fields: int = 0  # rows whose text had a purged name or address taken out
    problems: list[str] = field(default_factory=list)  # files or bytes not yet gone, in words


def terminations(conn: Conn, at: int) -> dict[str, int | None]:
    """Subscriber id -> the termination in force at ``at``: the subscriber's own
    ``terminated_at`` or a dated ``terminate`` effective by then (policy §14)."""
    from console.records import load_subscriber_changes

    out = {
        r.id: r.terminated_at
        for r in conn.execute(select(subscriber_table.c.id, subscriber_table.c.terminated_at))
    }
    for sid, changes in load_subscriber_changes(conn).items():
        for effective, facts in sorted(changes, key=lambda c: c[0]):
            if effective <= at and "terminated_at" in facts:
                raw = facts["terminated_at"]
                out[sid] = None if raw is None else parse_instant(raw)
    return out


def plan(conn: Conn, at: int) -> PurgePlan:
    """What a purge at ``at`` would remove (reads only)."""
    terminated = terminations(conn, at)
    users = [
        UserRef(r.id, r.subscriber_id) for r in conn.execute(select(U.c.id, U.c.subscriber_id))
    ]
    atts = [
        AttachmentRef(r.id, r.case_id, r.subscriber_id)
        for r in conn.execute(
            select(A.c.id, A.c.case_id, case_table.c.subscriber_id).join(
                case_table, case_table.c.id == A.c.case_id
            )
        )
    ]
    case_ids = sorted({a.case_id for a in atts})
    resolved: dict[str, int | None] = {}
    for i in range(0, len(case_ids), 900):
        chunk = case_ids[i : i + 900]
        evs: dict[str, list[Event]] = {cid: [] for cid in chunk}
        q = select(
            event_table.c.case_id, event_table.c.at, event_table.c.kind, event_table.c.id
        ).where(
            event_table.c.case_id.in_(chunk),
            event_table.c.kind.in_(("resolved", "closed", "reopened")),
        )
        for r in conn.execute(q):
            evs[r.case_id].append(Event(at=r.at, kind=r.kind, seq=r.id))
        resolved.update({cid: resolved_since(v, at) for cid, v in evs.items()})
    return plan_purge(at, terminated, users, atts, resolved)


def plan_json(p: PurgePlan, *, dry_run: bool, result: PurgeResult | None = None) -> dict[str, Any]:
    """The purge report (``purge [--dry-run] --json``): ids and due instants, no PII."""
    out: dict[str, Any] = {
        "at": format_instant(p.at),
        "dry_run": dry_run,
        "counts": _counts(p, result.text_fields if result else None),
        "users": [
            {"id": d.id, "subscriber": d.subscriber, "due": format_instant(d.due)} for d in p.users
        ],
        "attachments": [
            {
                "id": d.id,
                "case": d.case_id,
                "subscriber": d.subscriber,
                "due": format_instant(d.due),
                "reason": d.reason,
            }
            for d in p.attachments
        ],
    }
    if result is not None:
        out["audit_id"] = result.audit_id
        out["removed_files"] = result.paths
        out["cases_touched"] = result.cases_touched
        out["problems"] = result.problems
    return out


def _counts(p: PurgePlan, text_fields: int | None = None) -> dict[str, int]:
    out = {
        "user_pii": len(p.users),
        "user_accounts": len(p.users),
        "attachments": len(p.attachments),
    }
    if text_fields is not None:
        out["text_fields"] = text_fields
    return out


def purge(store: Any, at: int, *, actor: str | None, recorded_at: int) -> PurgeResult:
    """Remove everything due at ``at`` and record the audit, in one transaction (leads);
    then the files, and the removed bytes from the database's files."""
    from console.attachments import remove_files

    if at > recorded_at + AHEAD:
        raise Refused(
            f"--at {format_instant(at)} lies in the future: a purge removes what is due by now"
        )
    if store.is_sqlite:
        res, removed = _purge_sqlite(store, at, actor=actor, recorded_at=recorded_at)
    else:
        res, removed = _purge_postgres(store, at, actor=actor, recorded_at=recorded_at)
    res.paths, res.problems = remove_files(store, removed)
    res.problems += _orphans(store)
    res.problems += erase(store)
    return res


def _purge_sqlite(
    store: Any, at: int, *, actor: str | None, recorded_at: int
) -> tuple[PurgeResult, list[dict[str, Any]]]:
    with store.write() as session:
        require(session, actor, "purge")
        p = plan(session, at)
        user_ids = [str(d.id) for d in p.users]
        removed = _delete_attachments(session, [int(d.id) for d in p.attachments])
        touched, fields = _forget_users(session, user_ids)
        _delete_users(session, user_ids)
        touched = sorted(set(touched) | {d.case_id for d in p.attachments if d.case_id})
        res = session.execute(
            insert(PA).values(
                at=at,
                recorded_at=recorded_at,
                by=actor,
                counts=_counts(p, fields),
                ids={
                    "users": user_ids,
                    "attachments": [d.id for d in p.attachments],
                    "cases_touched": touched,
                },
            )
        )
        if touched:
            mark_changed(session, *touched)
        return PurgeResult(p, int(res.inserted_primary_key[0]), [], touched, fields), removed


def _purge_postgres(
    store: Any, at: int, *, actor: str | None, recorded_at: int
) -> tuple[PurgeResult, list[dict[str, Any]]]:
    """One call of ``support_console_purge``; the dry-run plan (read in the same
    transaction, under the function's lock) must name exactly what it removed."""
    with store.write() as session:
        require(session, actor, "purge")
        session.execute(text("SELECT pg_advisory_xact_lock(96780013)"))
        p = plan(session, at)
        done = session.execute(
            text("SELECT support_console_purge(:at, :rec)"), {"at": at, "rec": recorded_at}
        ).scalar_one()
        want = (sorted(str(d.id) for d in p.users), sorted(int(d.id) for d in p.attachments))
        got = (sorted(done["users"]), sorted(int(a["id"]) for a in done["attachments"]))
        if want != got:  # a bug, never a user's input: refuse rather than purge otherwise
            raise Refused(
                "the database's purge and the dry run disagree on what is due; nothing was written"
            )
        touched = list(done["cases_touched"])
        if touched:
            mark_changed(session, *touched)
        return (
            PurgeResult(p, int(done["audit_id"]), [], touched, int(done["text_fields"])),
            list(done["attachments"]),
        )


def _delete_attachments(session: Any, ids: list[int]) -> list[dict[str, Any]]:
    removed: list[dict[str, Any]] = []
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        removed += [
            {"id": r.id, "case": r.case_id, "path": r.path, "sha256": r.sha256}
            for r in session.execute(select(A).where(A.c.id.in_(chunk)))
        ]
        session.execute(delete(A).where(A.c.id.in_(chunk)))
    return removed


def _rewrite(
    session: Any,
    table: Any,
    key: str,
    scrub: Scrubber,
    *,
    texts: tuple[str, ...] = (),
    bys: tuple[str, ...] = (),
    jsons: tuple[str, ...] = (),
    case_col: str | None = None,
) -> tuple[set[str], int]:
    """Scrub ``table``'s text, ``by`` and JSON columns; (cases touched, rows changed)."""
    terms = scrub.like_terms()
    conds = []
    for col in (*texts, *bys):
        conds += [table.c[col].like(t, escape="\\") for t in terms]
    for col in bys:
        if scrub.ids:
            conds.append(table.c[col].in_(sorted(scrub.ids)))
    for col in jsons:
        conds += [cast(table.c[col], Text).like(t, escape="\\") for t in terms]
    if not conds:
        return set(), 0
    touched: set[str] = set()
    changed = 0
    for row in session.execute(select(table).where(or_(*conds))).all():
        values: dict[str, Any] = {}
        for col in texts:
            values[col] = scrub.text(row._mapping[col])
        for col in bys:
            values[col] = scrub.by(row._mapping[col])
        for col in jsons:
            values[col] = scrub.data(row._mapping[col])
        values = {k: v for k, v in values.items() if v != row._mapping[k]}
        if not values:
            continue
        session.execute(update(table).where(table.c[key] == row._mapping[key]).values(**values))
        changed += 1
        if case_col:
            touched.add(row._mapping[case_col])
    return touched, changed


def _forget_users(session: Any, user_ids: list[str]) -> tuple[list[str], int]:
    """Take the purged users' ids, names and e-mail addresses out of every text they were
    written in (SQLite; ``support_console_purge`` does the same on PostgreSQL)."""
    if not user_ids:
        return [], 0
    needles: list[str | None] = []
    for i in range(0, len(user_ids), 900):
        for r in session.execute(
            select(U.c.name, U.c.email).where(U.c.id.in_(user_ids[i : i + 900]))
        ):
            needles += [r.name, r.email]
    scrub = Scrubber(user_ids, needles)
    touched: set[str] = set()
    fields = 0
    for table, key, kw in (
        (case_table, "id", {"texts": ("title",), "bys": ("opened_by",), "case_col": "id"}),
        (
            event_table,
            "id",
            {"bys": ("by", "recorded_by"), "jsons": ("data",), "case_col": "case_id"},
        ),
        (time_entry_table, "id", {"texts": ("note",), "bys": ("by",), "case_col": "case_id"}),
        (escalation_table, "case_id", {"bys": ("by",), "case_col": "case_id"}),
        (A, "id", {"texts": ("name",), "bys": ("added_by",), "case_col": "case_id"}),
        (suspension_table, "id", {"bys": ("by",)}),
        (suspension_lift_table, "id", {"bys": ("by",)}),
        # Notifications quote case titles (PostgreSQL: migration 0013's trigger).
        (OUT, "id", {"texts": ("title", "body", "last_error")}),
    ):
        t, n = _rewrite(session, table, key, scrub, **kw)
        touched |= t
        fields += n
    _, n = _rewrite(session, U, "id", scrub, bys=("added_by", "removed_by"))
    fields += n
    return sorted(touched), fields


def _delete_users(session: Any, ids: list[str]) -> None:
    for i in range(0, len(ids), 900):
        session.execute(delete(U).where(U.c.id.in_(ids[i : i + 900])))


def _orphans(store: Any) -> list[str]:
    from console.attachments import remove_orphans

    try:
        with store.connection() as conn:
            remove_orphans(store, conn)
    except OSError as exc:
        return [f"attachment store: {exc.strerror}"]
    return []


def erase(store: Any) -> list[str]:
    """Make removed values unreadable in the database's files; what could not be done yet,
    in words. SQLite: a TRUNCATE checkpoint (the file already holds zeros where rows were,
    ``secure_delete``), so the ``-wal`` keeps no copy. PostgreSQL: ``vacuum`` the touched
    tables, which only their owner may; another login is told the owner's nightly
    ``support-console vacuum`` will."""
    if store.is_sqlite:
        return _checkpoint(store)
    with store.connection() as conn:
        may = conn.execute(
            text(
                "SELECT bool_and(pg_has_role(session_user, c.relowner, 'USAGE')) FROM pg_class c "
                "WHERE c.relname = ANY(:t) AND c.relkind = 'r'"
            ),
            {"t": list(TOUCHED_TABLES)},
        ).scalar()
    if not may:
        return [
            "the removed values stay in the database's free space until its owner runs "
            "`support-console vacuum` (nightly from cron, see README)"
        ]
    vacuum(store, TOUCHED_TABLES)
    return []


def _checkpoint(store: Any, attempts: int = 20) -> list[str]:
    import time

    for _ in range(attempts):
        busy = _sqlite_autocommit(store, "PRAGMA wal_checkpoint(TRUNCATE)")[0]
        if not busy:
            return []
        time.sleep(0.1)
    return [
        "another process kept the database busy: the -wal file keeps the removed values "
        "until the next checkpoint (`support-console vacuum` forces one)"
    ]


def _sqlite_autocommit(store: Any, sql: str) -> tuple[Any, ...]:
    """Run one statement outside any transaction (the driver is in autocommit mode; a
    checkpoint or VACUUM cannot run inside one)."""
    store._check_file()
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        try:
            cur.execute(sql)
            row = cur.fetchone()
        finally:
            cur.close()
    finally:
        raw.close()
    return tuple(row) if row else ()


def vacuum(store: Any, tables: tuple[str, ...] = TOUCHED_TABLES) -> list[str]:
    """``support-console vacuum``: SQLite rewrites the whole file (no free page keeps an
    old value) and truncates its WAL; PostgreSQL rewrites the tables a purge touches with
    ``VACUUM (FULL)``, which needs their owner. Returns problems in words.

    A plain VACUUM is not enough: it compacts each page but leaves the freed bytes in the
    page's hole (tests/test_purge_forgets.py found an e-mail address there). FULL writes
    each table anew and unlinks the old file; it locks the table meanwhile, so the owner's
    cron runs it at night."""
    if store.is_sqlite:
        _sqlite_autocommit(store, "VACUUM")
        return _checkpoint(store)
    names = list(tables)
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        owned = set(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND pg_has_role(session_user, c.relowner, "
                    "'USAGE')"
                )
            ).scalars()
        )
        skipped = [n for n in names if n not in owned]
        todo = [n for n in names if n in owned]
        if todo:
            conn.exec_driver_sql("VACUUM (FULL) " + ", ".join(f'"{n}"' for n in todo))
    if skipped:
        return [f"not vacuumed (only the owner may): {', '.join(skipped)}"]
    return []


def audits(conn: Conn) -> list[dict[str, Any]]:
    """Every purge recorded, oldest first."""
    return [
        {
            "id": r.id,
            "at": format_instant(r.at),
            "recorded_at": format_instant(r.recorded_at),
            "by": r.by,
            "counts": r.counts,
            "ids": r.ids,
        }
        for r in conn.execute(select(PA).order_by(PA.c.id))
    ]
