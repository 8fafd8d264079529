"""JSON shapes of interchange.md: clocks, queue rows, cases and their history."""

from __future__ import annotations

import json as _json
import time as _time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from json.encoder import encode_basestring as _quote  # the C encoder json.dumps uses
from typing import Any, overload

from console.queue_rows import QueueRow, StoredSummary
from console.rules.clocks import (
    PAUSED,
    RUNNING,
    CaseEval,
    ClockState,
    Event,
    paused_for,
    risk_group,
)
from console.rules.timeutil import format_instant


def clock_json(st: ClockState, paused_for: str | None = None) -> dict[str, Any]:
    """One clock. ``paused_for``: why a paused clock is paused (``subscriber``, ``vendor``,
    ``subscriber_and_vendor``; ``clocks.paused_for``), null otherwise."""
    return {
        "state": st.state,
        "target": st.target,
        "elapsed": st.elapsed,
        "remaining": st.remaining,
        "due": format_instant(st.due),
        "breached": st.breached,
        "paused_for": paused_for,
    }


def case_json(
    case_id: str,
    subscriber: str,
    title: str,
    ev: CaseEval,
    *,
    deployment: str | None = None,
    reported_at: int | None = None,
    end_of_support: date | None = None,
    past_end_of_support: bool = False,
    subscriber_terminated: bool = False,
    assignee: str | None = None,
) -> dict[str, Any]:
    """One case as in ``queue --json``. ``end_of_support``/``past_end_of_support``: its
    deployment's product version (policy §12; ``console.lifespan.case_support``)."""
    group, _ = risk_group(ev.clocks)
    return {
        "id": case_id,
        "subscriber": subscriber,
        "type": ev.type,
        "priority": ev.priority,
        "status": ev.status,
        "level": ev.level,
        "title": title,
        "clocks": {name: clock_json(st, paused_for(ev, name)) for name, st in ev.clocks.items()},
        "deployment": deployment,
        "reported_at": format_instant(reported_at),
        "acknowledged": ev.acknowledged,
        "awaiting_subscriber": ev.awaiting,
        "awaiting_vendor": ev.awaiting_vendor,
        "suspended": ev.suspended,
        "risk_group": group,
        "end_of_support": end_of_support.isoformat() if end_of_support else None,
        "past_end_of_support": past_end_of_support,
        "subscriber_terminated": subscriber_terminated,
        "assignee": assignee,
    }


_B = {True: "true", False: "false"}


def _num(v: int | None) -> str:
    return "null" if v is None else str(v)


#: The C encoder escapes C0 controls; DEL and the C1 controls (0x9b: a one-byte CSI) too.
_C1 = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def _str(v: str | None) -> str:
    if v is None:
        return "null"
    q = _quote(v)
    return q if v.isascii() and "\x7f" not in v else q.translate(_C1)


#: A clock's JSON text depends on these: (name, state), and why it is paused when it is.
_ClockKey = tuple[str, ClockState] | tuple[str, ClockState, str | None]


def case_fragment(r: QueueRow, frags: dict[_ClockKey, str]) -> str:
    """One queue row as JSON text (``frags`` caches identical clocks across rows)."""
    ev = r.eval
    parts = []
    for name, st in ev.clocks.items():
        if st.state == PAUSED:  # rare: only then does the reason vary for the same clock
            why = paused_for(ev, name)
            key: _ClockKey = (name, st, why)
        else:
            why, key = None, (name, st)
        frag = frags.get(key)
        if frag is None:
            frag = frags[key] = (
                f'"{name}": {{"state": "{st.state}", "target": {_num(st.target)}, '
                f'"elapsed": {st.elapsed}, "remaining": {_num(st.remaining)}, '
                f'"due": {_str(format_instant(st.due))}, "breached": {_B[st.breached]}, '
                f'"paused_for": {_str(why)}}}'
            )
        parts.append(frag)
    return (
        f'{{"id": {_str(r.id)}, "subscriber": {_str(r.subscriber)}, "type": "{ev.type}", '
        f'"priority": {_str(ev.priority)}, "status": "{ev.status}", "level": "{ev.level}", '
        f'"title": {_str(r.title)}, "clocks": {{{", ".join(parts)}}}, '
        f'"deployment": {_str(r.deployment)}, "reported_at": "{_utc(r.reported_at)}", '
        f'"acknowledged": {_B[ev.acknowledged]}, "awaiting_subscriber": {_B[ev.awaiting]}, '
        f'"awaiting_vendor": {_B[ev.awaiting_vendor]}, '
        f'"suspended": {_B[ev.suspended]}, "risk_group": {r.key[0]}, '
        f'"end_of_support": {_eos(r.support[0])}, "past_end_of_support": {_B[r.support[1]]}, '
        f'"subscriber_terminated": {_B[r.terminated]}, "assignee": {_str(r.assignee)}}}'
    )


