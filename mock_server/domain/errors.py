"""The domain's errors; the HTTP glue turns each into its documented answer."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    pass


@dataclass
class NotFound(DomainError):
    segment: str
    entity_id: str

    def __str__(self) -> str:
        return f"{self.segment} {self.entity_id} does not exist"


@dataclass
class Violation:
    field: str
    message: str


@dataclass
class RuleViolations(DomainError):
    """A well-formed request that breaks one or more rules (422)."""

    violations: list[Violation] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{v.field}: {v.message}" for v in self.violations)


@dataclass
class HasDescendants(DomainError):
    """A delete without force of an entity that still has related entities (400 + preview)."""

    entities: list[tuple[str, str]]  # (segment, id), in preview order

    def __str__(self) -> str:
        return f"{len(self.entities)} related entities"


@dataclass
class BadSearch(DomainError):
    """A search the schema allowed but that cannot be answered (400)."""

    field: str
    message: str
