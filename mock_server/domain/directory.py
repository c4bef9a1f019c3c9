"""Reference data outside the seven resources: projects, offices and the resources
(people, equipment...) that certificates and compliance schedule entries name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Project:
    project_id: str
    name: str
    type: str | None = None


@dataclass(frozen=True)
class Office:
    office_id: str
    project_id: str
    name: str
    type: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Subject:
    """A resource a certificate is issued to or a schedule entry names (person, equipment...)."""

    resource_id: str
    project_id: str
    type: str
    name: str
    office_id: str | None = None


@dataclass
class Directory:
    projects: dict[str, Project] = field(default_factory=dict)
    offices: dict[str, Office] = field(default_factory=dict)
    subjects: dict[str, Subject] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Directory":
        """The directory of a state document (checked by mock_server.state_format beforehand)."""
        return cls(
            projects={p["project_id"]: Project(**p) for p in data.get("projects", [])},
            offices={o["office_id"]: Office(**o) for o in data.get("offices", [])},
            subjects={r["resource_id"]: Subject(**r) for r in data.get("resources", [])},
        )

    def to_data(self) -> dict[str, Any]:
        """As a state document holds it: every field, in the order of the dataclasses."""
        return {
            "projects": [asdict(p) for p in self.projects.values()],
            "offices": [asdict(o) for o in self.offices.values()],
            "resources": [asdict(r) for r in self.subjects.values()],
        }

    def project_name(self, project_id: str | None) -> str | None:
        project = self.projects.get(project_id)  # type: ignore[arg-type]
        return project.name if project else None

    def office_name(self, office_id: str | None) -> str | None:
        office = self.offices.get(office_id)  # type: ignore[arg-type]
        return office.name if office else None