_DECODE = _json.JSONDecoder().raw_decode


def row_fragment(r: QueueRow) -> str:
    """One queue row (``console.queue.QueueRow``) at the queue's instant as JSON text,
    straight from its stored summary: the same text as ``case_fragment`` (a test holds them
    equal) without building clock objects, the bulk of ``queue --json``'s time; from the
    stored template when the row was read with it (``queue_template``)."""
    raw = r.raw
    if raw is None or r.snap is not None:
        return case_fragment(r, {})
    doc = r.doc
    if doc is not None and doc[:1] == TEMPLATE_FORMAT:
        text = _filled(r, raw, doc)
        if text is not None:
            return text
    data: StoredSummary = _DECODE(raw)[0] if isinstance(raw, str) else raw
    parts = []
    for name, state, target, elapsed, due, breached in _clocks_now(r, data):
        if state == PAUSED:  # rare: the reason it is paused needs the evaluation
            return case_fragment(r, {})
        if target is None:
            parts.append(
                _NO_TARGET
                % (name, state, elapsed, "null" if due is None else _iso(due), _B[breached])
            )
        else:
            parts.append(
                _CLOCK
                % (
                    name,
                    state,
                    target,
                    elapsed,
                    target - elapsed,
                    "null" if due is None else _iso(due),
                    _B[breached],
                )
            )
    support = r.support
    return _CASE % (
        _str(r.id),
        _str(r.subscriber),
        r.type,
        _str(r.priority),
        r.status,
        r.level,
        _str(r.title),
        ", ".join(parts),
        _str(r.deployment),
        _iso(r.reported_at),
        _B[data.get("ack", False)],
        _B[data.get("await", False)],
        _B[data.get("vwait", False)],
        _B[data.get("susp", False)],
        r.key[0],
        _eos(support[0]),
        _B[support[1]],
        _B[r.terminated],
        _str(r.assignee),
    )


_CLOCK = (
    '"%s": {"state": "%s", "target": %d, "elapsed": %d, "remaining": %d, "due": %s, '
    '"breached": %s, "paused_for": null}'
)
_NO_TARGET = (
    '"%s": {"state": "%s", "target": null, "elapsed": %d, "remaining": null, '
    '"due": %s, "breached": %s, "paused_for": null}'
)
_CASE = (
    '{"id": %s, "subscriber": %s, "type": "%s", "priority": %s, "status": "%s", '
    '"level": "%s", "title": %s, "clocks": {%s}, "deployment": %s, "reported_at": %s, '
    '"acknowledged": %s, "awaiting_subscriber": %s, "awaiting_vendor": %s, "suspended": %s, '
    '"risk_group": %d, "end_of_support": %s, "past_end_of_support": %s, '
    '"subscriber_terminated": %s, "assignee": %s}'
)


#: The format of the stored templates (``case_state.queue_json``): its first character.
#: A template of another format (written by another version of this code) is never
#: filled; the row's text is built from its summary instead, and ``rebuild`` rewrites it.
TEMPLATE_FORMAT = "1"


