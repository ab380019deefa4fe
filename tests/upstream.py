"""FOLIO's upstream schemas, for contract tests: where they are and how to validate against them.

The folder beside the repository (``shared/upstream/folio``) holds FOLIO's own RAML, schemas and
examples. Tests that need it skip with a clear message when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream" / "folio"
needs_upstream = pytest.mark.skipif(not UPSTREAM.is_dir(), reason=f"upstream FOLIO schemas not found at {UPSTREAM}")

SUBSTITUTES = {  # referenced by the upstream schemas but kept in raml-util at another commit
    "uuid.schema": {"type": "string", "pattern": "^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[1-5][a-fA-F0-9]{3}-[89abAB][a-fA-F0-9]{3}-[a-fA-F0-9]{12}$"},
    "metadata.schema": {  # as document 002 prints it inline
        "type": "object", "additionalProperties": False, "required": ["createdDate"],
        "properties": {
            "createdDate": {"type": "string"}, "createdByUserId": {"type": "string", "pattern": "^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$"},
            "createdByUsername": {"type": "string"}, "updatedDate": {"type": "string"},
            "updatedByUserId": {"type": "string", "pattern": "^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$"},
            "updatedByUsername": {"type": "string"},
        },
    },
    "tags.schema": {"type": "object"},
}
BASE = "https://upstream.invalid/"


def _retrieve(uri: str) -> Resource:
    relative = uri.removeprefix(BASE)
    if "raml-util/schemas/" in relative:
        relative = "raml-util/schemas/" + relative.rsplit("/", 1)[-1]
    path = UPSTREAM / relative
    contents = json.loads(path.read_text()) if path.exists() else SUBSTITUTES[path.name]
    return Resource.from_contents(contents, default_specification=DRAFT4)


def conforms(document: object, schema: str) -> None:
    validator = Draft4Validator({"$ref": BASE + schema}, registry=Registry(retrieve=_retrieve))
    validator.validate(document)


def example(path: str) -> object:
    return json.loads((UPSTREAM / path).read_text())
