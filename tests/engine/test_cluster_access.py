"""The engine works on the configured cluster, and simulates one only when none is configured."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
import yaml

from engine.cluster_access import cluster_access, configured_cluster
from engine.settings import EngineSettings
from integrations.kubernetes import ConfigurationError, connect
from simcluster.server import SimServer


@pytest.fixture
def no_cluster_around(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No in-cluster service account, no $KUBECONFIG, no ~/.kube/config."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.mark.usefixtures("no_cluster_around")
def test_with_no_cluster_configured_a_simulated_one_is_started_and_said_so(
    tmp_path: Path,
) -> None:
    settings = EngineSettings(state_dir=tmp_path, sim_port=0)
    with cluster_access(settings) as access:
        assert access.simulated
        assert access.description.startswith(f"SIMULATED cluster at {access.server} ")
        assert access.server.startswith("https://127.0.0.1:")
        assert access.admin_kubeconfig is not None
        with connect(access.connection) as kube:
            assert kube.server_version().startswith("v1.")


@pytest.mark.usefixtures("no_cluster_around")
def test_the_simulated_clusters_port_setting_is_the_port_its_kubeconfigs_name(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = EngineSettings(state_dir=tmp_path, sim_port=port)

    with cluster_access(settings) as access:
        assert access.admin_kubeconfig is not None
        written = yaml.safe_load(Path(access.admin_kubeconfig).read_text(encoding="utf-8"))

    assert access.server == f"https://127.0.0.1:{port}"
    assert written["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{port}"


@pytest.mark.usefixtures("no_cluster_around")
def test_the_engine_acts_on_the_simulated_cluster_as_its_own_service_account(
    tmp_path: Path,
) -> None:
    settings = EngineSettings(state_dir=tmp_path, sim_port=0)
    with cluster_access(settings) as access, connect(access.connection) as kube:
        assert access.connection.kubeconfig == tmp_path / "sim" / "engine.kubeconfig"
        assert kube.list_pods("kube-system", label_selector="k8s-app=kube-proxy")


@pytest.mark.usefixtures("no_cluster_around")
def test_a_configured_kubeconfig_is_used_and_nothing_is_simulated(
    tmp_path: Path, sim: SimServer
) -> None:
    kubeconfig = sim.write_kubeconfig(tmp_path / "real.kubeconfig", user="engine")
    settings = EngineSettings(state_dir=tmp_path, kubeconfig=kubeconfig)
    with cluster_access(settings) as access:
        assert not access.simulated
        assert access.description == f"kubeconfig {kubeconfig} (context simcluster)"
        assert (access.server, access.context) == (sim.https_url, "simcluster")


@pytest.mark.usefixtures("no_cluster_around")
def test_forcing_the_simulation_leaves_a_configured_cluster_alone(
    tmp_path: Path, sim: SimServer
) -> None:
    kubeconfig = sim.write_kubeconfig(tmp_path / "real.kubeconfig", user="engine")
    settings = EngineSettings(state_dir=tmp_path, kubeconfig=kubeconfig, simulate=True)

    assert configured_cluster(settings) is None


@pytest.mark.usefixtures("no_cluster_around")
def test_forbidding_the_simulation_without_a_cluster_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    settings = EngineSettings(state_dir=tmp_path, simulate=False)
    with pytest.raises(ConfigurationError, match="no cluster configured"), cluster_access(settings):
        pass


@pytest.mark.usefixtures("no_cluster_around")
def test_without_a_cluster_or_the_simulator_installed_the_error_names_both_ways_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "simcluster", None)  # as in the production image
    settings = EngineSettings(state_dir=tmp_path, sim_port=0)

    with pytest.raises(ConfigurationError) as missing, cluster_access(settings):
        pass

    assert "RUNBOOKS_KUBECONFIG" in str(missing.value)
    assert "service-runbooks[sim]" in str(missing.value)