def queue_template(
    case_id: str, subscriber: str, deployment: str | None, reported_at: int, ev: CaseEval
) -> str:
    """A listed case's ``queue --json`` entry at its anchor (``ev``: the evaluation there)
    as a %-template, stored in the projection (``case_state.queue_json``) so that
    ``queue --json`` fills in a few values per case instead of writing its whole text.

    Its slots, in order, are what moves with time or may be rewritten: the title (a purge
    takes names out of it; it is read from its own column), each running clock's elapsed
    (its remaining and breached too when it has a target), the risk group, the end of
    support and whether it is past, the subscriber terminated, the assignee. Everything else
    (ids, classification, stopped/paused/pending clocks, flags) is fixed until the case's
    next event, which rewrites the template. Prefixed by ``TEMPLATE_FORMAT``."""

    def lit(text: str) -> str:
        return text.replace("%", "%%")

    parts = []
    for name, st in ev.clocks.items():
        due = "null" if st.due is None else _iso(st.due)
        if st.state == RUNNING:
            if st.target is None:
                parts.append(
                    lit(f'"{name}": {{"state": "running", "target": null, "elapsed": ')
                    + "%d"
                    + lit(f', "remaining": null, "due": {due}, "breached": ')
                    + '%s, "paused_for": null}'
                )
            else:
                parts.append(
                    lit(f'"{name}": {{"state": "running", "target": {st.target}, "elapsed": ')
                    + '%d, "remaining": %d'
                    + lit(f', "due": {due}, "breached": ')
                    + '%s, "paused_for": null}'
                )
            continue
        parts.append(
            lit(
                f'"{name}": {{"state": "{st.state}", "target": {_num(st.target)}, '
                f'"elapsed": {st.elapsed}, "remaining": {_num(st.remaining)}, '
                f'"due": {due}, "breached": {_B[st.breached]}, '
                f'"paused_for": {_str(paused_for(ev, name))}}}'
            )
        )
    head = lit(
        f'{{"id": {_str(case_id)}, "subscriber": {_str(subscriber)}, "type": "{ev.type}", '
        f'"priority": {_str(ev.priority)}, "status": "{ev.status}", "level": "{ev.level}", '
        '"title": '
    )
    tail = lit(
        f'"deployment": {_str(deployment)}, "reported_at": {_iso(reported_at)}, '
        f'"acknowledged": {_B[ev.acknowledged]}, "awaiting_subscriber": {_B[ev.awaiting]}, '
        f'"awaiting_vendor": {_B[ev.awaiting_vendor]}, "suspended": {_B[ev.suspended]}, '
    )
    return (
        f"{TEMPLATE_FORMAT}{head}%s, "
        f'"clocks": {{{", ".join(parts)}}}, {tail}"risk_group": %d, "end_of_support": %s, '
        '"past_end_of_support": %s, "subscriber_terminated": %s, "assignee": %s}'
    )


_RUNNING_TEXT = '"running"'


def _clocks_now(
    r: QueueRow, data: StoredSummary
) -> Iterator[tuple[str, str, int | None, int, int | None, bool]]:
    """``r``'s stored clocks, in order, as (name, state, target, elapsed, due, breached)
    at the queue's instant: a running clock's counted time since the anchor added."""
    at, anchor = r.at, r.anchor_at
    specs = None
    for name, (state, target, elapsed, due, breached) in data["c"].items():
        if state == RUNNING and at != anchor:
            if specs is None:
                assert r.terms is not None  # (a row read in another process is not written)
                specs = r.terms.specs(r.type, r.priority, at)
            elapsed += specs[name].calendar.elapsed(anchor, at)
            breached = target is not None and elapsed > target
        yield name, state, target, elapsed, due, breached


def _filled(r: QueueRow, raw: str | StoredSummary, doc: str) -> str | None:
    """``r``'s stored template filled in at the queue's instant; None when it does not fit
    its summary (a row written by hand), so that the caller builds the text instead."""
    args: list[object] = [_str(r.title)]
    if not isinstance(raw, str) or _RUNNING_TEXT in raw:
        data: StoredSummary = _DECODE(raw)[0] if isinstance(raw, str) else raw
        for _, state, target, elapsed, _due, breached in _clocks_now(r, data):
            if state != RUNNING:
                continue
            if target is None:
                args += (elapsed, _B[breached])
            else:
                args += (elapsed, target - elapsed, _B[breached])
    support = r.support
    args += (r.key[0], _eos(support[0]), _B[support[1]], _B[r.terminated], _str(r.assignee))
    try:
        return doc[1:] % tuple(args)
    except (TypeError, ValueError):
        return None


_DAYS: dict[int, str] = {}


_ISO: dict[int, str] = {}


