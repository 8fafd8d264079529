"""Policy §9 priority guidelines and the §5 limits on them: every criterion through the pure
rules (console.rules.classify) and through ``support-console classify``."""

from __future__ import annotations

import json

import pytest

from console import clock
from console.cli import main
from console.rules.classify import classify, questions
from console.rules.eligibility import DeploymentFacts
from console.rules.policy import default_policy

POLICY = default_policy()
ENTERPRISE = POLICY.plan("enterprise")
BASIC = POLICY.plan("basic")
MANAGED = DeploymentFacts("dep-m", "sub", "production", True)
UNMANAGED = DeploymentFacts("dep-u", "sub", "production", False)
PREPROD = DeploymentFacts("dep-pre", "sub", "pre-production", False)
PREPROD_MANAGED = DeploymentFacts("dep-pre-m", "sub", "pre-production", True)

# Policy §9, transcribed: (priority, key), most severe first.
GUIDELINES = [
    ("P0", "component_unavailable"),
    ("P0", "legal_order_cessation"),
    ("P1", "substantial_service_loss"),
    ("P1", "critical_data_at_risk"),
    ("P1", "operations_severely_disrupted"),
    ("P1", "reputational_risk"),
    ("P1", "preprod_blocks_critical_release"),
    ("P2", "long_term_productivity"),
    ("P2", "recoverable_software_errors"),
    ("P2", "severe_performance_degradation"),
    ("P3", "components_impaired_usable"),
    ("P3", "milestones_at_risk"),
    ("P3", "nominal_performance_degradation"),
    ("P3", "noncritical_errors"),
]
KEYS = [k for _, k in GUIDELINES]


@pytest.fixture(autouse=True)
def _desk(_isolated_default_db, capsys) -> None:
    """``classify`` reads the desk's policy: a database made by ``init`` (nothing else
    creates one)."""
    assert main(["init"]) == 0
    capsys.readouterr()


