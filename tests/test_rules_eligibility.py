"""Eligibility (policy §5): which type and priority a plan and deployment allow."""

from __future__ import annotations

import pytest

from console.rules.eligibility import DeploymentFacts, check_classification
from console.rules.policy import default_policy

POLICY = default_policy()
PROD = DeploymentFacts("d-prod", "acme", "production", managed=False)
PROD_MANAGED = DeploymentFacts("d-mgd", "acme", "production", managed=True)
PRE = DeploymentFacts("d-pre", "acme", "pre-production", managed=False)
PRE_MANAGED = DeploymentFacts("d-pre-mgd", "acme", "pre-production", managed=True)


def check(plan: str, deployment: DeploymentFacts | None, ctype: str, prio: str | None, **kw):
    return check_classification(POLICY, POLICY.plan(plan), "acme", deployment, ctype, prio, **kw)


def fields(problems) -> list[str]:
    return [f for f, _ in problems]


@pytest.mark.parametrize("dep", [PROD_MANAGED, PRE_MANAGED])
def test_p0_on_managed_enterprise(dep):
    assert check("enterprise", dep, "incident", "P0") == []


def test_p0_refused_on_unmanaged_deployment():
    problems = check("enterprise", PROD, "incident", "P0")
    assert fields(problems) == ["priority"]
    assert "managed" in problems[0][1]
    assert "d-prod" in problems[0][1]


def test_p0_refused_on_basic_plan_even_managed():
    problems = check("basic", PROD_MANAGED, "incident", "P0")
    assert fields(problems) == ["priority"]
    assert "basic" in problems[0][1]


@pytest.mark.parametrize("prio", ["P1", "P2", "P3"])
def test_p1_to_p3_on_any_enterprise_deployment(prio):
    for dep in (PROD, PROD_MANAGED, PRE, PRE_MANAGED):
        assert check("enterprise", dep, "incident", prio) == []


@pytest.mark.parametrize("prio", ["P1", "P2", "P3"])
def test_basic_incidents_only_on_production(prio):
    assert check("basic", PROD, "incident", prio) == []
    for dep in (PRE, PRE_MANAGED):
        problems = check("basic", dep, "incident", prio)
        assert fields(problems) == ["deployment"]
        assert "production" in problems[0][1]


def test_basic_queries_need_no_production():
    assert check("basic", PRE, "query", None) == []
    assert check("basic", None, "query", None) == []


def test_incident_names_a_deployment():
    problems = check("enterprise", None, "incident", "P2")
    assert fields(problems) == ["deployment"]
    assert check("enterprise", None, "query", None) == []


@pytest.mark.parametrize("dep", [PROD, PRE, PROD_MANAGED, PRE_MANAGED])
def test_security_report_analysis_names_its_deployment(dep):
    """Policy §5 (issue 18): an SRA names the production or pre-production deployment whose
    scan it analyses; managed or not."""
    assert check("enterprise", dep, "security_report", None) == []
    problems = check("enterprise", None, "security_report", None)
    assert fields(problems) == ["deployment"]
    assert "production or pre-production deployment" in problems[0][1]


def test_incident_needs_a_known_priority():
    assert fields(check("enterprise", PROD, "incident", None)) == ["priority"]
    assert fields(check("enterprise", PROD, "incident", "P7")) == ["priority"]


@pytest.mark.parametrize("ctype", ["query", "security_report", "service_request", "change_request"])
def test_priority_only_for_incidents(ctype):
    problems = check("enterprise", PROD_MANAGED, ctype, "P2", konneqt_initiated=True)
    assert fields(problems) == ["priority"]
    assert "incidents only" in problems[0][1]


def test_service_request_needs_a_managed_deployment():
    assert check("enterprise", PROD_MANAGED, "service_request", None) == []
    assert check("enterprise", PRE_MANAGED, "service_request", None) == []
    assert fields(check("enterprise", PROD, "service_request", None)) == ["deployment"]
    assert fields(check("enterprise", None, "service_request", None)) == ["deployment"]


def test_change_request_needs_a_service_request_link_or_konneqt_initiated():
    problems = check("enterprise", PROD_MANAGED, "change_request", None)
    assert fields(problems) == ["links"]
    assert (
        check("enterprise", PROD_MANAGED, "change_request", None, linked_types=("service_request",))
        == []
    )
    assert check("enterprise", PROD_MANAGED, "change_request", None, konneqt_initiated=True) == []
    # A link to something other than a service request does not count.
    assert fields(
        check("enterprise", PROD_MANAGED, "change_request", None, linked_types=("incident",))
    ) == ["links"]


def test_change_request_needs_a_managed_deployment():
    """Policy §5 (issue 18): a CR tracks a change to a managed deployment."""
    for dep in (PROD, PRE):
        problems = check("enterprise", dep, "change_request", None, konneqt_initiated=True)
        assert fields(problems) == ["deployment"]
        assert (
            f"a change request needs a managed deployment ({dep.id} is not managed)"
            == problems[0][1]
        )
    problems = check("enterprise", None, "change_request", None, linked_types=("service_request",))
    assert fields(problems) == ["deployment"]
    assert check("enterprise", PRE_MANAGED, "change_request", None, konneqt_initiated=True) == []


WITH_COMPONENTS = DeploymentFacts(
    "d-mgd", "acme", "production", managed=True, components=("postgres", "kafka")
)


def test_a_p0_incident_may_name_a_listed_component():
    assert check("enterprise", WITH_COMPONENTS, "incident", "P0", component="kafka") == []
    problems = check("enterprise", WITH_COMPONENTS, "incident", "P0", component="redis")
    assert fields(problems) == ["component"]
    assert (
        problems[0][1]
        == "d-mgd lists no managed third-party component 'redis' (it lists: postgres, kafka)"
    )
    problems = check("enterprise", PROD_MANAGED, "incident", "P0", component="kafka")
    assert "(it lists: none)" in problems[0][1]


@pytest.mark.parametrize(
    ("ctype", "prio"),
    [("incident", "P1"), ("incident", "P3"), ("query", None), ("security_report", None)],
)
def test_only_a_p0_incident_names_a_component(ctype, prio):
    problems = check("enterprise", WITH_COMPONENTS, ctype, prio, component="kafka")
    assert fields(problems) == ["component"]
    assert problems[0][1] == "only a P0 incident names a managed third-party component"


def test_deployment_of_another_subscriber_is_refused():
    other = DeploymentFacts("x-prod", "other", "production", managed=True)
    problems = check("enterprise", other, "incident", "P1")
    assert fields(problems) == ["deployment"]
    assert "other" in problems[0][1]


def test_unknown_case_type():
    assert fields(check("enterprise", PROD, "ticket", None)) == ["type"]


def test_several_problems_are_all_reported():
    problems = check("basic", PRE, "incident", "P0")
    assert sorted(fields(problems)) == ["deployment", "priority"]
