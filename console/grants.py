"""PostgreSQL logins: one database login per person, its role a membership of
``support_engineer``, ``support_lead`` or ``support_system`` (``support-console grant``;
the grant itself is ``console.operators.grant``, beside the other ways of naming a role).

A lead calls the database function ``support_console_grant`` (SECURITY DEFINER, created by
migration 0010_identity): it checks that the caller is a lead (or the database's owner
naming the first lead), creates or changes the login, sets its membership and records the
role in the ``operator`` table. Leads need no CREATEROLE of their own.

A password, when given, never travels or rests in clear: the client computes the
SCRAM-SHA-256 verifier (RFC 7677, as PostgreSQL stores it) and sends only that. Without
one, the login authenticates by peer over the Unix socket (the jump host's OS login) or by
whatever pg_hba.conf says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata

from console.errors import NotAllowed, Refused

LOGIN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$")
SCRAM_ITERATIONS = 4096


def scram_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
) -> str:
    """The ``SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`` string PostgreSQL keeps.

    The password is normalized with NFKC (SASLprep's mapping for ordinary text)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac(
        "sha256", unicodedata.normalize("NFKC", password).encode("utf-8"), salt, iterations
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def check_login(name: str) -> str:
    name = (name or "").strip()
    if not LOGIN_RE.match(name):
        raise Refused(f"not a login name: {name!r} (letters, digits, _ . @ -; at most 63)")
    return name


__all__ = ["NotAllowed", "check_login", "scram_verifier"]
