"""The runbook schema: pydantic models for one YAML runbook file."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Self

from pydantic import (
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from runbooks.approval import ApprovalPolicy
from runbooks.durations import parse_duration
from runbooks.fields import (
    CatalogModel,
    Constant,
    DeploymentName,
    Duration,
    LabelName,
    ParameterName,
    RegexPattern,
    RunbookName,
    Scalar,
    Template,
    schema_error,
)
from runbooks.templates import template_fields


class AlertStatus(StrEnum):
    """The status of an Alertmanager alert."""

    FIRING = "firing"
    RESOLVED = "resolved"


class SharedObject(StrEnum):
    """What many Services depend on at once: one run at a time changes it, for all of them."""

    KUBE_PROXY = "kube-proxy"
    """Every node's kube-proxy pod and their DaemonSet."""


class Matcher(CatalogModel):
    """Which alerts start a runbook: every equality and every regex must hold (Alertmanager rules).

    An absent label matches as the empty string, and regexes must match the whole value.
    """

    labels: dict[LabelName, str] = Field(
        default_factory=dict, description="label name -> exact value"
    )
    labels_regex: dict[LabelName, RegexPattern] = Field(
        default_factory=dict, description="label name -> regex matching the whole value"
    )

    @model_validator(mode="after")
    def _requires_a_condition(self) -> Self:
        if not self.labels and not self.labels_regex:
            raise schema_error(
                "match has no condition and would match every alert",
                fix="add labels: {alertname: <AlertName>} (or labels_regex)",
            )
        return self

    def holds(self, labels: Mapping[str, str]) -> bool:
        """Return whether the alert labels satisfy every condition."""
        for name, value in self.labels.items():
            if labels.get(name, "") != value:
                return False
        return all(
            pattern.fullmatch(labels.get(name, "")) is not None
            for name, pattern in self.labels_regex.items()
        )

    def describe(self) -> str:
        """Render the conditions in Alertmanager matcher syntax."""
        equal = [f'{name}="{value}"' for name, value in self.labels.items()]
        regex = [f'{name}=~"{pattern.pattern}"' for name, pattern in self.labels_regex.items()]
        return ", ".join(equal + regex)


