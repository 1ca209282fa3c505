"""The wire format's JSON Schemas (docs/schemas) and a validator for the part of draft 2020-12
they use, shared by the edge's, the integration's and the PWA's tests.

The `jsonschema` package is not in the environment, so this validator is small and strict: a
schema using a keyword it does not know is refused, never silently passed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from tests.support import REPO

SCHEMAS = REPO / "docs" / "schemas"
SAMPLES = REPO / "tests" / "integration" / "fixtures"
"""Recorded payloads, each `<schema>.json`: the integration's fixtures, the PWA's test data."""

type Schema = dict[str, Any]
type Keyword = Callable[[_Check, Any, object, str, Schema], str | None]
"""A keyword's check: (validation, the keyword's value, instance, JSON path, the whole schema)."""

_ANNOTATIONS = frozenset({"$schema", "$defs", "title", "description"})
_SUBSCHEMA = frozenset({"items", "additionalProperties", "propertyNames"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


class SchemaError(AssertionError):
    """An instance does not match its schema (or a schema uses what this validator lacks)."""


@cache
def load(name: str) -> Schema:
    """The schema `docs/schemas/<name>.schema.json` (name as in `validate`)."""
    schema: Schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return schema


def names() -> list[str]:
    """Every schema's name."""
    return sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))


def validate(name: str, instance: object) -> object:
    """Check `instance` against schema `name` (e.g. "info"); return it, or raise `SchemaError`
    naming the schema, the JSON path and what is wrong."""
    problem = _Check(name).first_error(load(name), instance, "$")
    if problem is not None:
        text = json.dumps(instance)[:300]
        msg = f"not a valid {name} ({SCHEMAS.name}/{name}.schema.json): {problem}\n  in {text}"
        raise SchemaError(msg)
    return instance


def sample(name: str) -> Any:
    """The recorded payload `SAMPLES/<name>.json`, checked against schema `name`."""
    return validate(name, json.loads((SAMPLES / f"{name}.json").read_text()))


def check_schema(name: str) -> None:
    """Refuse a schema with a keyword this validator does not know or a `$ref` that leads
    nowhere, on every branch (validation only meets the branches an instance takes)."""
    _Check(name).lint(load(name))


class _Check:
    """One validation; `doc` is the schema file `$ref`s without a file name resolve against."""

    def __init__(self, doc: str) -> None:
        self.doc = doc

    def first_error(self, schema: Schema, value: object, path: str) -> str | None:
        """The first problem of `value` at `path`, or None."""
        for key, arg in schema.items():
            if key not in _ANNOTATIONS:
                problem = self.keyword(key)(self, arg, value, path, schema)
                if problem is not None:
                    return problem
        return None

    def keyword(self, key: str) -> Keyword:
        """The check of keyword `key`; one this validator does not know is an error."""
        check = _KEYWORDS.get(key)
        if check is None:
            msg = f"{self.doc}: keyword {key!r} is not supported by tests/schemas.py"
            raise SchemaError(msg)
        return check

    def lint(self, schema: Schema) -> None:
        """Walk every subschema of `schema`, checking keywords and references."""
        for key, arg in schema.items():
            if key not in _ANNOTATIONS:
                self.keyword(key)
            if key in ("properties", "$defs"):
                subs = list(arg.values())
            elif key in ("oneOf", "anyOf"):
                subs = arg
            else:
                subs = [arg] if key in _SUBSCHEMA and isinstance(arg, dict) else []
            for sub in subs:
                self.lint(sub)
            if key == "$ref":
                self.resolve(arg)

    def resolve(self, target: str) -> tuple[str, Schema]:
        """The file name and the schema a `$ref` points to."""
        doc, _, pointer = target.partition("#")
        doc = doc.removesuffix(".schema.json") or self.doc
        schema = load(doc)
        for part in filter(None, pointer.split("/")):
            schema = schema[part]
        return doc, schema

    def ref(self, target: str, value: object, path: str) -> str | None:
        """The first problem of `value` against the schema `target` points to."""
        doc, schema = self.resolve(target)
        return _Check(doc).first_error(schema, value, path)


def _type(_c: _Check, arg: str | list[str], v: object, path: str, _s: Schema) -> str | None:
    types = [arg] if isinstance(arg, str) else arg
    if any(_TYPES[t](v) for t in types):
        return None
    return f"{path}: {json.dumps(v)[:60]} is not of type {' or '.join(types)}"


