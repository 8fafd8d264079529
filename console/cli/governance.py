"""The commands of the desk's governance: change requests and confirmed vulnerabilities,
data retention (purge), product lifespans (the support matrix), and the policy's versions.
"""

from __future__ import annotations

import argparse
import sys

from console.cli.common import (
    EXIT_OK,
    CliError,
    Command,
    at_instant,
    date_option,
    dump_json,
    err,
    inert,
    instant_option,
    open_db,
    operator,
    policy_book,
    refuse_what_if,
    refusing,
    say,
    signed_by,
)


def cmd_change_request(args: argparse.Namespace) -> int:
    from console import clock
    from console.links import create_change_request

    refuse_what_if(args)
    at = at_instant(args)
    store = open_db(args)
    by = signed_by(args, store, operator(store))
    cid = refusing(
        lambda: create_change_request(
            store,
            sr_id=args.sr,
            title=args.title,
            at=at,
            by=by,
            recorded_at=clock.now(),
            subscriber=args.subscriber,
            deployment=args.deployment,
        )
    )
    say(cid)
    err(
        f"{cid}: change request opened"
        + (f", linked to {args.sr}" if args.sr else " (Konneqt-initiated)")
    )
    return EXIT_OK


def cmd_confirm_vulnerability(args: argparse.Namespace) -> int:
    from console import clock
    from console.links import confirm_vulnerability

    refuse_what_if(args)
    at = at_instant(args)
    store = open_db(args)
    actor = operator(store)
    by = signed_by(args, store, actor)
    res = refusing(
        lambda: confirm_vulnerability(
            store,
            args.sra,
            priority=args.priority,
            title=args.title,
            at=at,
            by=by,
            recorded_at=clock.now(),
            actor=actor,
            note=args.note,
        )
    )
    say(res.incident_id)
    err(f"{args.sra}: vulnerability confirmed; incident {res.incident_id} opened and linked")
    return EXIT_OK


def cmd_purge(args: argparse.Namespace) -> int:
    """Data retention (policy §11): ``--dry-run`` lists, otherwise removes (leads)."""
    from console import clock
    from console.retention import plan, plan_json, purge

    at = at_instant(args)
    store = open_db(args)
    if args.dry_run:
        with store.connection() as conn:
            p = plan(conn, at)
        out = plan_json(p, dry_run=True)
    else:
        refuse_what_if(args)
        res = refusing(lambda: purge(store, at, actor=operator(store), recorded_at=clock.now()))
        out = plan_json(res.plan, dry_run=False, result=res)
    if args.json:
        dump_json(out)
    else:
        for u in out["users"]:
            say(f"USER        {u['id']:<24} {u['subscriber']:<18} due {u['due']}")
        for a in out["attachments"]:
            say(f"ATTACHMENT  {a['id']:<24} {a['case']:<18} due {a['due']} ({a['reason']})")
        for path in out.get("removed_files", []):
            say(f"FILE        {path} (removed)")
    c = out["counts"]
    what = f"{c['user_pii']} support user(s) (PII and accounts), {c['attachments']} attachment(s)"
    if args.dry_run:
        err(f"dry run at {out['at']}: would remove {what}; nothing written")
    else:
        err(
            f"purged {what}, {c.get('text_fields', 0)} text field(s) rewritten "
            f"(audit {out['audit_id']})"
        )
        for problem in out["problems"]:
            err(f"warning: {problem}")
    return EXIT_OK


def cmd_products(args: argparse.Namespace) -> int:
    from console.rules.timeutil import format_instant
    from console.support_report import support_report

    at = at_instant(args)
    store = open_db(args)
    policy = policy_book(args, store)
    with store.connection() as conn:
        versions = support_report(conn, policy, at)
    if args.json:
        dump_json({"at": format_instant(at), "versions": versions})
    else:
        for v in versions:
            flag = "  PAST END OF SUPPORT" if v["past_end_of_support"] else ""
            say(
                f"{v['product']:<16} {v['version']:<10} end of support "
                f"{v['end_of_support'] or '(not in matrix)'}  {len(v['open_cases'])} open case(s){flag}"
            )
    return EXIT_OK


def cmd_product(args: argparse.Namespace) -> int:
    from console import clock
    from console.lifespan import set_version, version_json

    released = date_option(args.released, "--released")
    notice = date_option(args.notice, "--notice")
    store = open_db(args)
    v = refusing(
        lambda: set_version(
            store,
            product=args.product,
            version=args.version,
            released=released,
            notice=notice,
            actor=operator(store),
            now=clock.now(),
        )
    )
    err(f"{v.product} {v.version}: end of support {v.end_of_support}")
    if args.json:
        dump_json(version_json(v, clock.now()))
    return EXIT_OK


