"""API faults decide, reproducibly from a seed, which requests fail, how, and how slowly."""

from __future__ import annotations

import pytest

from simcluster.api_faults import ApiFaults
from simcluster.errors import InternalError, TooManyRequestsError


def test_a_full_throttle_rate_always_answers_429() -> None:
    faults = ApiFaults(throttle_rate=1.0, retry_after_seconds=3)
    error = faults.draw("list", "pods")
    assert isinstance(error, TooManyRequestsError)
    assert error.to_status()["details"] == {"retryAfterSeconds": 3}


def test_a_full_error_rate_always_answers_500() -> None:
    assert isinstance(ApiFaults(error_rate=1.0).draw("get", "pods"), InternalError)


def test_the_same_seed_draws_the_same_faults() -> None:
    def outcomes(seed: int) -> list[str]:
        faults = ApiFaults(throttle_rate=0.3, error_rate=0.3, seed=seed)
        return [type(faults.draw("get", "pods")).__name__ for _ in range(50)]

    assert outcomes(7) == outcomes(7)
    assert {"TooManyRequestsError", "InternalError", "NoneType"} <= set(outcomes(7))


@pytest.mark.parametrize(
    ("verbs", "resources", "verb", "resource", "applies"),
    [
        (None, None, "get", "pods", True),
        (frozenset({"delete"}), None, "get", "pods", False),
        (frozenset({"delete"}), None, "delete", "pods", True),
        (None, frozenset({"pods"}), "get", "pods/log", True),
        (None, frozenset({"pods/exec"}), "get", "pods/log", False),
        (None, frozenset({"services"}), "get", "pods", False),
    ],
)
def test_faults_apply_only_to_the_chosen_verbs_and_resources(
    verbs: frozenset[str] | None,
    resources: frozenset[str] | None,
    verb: str,
    resource: str,
    applies: bool,
) -> None:
    faults = ApiFaults(error_rate=1.0, verbs=verbs, resources=resources)
    assert faults.applies_to(verb, resource) is applies
    assert (faults.draw(verb, resource) is not None) is applies


def test_clear_removes_every_fault() -> None:
    faults = ApiFaults(latency_seconds=1, throttle_rate=1, error_rate=1, verbs=frozenset({"get"}))
    faults.clear()
    assert faults.draw("get", "pods") is None
    assert faults.delay_for("get", "pods") == 0


@pytest.mark.parametrize(
    ("faults", "verb", "resource", "delay"),
    [
        (ApiFaults(latency_seconds=0.5), "list", "pods", 0.5),
        (ApiFaults(latency_seconds=0.5, verbs=frozenset({"get"})), "list", "pods", 0.0),
        (ApiFaults(latency_seconds=0.5, resources=frozenset({"pods"})), "get", "pods/log", 0.5),
        (ApiFaults(latency_seconds=0.5, resources=frozenset({"pods/exec"})), "get", "pods", 0.0),
        (ApiFaults(), "get", "pods", 0.0),
    ],
)
def test_latency_is_added_only_to_the_requests_it_applies_to(
    faults: ApiFaults, verb: str, resource: str, delay: float
) -> None:
    assert faults.delay_for(verb, resource) == delay


@pytest.mark.parametrize(
    ("throttle_rate", "error_rate", "expected"),
    [
        (0.0, 0.0, set()),
        (1.0, 0.0, {"TooManyRequestsError"}),
        (0.0, 1.0, {"InternalError"}),
        (0.5, 0.5, {"TooManyRequestsError", "InternalError"}),
        (0.3, 0.3, {"TooManyRequestsError", "InternalError", "NoneType"}),
    ],
)
def test_throttling_and_errors_take_their_share_of_the_draws(
    throttle_rate: float, error_rate: float, expected: set[str]
) -> None:
    faults = ApiFaults(throttle_rate=throttle_rate, error_rate=error_rate, seed=3)
    drawn = {type(faults.draw("get", "pods")).__name__ for _ in range(200)}
    assert drawn == (expected or {"NoneType"})


def test_an_injected_500_names_the_request() -> None:
    error = ApiFaults(error_rate=1.0).draw("delete", "pods/exec")
    assert isinstance(error, InternalError)
    assert "injected fault on delete pods/exec" in error.to_status()["message"]


def test_a_new_seed_restarts_the_draws() -> None:
    faults = ApiFaults(throttle_rate=0.5, seed=1)
    first = [faults.draw("get", "pods") is None for _ in range(20)]
    faults.seed = 2
    second = [faults.draw("get", "pods") is None for _ in range(20)]
    faults.seed = 1
    assert [faults.draw("get", "pods") is None for _ in range(20)] == first
    assert second != first


def test_clear_keeps_the_seed() -> None:
    faults = ApiFaults(error_rate=1.0, seed=5)
    faults.clear()
    assert faults.seed == 5
    assert faults.resources is None
