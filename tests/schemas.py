"""The wire format's JSON Schemas (docs/schemas), validated with `jsonschema` (draft 2020-12):
shared by the edge's, the integration's and the PWA's tests."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import relevance
from referencing import Registry, Resource

from tests.support import REPO

SCHEMAS = REPO / "docs" / "schemas"
SAMPLES = REPO / "tests" / "integration" / "fixtures"
"""Recorded payloads, each `<schema>.json`: the integration's fixtures, the PWA's test data."""


class SchemaError(AssertionError):
    """An instance does not match its schema."""


def names() -> list[str]:
    """Every schema's name (`docs/schemas/<name>.schema.json`)."""
    return sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))


def load(name: str) -> dict[str, Any]:
    """The schema `docs/schemas/<name>.schema.json`."""
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return schema


@cache
def _registry() -> Registry:
    """Every schema under its file name, so `"$ref": "common.schema.json#/…"` resolves."""
    return Registry().with_resources(
        (f"{name}.schema.json", Resource.from_contents(load(name))) for name in names()
    )


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for schema `name`, its `$ref`s resolved among the other schema files."""
    return Draft202012Validator(load(name), registry=_registry())


def validate(name: str, instance: object) -> object:
    """Check `instance` against schema `name` (e.g. "info"); return it, or raise `SchemaError`
    naming the schema and, most relevant first, each JSON path and what is wrong there."""
    errors = sorted(validator(name).iter_errors(instance), key=relevance)
    if errors:
        problems = "".join(f"\n  {error.json_path}: {error.message}" for error in errors)
        text = json.dumps(instance)[:300]
        msg = f"not a valid {name} ({SCHEMAS.name}/{name}.schema.json):{problems}\n  in {text}"
        raise SchemaError(msg)
    return instance


def sample(name: str) -> Any:
    """The recorded payload `SAMPLES/<name>.json`, checked against schema `name`."""
    return validate(name, json.loads((SAMPLES / f"{name}.json").read_text()))


def check_schema(name: str) -> None:
    """Refuse a schema that is not valid draft 2020-12 or has a `$ref` that leads nowhere."""
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    resolver = _registry().resolver(f"{name}.schema.json")
    for ref in _refs(schema):
        resolver.lookup(ref)


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