def _iso(ts: int) -> str:
    """``"2026-11-24T15:00:00Z"`` (quoted) for epoch seconds; cached (dues fall on the
    same window ends), and a day's prefix too."""
    text = _ISO.get(ts)
    if text is not None:
        return text
    if len(_ISO) > 200_000:
        _ISO.clear()
    text = _ISO[ts] = _iso_text(ts)
    return text


def _iso_text(ts: int) -> str:
    day, sec = divmod(ts, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = _time.strftime('"%Y-%m-%dT', _time.gmtime(day * 86400))
    h, rest = divmod(sec, 3600)
    m, s = divmod(rest, 60)
    return f'{prefix}{h:02d}:{m:02d}:{s:02d}Z"'


def _eos(d: date | None) -> str:
    return "null" if d is None else f'"{d.isoformat()}"'


def _utc(ts: int) -> str:
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(ts))


def queue_json_chunks(at: int, rows: Sequence[Any]) -> Iterator[str]:
    """``queue --json`` written piece by piece: the same document as building dicts and
    calling json.dumps (a test holds them equal), in a fraction of the time at 100k cases."""
    yield from queue_json_from_fragments(at, (row_fragment(r) for r in rows))


@overload
def queue_json_from_fragments(
    at: int, fragments: Iterable[str], batch: int = ...
) -> Iterator[str]: ...
@overload
def queue_json_from_fragments(
    at: int, fragments: Iterable[str | bytes], batch: int = ...
) -> Iterator[str | bytes]: ...
def queue_json_from_fragments(
    at: int, fragments: Iterable[str | bytes], batch: int = 4096
) -> Iterator[str | bytes]:
    """The queue document in a few large pieces (``batch`` cases each): one write per
    piece, not one per case. A ``bytes`` item is a run of fragments already joined by
    ", ", as UTF-8 (a worker's share of ``queue --json``): yielded as it is."""
    yield '{"at": ' + _str(format_instant(at)) + ', "cases": ['
    sep = ""
    chunk: list[str] = []
    for frag in fragments:
        if isinstance(frag, str):
            chunk.append(frag)
            if len(chunk) < batch:
                continue
        if chunk:
            yield sep + ", ".join(chunk)
            sep, chunk = ", ", []
        if isinstance(frag, bytes) and frag:  # (an empty run holds no case)
            yield sep
            yield frag
            sep = ", "
    if chunk:
        yield sep + ", ".join(chunk)
    yield "]}\n"


def event_json(e: Event, recorded_at: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"at": format_instant(e.at), "kind": e.kind, "by": e.by}
    out.update(e.data)
    out["seq"] = e.seq
    if recorded_at is not None:
        out["recorded_at"] = format_instant(recorded_at)
    return out


def history_json(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [event_json(e) for e in events]


def card_json(card: Any) -> dict[str, Any]:
    """One war-team card as in interchange.md's ``escalations --json``."""
    team = card.team
    return {
        "case": card.case_id,
        "subscriber": card.subscriber,
        "priority": card.priority,
        "title": card.title,
        "missed": card.missed,
        "reason": team.escalation_reason,  # a manual escalation's (policy §7)
        "escalated_at": format_instant(card.escalated_at),
        "overdue_by": card.overdue_by,
        "column": card.column,
        "status": card.status,
        "team": [
            {
                "name": m.name,
                "role": m.role,
                "joined_at": format_instant(m.joined_at),
                "left_at": format_instant(m.left_at),
                "by": m.by,
            }
            for m in team.members
        ],
        "plan": {
            "assessment": team.plan_text("assessment"),
            "mitigation": team.plan_text("mitigation"),
            "resources": team.plan_text("resources"),
            "update_frequency": team.update_frequency,
        },
        "plan_history": [
            {"part": v.part, "text": v.text, "at": format_instant(v.at), "by": v.by}
            for versions in team.plan.values()
            for v in versions
        ],
        "updates": [
            {"at": format_instant(u.at), "by": u.by, "note": u.note, "late": u.late}
            for u in team.updates
        ],
        "next_update_due": format_instant(card.next_update_due),
        "update_overdue": card.update_overdue,
        # policy §7: a team that fell below one of each role (see WarTeam.incomplete)
        "incomplete": team.incomplete,
        "missing_roles": team.missing_roles(),
        "incomplete_since": format_instant(team.incomplete_since) if team.incomplete else None,
    }
