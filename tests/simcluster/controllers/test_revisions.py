"""ControllerRevision planning: new templates get new revisions, old ones are renumbered."""

from __future__ import annotations

from typing import Any

from simcluster.controllers.revisions import (
    plan_revision,
    revision_data,
    revisions_to_prune,
    template_of,
)

Obj = dict[str, Any]


def _template(image: str) -> Obj:
    return {
        "metadata": {"labels": {"k8s-app": "kube-proxy"}},
        "spec": {"containers": [{"name": "kube-proxy", "image": image}]},
    }


def _revision(name: str, image: str, number: int) -> Obj:
    return {
        "metadata": {"name": name, "labels": {"controller-revision-hash": name.rsplit("-", 1)[-1]}},
        "data": revision_data(_template(image)),
        "revision": number,
    }


def test_revision_data_is_the_template_patch_kubectl_undo_applies() -> None:
    data = revision_data(_template("a:1"))
    assert data["spec"]["template"]["$patch"] == "replace"
    assert template_of({"data": data}) == _template("a:1")


def test_a_new_template_plans_a_new_revision_numbered_after_the_newest() -> None:
    plan = plan_revision("kube-proxy", _template("a:2"), [_revision("kube-proxy-aaa", "a:1", 1)])
    assert plan.create
    assert plan.number == 2
    assert plan.name == f"kube-proxy-{plan.hash}"


def test_the_current_template_reuses_its_revision() -> None:
    plan = plan_revision(
        "kube-proxy",
        _template("a:2"),
        [_revision("kube-proxy-aaa", "a:1", 1), _revision("kube-proxy-bbb", "a:2", 2)],
    )
    assert (plan.name, plan.hash, plan.number, plan.create, plan.renumber) == (
        "kube-proxy-bbb",
        "bbb",
        2,
        False,
        False,
    )


def test_returning_to_an_older_template_renumbers_its_revision_as_the_newest() -> None:
    plan = plan_revision(
        "kube-proxy",
        _template("a:1"),
        [_revision("kube-proxy-aaa", "a:1", 1), _revision("kube-proxy-bbb", "a:2", 2)],
    )
    assert (plan.name, plan.number, plan.create, plan.renumber) == (
        "kube-proxy-aaa",
        3,
        False,
        True,
    )


def test_pruning_keeps_the_newest_revisions_and_the_current_one() -> None:
    existing = [_revision(f"r-{i}", f"a:{i}", i) for i in range(1, 5)]
    assert revisions_to_prune(existing, keep=2, current="r-1") == ["r-2"]
