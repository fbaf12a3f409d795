"""The registry of rules: which function understands which event.

A service module registers its rules with :func:`handles` (exact event names, matched
after the API-version suffix that some services add, as Lambda's
``CreateFunction20150331``) and the resources its calls name with :func:`resources`.
An event that no rule claims gets the generic effect: a verb from its name
(``CreateX`` created, ``DeleteX`` deleted, ...) on every resource the service's
resource finder names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from keytrail.rules.base import Call, Node

Rule = Callable[[Call], None]
ResourceFinder = Callable[[Call], list[Node]]

#: Lambda and CloudFront version their event names: ``AddPermission20150331v2``, ``CreateDistribution2020_05_31``.
_VERSION_SUFFIX = re.compile(r"(\d{8}(v\d+)?|\d{4}_\d{2}_\d{2})$")


def base_name(event_name: str) -> str:
    """An event name without its API-version suffix."""
    return _VERSION_SUFFIX.sub("", event_name) or event_name


@dataclass(slots=True)
class Registry:
    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)
    finders: dict[str, ResourceFinder] = field(default_factory=dict)

    def rule_for(self, service: str, event_name: str) -> Rule | None:
        return self.rules.get((service, event_name)) or self.rules.get((service, base_name(event_name)))

    def events(self) -> list[tuple[str, str]]:
        """Every (service, event name) a rule is registered for."""
        return sorted(self.rules)


REGISTRY = Registry()


def handles(service: str, *event_names: str) -> Callable[[Rule], Rule]:
    """Register ``rule`` for these events of ``service`` (the eventSource's first label)."""

    def register(rule: Rule) -> Rule:
        for name in event_names:
            key = (service, name)
            if key in REGISTRY.rules:
                raise ValueError(f"two rules for {service}:{name}")
            REGISTRY.rules[key] = rule
        return rule

    return register


def resources(*services: str) -> Callable[[ResourceFinder], ResourceFinder]:
    """Register the finder of the resources a call of these services names in its request."""

    def register(finder: ResourceFinder) -> ResourceFinder:
        for service in services:
            if service in REGISTRY.finders:
                raise ValueError(f"two resource finders for {service}")
            REGISTRY.finders[service] = finder
        return finder

    return register