def cli(capsys, *args: str) -> tuple[int, dict]:
    code = main(["classify", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def hypothetical(
    env: str = "production", managed: str = "yes", plan: str = "enterprise"
) -> list[str]:
    return ["--plan", plan, "--environment", env, "--managed", managed]


def test_policy_file_lists_the_fourteen_criteria_in_order():
    assert [(c.priority, c.key) for c in POLICY.criteria] == GUIDELINES


def test_questions_most_severe_first_p0_only_where_it_can_apply():
    assert [c.key for c in questions(POLICY, ENTERPRISE, MANAGED)] == KEYS
    assert [c.key for c in questions(POLICY, ENTERPRISE, UNMANAGED)] == KEYS[2:]
    assert [c.key for c in questions(POLICY, BASIC, MANAGED)] == KEYS[2:]
    assert [c.key for c in questions(POLICY, ENTERPRISE, None)] == KEYS[2:]


@pytest.mark.parametrize(("priority", "key"), GUIDELINES, ids=KEYS)
def test_each_criterion_sets_its_priority_rules(priority, key):
    # Asked in order: every earlier question answered "no", this one "yes".
    answers = {k: False for k in KEYS[: KEYS.index(key)]} | {key: True}
    r = classify(POLICY, ENTERPRISE, "sub", MANAGED, "incident", answers)
    assert (r.type, r.priority, r.decided_by) == ("incident", priority, key)
    assert r.notes == []
    assert r.problems == []
    assert r.eligible


@pytest.mark.parametrize(("priority", "key"), GUIDELINES, ids=KEYS)
def test_each_criterion_sets_its_priority_cli(capsys, priority, key):
    code, out = cli(capsys, *hypothetical(), "--type", "incident", "--answer", f"{key}=yes")
    assert code == 0
    assert out["priority"] == priority
    assert out["decided_by"] == key
    assert out["eligible"] is True
    assert out["notes"] == []
    assert out["problems"] == []
    assert out["asked"] == KEYS


@pytest.mark.parametrize("key", KEYS)
def test_the_first_yes_decides(key):
    """Every criterion answered yes from ``key`` down: ``key`` decides."""
    answers = {k: KEYS.index(k) >= KEYS.index(key) for k in KEYS}
    r = classify(POLICY, ENTERPRISE, "sub", MANAGED, "incident", answers)
    assert r.decided_by == key


def test_no_yes_gives_p3_with_a_note(capsys):
    r = classify(POLICY, ENTERPRISE, "sub", MANAGED, "incident", dict.fromkeys(KEYS, False))
    assert (r.priority, r.decided_by) == ("P3", None)
    assert r.notes == ["no guideline matched: classified P3"]
    code, out = cli(capsys, *hypothetical(), "--answer", "noncritical_errors=no")
    assert code == 0
    assert out["priority"] == "P3"
    assert out["decided_by"] is None
    assert out["notes"] == ["no guideline matched: classified P3"]


@pytest.mark.parametrize("key", KEYS[:2])
def test_p0_criterion_on_unmanaged_deployment_gives_p1(capsys, key):
    r = classify(POLICY, ENTERPRISE, "sub", UNMANAGED, "incident", {key: True})
    assert (r.priority, r.decided_by, r.eligible) == ("P1", key, True)
    assert r.notes == ["P0 criterion answered on a non-managed deployment: classified P1"]
    code, out = cli(capsys, *hypothetical(managed="no"), "--answer", f"{key}=yes")
    assert code == 0
    assert out["priority"] == "P1"
    assert out["decided_by"] == key
    assert out["notes"] == ["P0 criterion answered on a non-managed deployment: classified P1"]
    assert out["asked"] == KEYS[2:]


@pytest.mark.parametrize("key", KEYS[:2])
def test_p0_criterion_on_basic_plan_gives_p1(capsys, key):
    r = classify(POLICY, BASIC, "sub", MANAGED, "incident", {key: True})
    assert (r.priority, r.decided_by, r.eligible) == ("P1", key, True)
    assert r.notes == ["P0 criterion answered on the basic plan, which has no P0: classified P1"]
    code, out = cli(capsys, *hypothetical(plan="basic"), "--answer", f"{key}=yes")
    assert code == 0
    assert out["priority"] == "P1"
    assert out["notes"] == [
        "P0 criterion answered on the basic plan, which has no P0: classified P1"
    ]


def test_p0_on_managed_preproduction_enterprise_is_p0():
    r = classify(POLICY, ENTERPRISE, "sub", PREPROD_MANAGED, "incident", {KEYS[0]: True})
    assert (r.priority, r.eligible) == ("P0", True)


def test_basic_plan_incident_on_preproduction_is_refused(capsys):
    r = classify(POLICY, BASIC, "sub", PREPROD, "incident", {"substantial_service_loss": True})
    assert r.priority == "P1"
    assert not r.eligible
    assert r.problems == [
        (
            "deployment",
            "basic plan: incidents only on production deployments (dep-pre is pre-production)",
        )
    ]
    code, out = cli(
        capsys,
        *hypothetical("pre-production", "no", "basic"),
        "--answer",
        "substantial_service_loss=yes",
    )
    assert code == 1
    assert out["eligible"] is False
    assert out["problems"][0].startswith("deployment: basic plan: incidents only on production")


def test_enterprise_incident_on_preproduction_is_allowed():
    r = classify(
        POLICY, ENTERPRISE, "sub", PREPROD, "incident", {"preprod_blocks_critical_release": True}
    )
    assert (r.priority, r.eligible) == ("P1", True)


def test_incident_needs_a_deployment_query_does_not(capsys):
    r = classify(POLICY, ENTERPRISE, "sub", None, "incident", {KEYS[0]: True})
    assert r.priority == "P1"  # no deployment: not managed, so no P0
    assert ("deployment", "an incident names a deployment") in r.problems
    q = classify(POLICY, BASIC, "sub", None, "query", {})
    assert (q.type, q.priority, q.decided_by, q.eligible) == ("query", None, None, True)
    code, out = cli(
        capsys,
        "--plan",
        "enterprise",
        "--type",
        "incident",
        "--answer",
        "substantial_service_loss=yes",
    )
    assert code == 1
    assert "deployment: an incident names a deployment" in out["problems"]


def test_service_request_needs_a_managed_deployment(capsys):
    assert classify(POLICY, ENTERPRISE, "sub", MANAGED, "service_request", {}).eligible
    r = classify(POLICY, ENTERPRISE, "sub", UNMANAGED, "service_request", {})
    assert r.problems == [("deployment", "a service request needs a managed deployment")]
    code, out = cli(capsys, *hypothetical(managed="no"), "--type", "service_request")
    assert code == 1
    assert out["priority"] is None
    assert out["asked"] == []


def test_non_incidents_ignore_answers():
    r = classify(POLICY, ENTERPRISE, "sub", MANAGED, "security_report", {KEYS[0]: True})
    assert (r.priority, r.decided_by, r.notes) == (None, None, [])


def test_unknown_answer_key_is_bad_input(capsys):
    code = main(["classify", "--json", *hypothetical(), "--answer", "everything_on_fire=yes"])
    captured = capsys.readouterr()
    assert code == 1
    assert "unknown criterion everything_on_fire" in captured.err


def test_list_names_every_criterion_and_type(capsys):
    assert main(["classify", "--list", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(c["priority"], c["key"]) for c in out["criteria"]] == GUIDELINES
    assert set(out["types"]) >= {"incident", "query", "security_report", "service_request"}


@pytest.fixture
def stored(tmp_path, monkeypatch):
    from app_support import NOW, TZ
    from test_app_wizard import make_wizard_db

    monkeypatch.setenv("SUPPORT_CONSOLE_TZ", TZ)
    clock.freeze(NOW)
    make_wizard_db(tmp_path / "c.db")
    yield str(tmp_path / "c.db")
    clock.freeze(None)


def test_stored_deployments_apply_their_limits(capsys, stored):
    def run(dep: str, key: str) -> tuple[int, dict]:
        code = main(
            ["--db", stored, "classify", "--json", "--deployment", dep, "--answer", f"{key}=yes"]
        )
        return code, json.loads(capsys.readouterr().out)

    code, out = run("wiz-managed", "component_unavailable")
    assert (code, out["priority"], out["notes"]) == (0, "P0", [])
    code, out = run("wiz-unmanaged", "component_unavailable")
    assert (code, out["priority"]) == (0, "P1")
    assert out["notes"] == ["P0 criterion answered on a non-managed deployment: classified P1"]
    code, out = run("wiz-basic-prod", "legal_order_cessation")
    assert (code, out["priority"]) == (0, "P1")
    code, out = run("wiz-basic-pre", "noncritical_errors")
    assert code == 1
    assert out["priority"] == "P3"
    assert out["eligible"] is False