def _single_label_to_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class ParameterSource(CatalogModel):
    """Where a flow parameter's value comes from: a constant, or the first present label."""

    value: Constant | None = Field(default=None, description="a constant value")
    from_label: Annotated[
        tuple[LabelName, ...],
        BeforeValidator(_single_label_to_list, json_schema_input_type=str | list[str]),
    ] = Field(default=(), description="label name, or names tried in order (first present wins)")
    default: str | None = Field(default=None, description="value when none of the labels is set")
    required: bool = Field(
        default=True, description="without a default: a missing label makes the match fail"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        has_value = "value" in self.model_fields_set
        if has_value and self.from_label:
            raise schema_error(
                "a parameter has both value and from_label",
                fix="keep either the constant value or from_label",
            )
        if not has_value and not self.from_label:
            raise schema_error(
                "a parameter needs a source", fix="write a constant, or {from_label: <label>}"
            )
        if has_value and self.value is None:
            raise schema_error(
                "a parameter's value is null", fix="give a string, number or boolean"
            )
        if has_value and ({"default", "required"} & self.model_fields_set):
            raise schema_error(
                "default and required only apply to from_label",
                fix="remove default/required from the constant parameter",
            )
        return self

    @property
    def always_resolves(self) -> bool:
        """Whether resolution always yields a value (never omits the parameter)."""
        return not self.from_label or self.default is not None or self.required


def _constant_to_source(value: object) -> object:
    if isinstance(value, Mapping | ParameterSource):
        return value
    if isinstance(value, str | int | float | bool):
        return {"value": value}
    raise schema_error(
        f"parameter value {value!r} is neither a constant nor a mapping",
        fix="write a string, number or boolean, or {from_label: <label>, default: <value>}",
    )


ParameterSpec = Annotated[
    ParameterSource,
    BeforeValidator(_constant_to_source, json_schema_input_type=Scalar | ParameterSource),
]


class Cooldown(CatalogModel):
    """After a run, the same runbook does not start again for the same target for a while."""

    duration: Duration = Field(description="e.g. '10m', '1h30m'")
    target: Template = Field(description="target key template, e.g. '{namespace}/{service}'")

    @cached_property
    def seconds(self) -> int:
        """The duration in seconds."""
        return parse_duration(self.duration)


class Runbook(CatalogModel):
    """One runbook: which alerts start which Prefect deployment, with which parameters."""

    name: RunbookName = Field(description="unique kebab-case name")
    description: str = Field(min_length=1)
    manual_only: bool = Field(default=False, description="never matched from alerts")
    match: Matcher | None = Field(default=None, validate_default=True)
    statuses: tuple[AlertStatus, ...] = Field(default=(AlertStatus.FIRING,), min_length=1)
    deployment: DeploymentName = Field(description="Prefect 'flow-name/deployment-name'")
    parameters: dict[ParameterName, ParameterSpec] = Field(default_factory=dict)
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    cooldown: Cooldown | None = None
    concurrency_key: Template = Field(
        description="template naming what the run acts on; runs with equal keys never overlap"
    )
    joins_incident: SharedObject | None = Field(
        default=None,
        description="while a run works on an incident of this shared object (kube-proxy), "
        "this runbook's alerts join it instead of starting runs; the run verifies their "
        "targets once its change is done, and starts a run for each one still failing",
    )

    @field_validator("match")
    @classmethod
    def _match_iff_alert_driven(cls, match: Matcher | None, info: ValidationInfo) -> Any:
        manual_only = info.data.get("manual_only", False)
        if manual_only and match is not None:
            raise schema_error(
                "a manual_only runbook has a match, which would never be used",
                fix="remove match, or set manual_only: false",
            )
        if not manual_only and match is None:
            raise schema_error(
                "match is missing: the runbook would never start",
                fix="add match: {labels: {alertname: <AlertName>}}, or set manual_only: true",
            )
        return match

    @field_validator("parameters")
    @classmethod
    def _labels_need_alerts(
        cls, parameters: dict[str, ParameterSource], info: ValidationInfo
    ) -> Any:
        if info.data.get("manual_only", False):
            for name, source in parameters.items():
                if source.from_label:
                    raise schema_error(
                        f"parameter {name!r} reads a label, but manual runs have no alert",
                        fix="give a constant, or leave the parameter to the operator",
                        at=(name, "from_label"),
                    )
        return parameters

    @field_validator("cooldown")
    @classmethod
    def _cooldown_target_resolves(cls, cooldown: Cooldown | None, info: ValidationInfo) -> Any:
        if cooldown is not None:
            _check_template_fields(cooldown.target, info, at=("target",))
        return cooldown

    @field_validator("concurrency_key")
    @classmethod
    def _concurrency_key_resolves(cls, key: str, info: ValidationInfo) -> Any:
        _check_template_fields(key, info, at=())
        return key


def _check_template_fields(template: str, info: ValidationInfo, *, at: tuple[str, ...]) -> None:
    """Every field of an alert-driven runbook's template must be a parameter that always resolves.

    Manual runbooks are exempt: the operator supplies parameters, checked against the deployment.
    """
    parameters: dict[str, ParameterSource] | None = info.data.get("parameters")
    if info.data.get("manual_only", False) or parameters is None:
        return
    for field in template_fields(template):
        source = parameters.get(field)
        if source is None:
            raise schema_error(
                f"template {template!r} uses {{{field}}}, which is not a parameter",
                fix=f"add parameter {field!r} or use one of: {', '.join(parameters) or '(none)'}",
                at=at,
            )
        if not source.always_resolves:
            raise schema_error(
                f"template {template!r} uses {{{field}}}, which may be absent (required: false)",
                fix=f"give parameter {field!r} a default, or make it required",
                at=at,
            )