def cmd_policy(args: argparse.Namespace) -> int:
    """``policy publish FILE --effective T --reason R`` (leads), ``policy history``,
    ``policy show [--version N]``."""
    from console import clock
    from console.errors import NotAllowed
    from console.policy_store import (
        PublishRefused,
        history_json,
        load_book,
        publish,
        version_text,
    )
    from console.rules.timeutil import format_instant

    if args.action == "publish":
        refuse_what_if(args)
        if not args.file:
            raise CliError("policy publish FILE --reason WHY [--effective T]")
        try:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{args.file}: cannot read: {exc}") from None
        now = clock.now()
        effective = instant_option(args.effective, "--effective") if args.effective else now
        store = open_db(args)
        try:
            done = publish(
                store,
                text,
                source=args.file,
                effective_at=effective,
                reason=args.reason or "",
                actor=operator(store),
                recorded_at=now,
            )
        except PublishRefused as exc:
            raise CliError(f"refused: {exc}") from None
        except NotAllowed as exc:
            raise CliError(str(exc)) from None
        err(
            f"policy version {done.number} published, in force from "
            f"{format_instant(done.effective_at)}"
        )
        return EXIT_OK
    store = open_db(args)
    with store.connection() as conn:
        if args.action == "show":
            found = version_text(conn, args.version)
            if found is None:
                raise CliError(f"no policy version {args.version}")
            from console.text import inert_text

            sys.stdout.write(inert_text(found[1]))
            return EXIT_OK
        versions = history_json(load_book(conn), clock.now())
    if args.json:
        dump_json({"versions": versions})
    else:
        for v in versions:
            mark = "*" if v["in_force"] else " "
            say(
                f"{mark} {v['number']:>3}  from {v['effective_at']}  by {inert(v['by'] or '-'):<12} "
                f"recorded {v['recorded_at']}  {inert(v['reason'])}"
            )
    return EXIT_OK


# -- arguments ----------------------------------------------------------------------------


def _change_request_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("sr", nargs="?", help="the service request (omit for a Konneqt-initiated CR)")
    sp.add_argument("--title", required=True)
    sp.add_argument("--subscriber", help="without SR: the subscriber")
    sp.add_argument("--deployment", help="the deployment (default: the service request's)")
    sp.add_argument("--at", help="when it is opened (default: now)")
    sp.add_argument("--by", help="a system account (cron) opening it; needs the system role")


def _confirm_vulnerability_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("sra")
    sp.add_argument("--priority", required=True, help="the incident's priority (P0-P3)")
    sp.add_argument("--title", help="the incident's title (default: from the analysis)")
    sp.add_argument("--note")
    sp.add_argument("--at")
    sp.add_argument("--by", help="a system account (cron) recording it; needs the system role")


def _purge_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--dry-run", action="store_true", help="list what would go; write nothing")
    sp.add_argument("--at", help="judge what is due at this instant (default: now)")
    sp.add_argument("--json", action="store_true")


def _products_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--at")


def _product_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("action", choices=["set"])
    sp.add_argument("product")
    sp.add_argument("version")
    sp.add_argument("--released", required=True, help="release date YYYY-MM-DD")
    sp.add_argument("--notice", help="discontinuation notice date YYYY-MM-DD (omitted: none)")
    sp.add_argument("--json", action="store_true")


def _policy_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("action", choices=["publish", "history", "show"])
    sp.add_argument("file", nargs="?", help="publish: the policy file (TOML)")
    sp.add_argument("--effective", help="publish: in force from this instant (default: now)")
    sp.add_argument("--reason", help="publish: why (required)")
    sp.add_argument("--version", type=int, help="show: this version (default: the latest)")
    sp.add_argument("--json", action="store_true")


COMMANDS = (
    Command(
        "policy",
        cmd_policy,
        "the desk's policy versions: publish (leads), history, show",
        _policy_arguments,
    ),
    Command(
        "purge",
        cmd_purge,
        "data retention (policy §11): remove what is due (leads), or --dry-run",
        _purge_arguments,
    ),
    Command(
        "products",
        cmd_products,
        "the support matrix by end of support, with open cases (policy §12)",
        _products_arguments,
    ),
    Command(
        "product",
        cmd_product,
        "set a product version's release and discontinuation dates (leads)",
        _product_arguments,
    ),
    Command(
        "change-request",
        cmd_change_request,
        "open a change request linked to a service request (or Konneqt-initiated)",
        _change_request_arguments,
    ),
    Command(
        "confirm-vulnerability",
        cmd_confirm_vulnerability,
        "on a security report analysis: record the confirmation and open the linked incident",
        _confirm_vulnerability_arguments,
    ),
)
