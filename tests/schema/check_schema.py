#!/usr/bin/env python3
"""Checks the workflow JSON Schema against the example workflows.

Every *.yaml / *.yml below each --valid-root must validate; every file in each
--invalid-dir must be rejected. The schema itself is checked against the draft-07
metaschema first.

Files are read as YAML 1.2 (core schema), as the real loader reads them: only
true/false are booleans (so a `retry: {on: [...]}` key stays the string "on"),
`0644` is the integer 644, and dates stay strings. Duplicate keys are errors.

Needs python3-yaml and python3-jsonschema (Debian packages).
"""

import argparse
import json
import pathlib
import re
import sys

import jsonschema
import yaml

MERGE_TAG = "tag:yaml.org,2002:merge"


class Yaml12Loader(yaml.SafeLoader):
    """A SafeLoader that resolves plain scalars with the YAML 1.2 core schema."""

    yaml_implicit_resolvers = {}

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"duplicate key {key!r} (first at line {seen[key].line + 1})",
                        key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _construct_int(loader, node):
    value = loader.construct_scalar(node)
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def _construct_float(loader, node):
    value = loader.construct_scalar(node).lower()
    if value.endswith(".inf"):
        return float("-inf") if value.startswith("-") else float("inf")
    if value == ".nan":
        return float("nan")
    return float(value)


def _add(tag, pattern, first):
    Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))


_add("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_add("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
# int before float: the first matching resolver wins.
_add("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_add("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")
_add(MERGE_TAG, r"^(?:<<)$", "<")
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load(path):
    """Returns (data, positions): positions maps a path tuple to a 1-based (line, col)."""
    with open(path, encoding="utf-8") as stream:
        loader = Yaml12Loader(stream)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    positions = {}

    def walk(n, where):
        positions.setdefault(where, (n.start_mark.line + 1, n.start_mark.column + 1))
        if isinstance(n, yaml.MappingNode):
            for key_node, value_node in n.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                positions.setdefault(where + (key,),
                                     (key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                walk(value_node, where + (key,))
        elif isinstance(n, yaml.SequenceNode):
            for index, item in enumerate(n.value):
                walk(item, where + (index,))

    if node is not None:
        walk(node, ())
    return data, positions


def describe_path(error):
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return where.lstrip(".")


def describe(error):
    where = describe_path(error)
    return f"{error.message}" + (f" (at {where})" if where else "")


def locate(error, positions):
    path = tuple(str(p) if not isinstance(p, int) else p for p in error.absolute_path)
    while path not in positions and path:
        path = path[:-1]
    return positions.get(path, (1, 1))


def errors_of(validator, path):
    """Returns (problems, yaml_failed): problems are 'FILE:LINE:COL: error: ...' lines."""
    try:
        data, positions = load(path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(e, "problem", None) or str(e)
        return [f"{path}:{line}:{col}: error: YAML: {problem}"], True
    found = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = []
    for error in found:
        # A oneOf/anyOf failure is clearer through its most relevant sub-error.
        best = jsonschema.exceptions.best_match([error])
        for key in unknown_keys(best) or [None]:
            if key is None:
                line, col = locate(best, positions)
                message = describe(best)
            else:
                where = tuple(str(p) if not isinstance(p, int) else p for p in best.absolute_path)
                line, col = positions.get(where + (key,), locate(best, positions))
                message = f"unknown key {key!r}" + (f" (in {describe_path(best)})" if where else "")
            problems.append(f"{path}:{line}:{col}: error: {message}")
    return problems, False


def unknown_keys(error):
    """The keys an `additionalProperties: false` error is about, to point at each of them."""
    if error.validator != "additionalProperties" or error.validator_value is not False:
        return []
    if not isinstance(error.instance, dict):
        return []
    known = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [k for k in error.instance
            if k not in known and not any(p.search(str(k)) for p in patterns)]


def yaml_files(root):
    return sorted(p for p in pathlib.Path(root).rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("--valid-root", action="append", default=[],
                        help="directory whose *.yaml files must validate (recursive)")
    parser.add_argument("--invalid-dir", action="append", default=[],
                        help="directory whose *.yaml files must be rejected")
    args = parser.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"FAIL schema does not conform to the draft-07 metaschema: {e.message}")
        return 1
    print(f"ok   schema {args.schema} conforms to the draft-07 metaschema")
    validator = jsonschema.Draft7Validator(schema)

    failures = 0
    valid_count = invalid_count = 0
    for root in args.valid_root:
        files = yaml_files(root)
        if not files:
            print(f"FAIL no YAML files under {root}")
            failures += 1
        for path in files:
            valid_count += 1
            problems, _ = errors_of(validator, path)
            if problems:
                failures += 1
                print(f"FAIL {path}: should be valid, but:")
                for problem in problems:
                    print(f"       {problem}")
            else:
                print(f"ok   valid    {path}")

    for directory in args.invalid_dir:
        files = yaml_files(directory)
        if not files:
            print(f"FAIL no YAML files in {directory}")
            failures += 1
        for path in files:
            invalid_count += 1
            problems, yaml_failed = errors_of(validator, path)
            if yaml_failed:
                failures += 1
                print(f"FAIL {path}: a negative case must be well-formed YAML:")
                print(f"       {problems[0]}")
            elif not problems:
                failures += 1
                print(f"FAIL {path}: should be rejected, but validates")
            else:
                print(f"ok   rejected {path}")
                for problem in problems:
                    print(f"       {problem}")

    print(f"{valid_count} valid and {invalid_count} invalid files checked, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
