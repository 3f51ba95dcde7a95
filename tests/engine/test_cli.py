"""The ``runbooks`` command line: catalog commands, fire's argument checks, the banners."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from engine.cli import main
from engine.commands.fire import parse_labels
from engine.commands.sim import sim_banner


def test_list_prints_every_shipped_runbook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("service-down", "kube-proxy-down", "kube-proxy-rollback", "conntrack-cleanup"):
        assert name in out


def test_validate_passes_the_shipped_catalog_whose_every_flow_has_landed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "does not exist" not in out
    assert "catalog OK" in out
    assert "(0 warning(s))" in out


def test_validate_fails_on_a_broken_runbook_and_points_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: broken\ndescription: x\ndeployment: service-checklist/service-checklist\n"
        'concurrency_key: "x"\nmatch:\n  labels: {alertname: X}\n'
        "parameters:\n  scope: service\n  nope: 1\n"
    )
    assert main(["validate", "--catalog", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'bad.yaml'}:9:" in out
    assert "nope" in out


@pytest.mark.parametrize(
    ("pairs", "labels"),
    [
        ([], {}),
        (["namespace=shop", "service=web"], {"namespace": "shop", "service": "web"}),
        (["expr=a=b"], {"expr": "a=b"}),
        (["empty="], {"empty": ""}),
    ],
)
def test_fire_labels_are_key_value_pairs(pairs: list[str], labels: dict[str, str]) -> None:
    assert parse_labels(pairs) == labels


@pytest.mark.parametrize("pair", ["namespace", "=shop"])
def test_a_malformed_fire_label_names_itself_and_the_fix(pair: str) -> None:
    with pytest.raises(ValueError, match=f"--label '{pair}': expected key=value"):
        parse_labels([pair])


def test_fire_without_a_running_engine_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNBOOKS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("RUNBOOKS_WEBHOOK_TOKEN", "t")
    code = main(["fire", "ServiceDown", "--url", "http://127.0.0.1:9/alertmanager"])
    assert code == 1
    assert "cannot reach the engine" in capsys.readouterr().out


def test_an_unknown_scenario_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sim", "--scenario", "nope", "--port", "0"]) == 2
    assert "kube-proxy-down" in capsys.readouterr().out


def test_the_simulated_cluster_banner_cannot_be_mistaken_for_production() -> None:
    banner = sim_banner(
        "http://127.0.0.1:6443",
        scenario="healthy",
        nodes=5,
        admin=Path("a.kubeconfig"),
        engine=Path("e.kubeconfig"),
    )
    assert "SIMULATED KUBERNETES CLUSTER" in banner
    assert "kubectl --kubeconfig a.kubeconfig get pods -A" in banner


def test_a_simulated_cluster_on_a_taken_port_is_refused_naming_the_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        assert main(["sim", "--port", str(port), "--nodes", "1"]) == 2

    out = capsys.readouterr().out
    assert out.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert out.endswith("pass --port with a free port (0 picks one)\n")