def _properties(c: _Check, arg: Schema, v: object, path: str, _s: Schema) -> str | None:
    if not isinstance(v, dict):
        return None
    for key, sub in arg.items():
        if key in v and (problem := c.first_error(sub, v[key], f"{path}.{key}")):
            return problem
    return None


def _required(_c: _Check, arg: list[str], v: object, path: str, _s: Schema) -> str | None:
    missing = [key for key in arg if isinstance(v, dict) and key not in v]
    return f"{path}: missing {', '.join(missing)}" if missing else None


def _additional(c: _Check, arg: bool | Schema, v: object, path: str, s: Schema) -> str | None:
    if not isinstance(v, dict):
        return None
    for key in sorted(set(v) - set(s.get("properties", {}))):
        if arg is False:
            return f"{path}: unexpected key {key!r}"
        if isinstance(arg, dict) and (problem := c.first_error(arg, v[key], f"{path}.{key}")):
            return problem
    return None


def _property_names(c: _Check, arg: Schema, v: object, path: str, _s: Schema) -> str | None:
    if not isinstance(v, dict):
        return None
    return next((p for key in v if (p := c.first_error(arg, key, f"{path} key {key!r}"))), None)


def _items(c: _Check, arg: Schema, v: object, path: str, _s: Schema) -> str | None:
    if not isinstance(v, list):
        return None
    return next((p for i, x in enumerate(v) if (p := c.first_error(arg, x, f"{path}[{i}]"))), None)


def _one_of(c: _Check, arg: list[Schema], v: object, path: str, _s: Schema) -> str | None:
    problems = [c.first_error(sub, v, path) for sub in arg]
    matched = problems.count(None)
    if matched == 1:
        return None
    if matched > 1:
        return f"{path}: matches {matched} branches of oneOf"
    return f"{path}: matches no branch of oneOf: " + " | ".join(str(p) for p in problems)


def _any_of(c: _Check, arg: list[Schema], v: object, path: str, _s: Schema) -> str | None:
    problems = [c.first_error(sub, v, path) for sub in arg]
    if None in problems:
        return None
    return f"{path}: matches no branch of anyOf: " + " | ".join(str(p) for p in problems)


def _limit(
    test: Callable[[float, float], bool], what: str, measure: Callable[[object], float | None]
) -> Keyword:
    def check(_c: _Check, arg: float, v: object, path: str, _s: Schema) -> str | None:
        measured = measure(v)
        if measured is None or test(measured, arg):
            return None
        return f"{path}: {json.dumps(v)[:60]} {what} {arg}"

    return check


def _number(v: object) -> float | None:
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def _length(kind: type) -> Callable[[object], float | None]:
    return lambda v: len(v) if isinstance(v, kind) else None


def _same(a: object, b: object) -> bool:
    """JSON equality, where `true` is not `1`."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _const(_c: _Check, arg: Any, v: object, path: str, _s: Schema) -> str | None:
    return None if _same(v, arg) else f"{path}: {json.dumps(v)[:60]} is not {json.dumps(arg)}"


def _enum(_c: _Check, arg: list[Any], v: object, path: str, _s: Schema) -> str | None:
    if any(_same(v, a) for a in arg):
        return None
    return f"{path}: {json.dumps(v)[:60]} is not one of {arg}"


def _pattern(_c: _Check, arg: str, v: object, path: str, _s: Schema) -> str | None:
    if not isinstance(v, str) or re.search(arg, v):
        return None
    return f"{path}: {v[:60]!r} does not match {arg}"


def _ref(c: _Check, arg: str, v: object, path: str, _s: Schema) -> str | None:
    return c.ref(arg, v, path)


_KEYWORDS: dict[str, Keyword] = {
    "type": _type,
    "properties": _properties,
    "required": _required,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "items": _items,
    "oneOf": _one_of,
    "anyOf": _any_of,
    "const": _const,
    "enum": _enum,
    "pattern": _pattern,
    "$ref": _ref,
    "minimum": _limit(lambda v, a: v >= a, "is less than", _number),
    "maximum": _limit(lambda v, a: v <= a, "is more than", _number),
    "minLength": _limit(lambda n, a: n >= a, "is shorter than", _length(str)),
    "maxLength": _limit(lambda n, a: n <= a, "is longer than", _length(str)),
    "minItems": _limit(lambda n, a: n >= a, "has fewer items than", _length(list)),
    "maxItems": _limit(lambda n, a: n <= a, "has more items than", _length(list)),
}
