#!/usr/bin/env python3
"""Differential test of the loader's YAML syntax check against PyYAML.

Every file that PyYAML rejects as YAML (reader, scanner, parser or composer errors of
`yaml.safe_load`) must be rejected by `sandflow validate` with a YAML error too, not merely
with some later error: the malformed cases would otherwise pass for the wrong reason.
Files that only Sandflow rejects are counted but allowed (Sandflow is stricter in places,
e.g. it limits nesting).

PyYAML departs from YAML 1.2 in three ways that matter here, and those rejections are
skipped:
- it rejects an anchor defined twice, which YAML 1.2 allows (an alias refers to the latest);
- it rejects a tab used as separation space (`key:<TAB>value`, `[a,<TAB>b]`), which YAML 1.2
  allows and Sandflow accepts;
- it reads flow indicators into a tag (`{a: !t, b: c}` has the tag `!t,`), where YAML 1.2
  (and libyaml) end the tag. A file PyYAML rejects is asked again with a space after each
  such tag; if PyYAML then reads it, the rejection was this quirk.

Inputs: directories whose *.yaml / *.yml files are read (recursively), and --corpus
directories whose every file is read (the fuzzer's corpus, which exists only in fuzzing
builds; a missing one is skipped). The corpus grows while a fuzzer runs beside this test,
so every file is read once into a snapshot that both parsers are given. All files go to one
`sandflow validate`, so this takes about a second.

Needs python3-yaml (Debian package).
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

# The loader's messages for input it cannot read as one YAML document.
SANDFLOW_YAML_ERRORS = ("invalid YAML: ", "a workflow file holds one YAML document", "nesting is too deep")


# A tag directly followed by a flow indicator, which PyYAML would read into the tag.
TAG_BEFORE_FLOW_INDICATOR = re.compile(rb"(![^\s,\[\]{}!]*(?:![^\s,\[\]{}]*)?)(?=[,\[\]{}])")


def pyyaml_error(data):
    """PyYAML's syntax error for the bytes, or None when they read as YAML."""
    try:
        yaml.safe_load(data)
    except yaml.constructor.ConstructorError:
        return None  # a tag or key type PyYAML cannot build: not syntax
    except yaml.YAMLError as e:
        return e
    except (ValueError, RecursionError):
        return None  # e.g. a timestamp that is no date, or nesting too deep for Python
    return None


def pyyaml_syntax_error(path):
    """PyYAML's syntax error for the file, as text, or None when it reads as YAML 1.2."""
    data = path.read_bytes()
    error = pyyaml_error(data)
    if error is None:
        return None
    if isinstance(error, yaml.scanner.ScannerError) and _is_tab_separation(path, error):
        return None
    if isinstance(error, yaml.composer.ComposerError) and (error.context or "").startswith("found duplicate anchor"):
        return None
    if pyyaml_error(TAG_BEFORE_FLOW_INDICATOR.sub(rb"\1 ", data)) is None:
        return None
    return " ".join(str(error).split())


def _is_tab_separation(path, error):
    """A tab after other content on its line: separation space in YAML 1.2."""
    if "'\\t'" not in (error.problem or "") or error.problem_mark is None:
        return False
    lines = path.read_bytes().split(b"\n")
    mark = error.problem_mark
    if mark.line >= len(lines):
        return False
    before = lines[mark.line].decode("utf-8", "replace")[: mark.column]
    return before.strip(" \t") != ""


def collect(dirs, corpora, snapshot, origins):
    """The input files; the corpora's are copied into `snapshot` first, and `origins` maps
    each copy to the file it was copied from."""
    files = []
    for d in dirs:
        files += sorted(p for p in pathlib.Path(d).rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    for n, d in enumerate(corpora):
        if not pathlib.Path(d).is_dir():
            continue
        copy = pathlib.Path(snapshot) / str(n)
        copy.mkdir()
        for p in sorted(pathlib.Path(d).iterdir()):
            try:
                shutil.copyfile(p, copy / p.name)
            except (FileNotFoundError, IsADirectoryError):
                continue  # removed meanwhile, or not a file
            origins[copy / p.name] = p
            files.append(copy / p.name)
    return files


def sandflow_yaml_errors(sandflow, files):
    """The files `sandflow validate` rejects as YAML, with the message."""
    result = subprocess.run([sandflow, "validate", "--quiet", *map(str, files)],
                            capture_output=True, env={**os.environ, "NO_COLOR": "1"},
                            timeout=120)
    if result.returncode not in (0, 2):
        sys.exit(f"sandflow validate exited {result.returncode}:\n{result.stderr.decode(errors='replace')}")
    names = {str(f) for f in files}
    rejected = {}
    for line in result.stderr.decode("utf-8", "replace").splitlines():
        head, sep, message = line.partition(": error: ")
        if not sep or not message.startswith(SANDFLOW_YAML_ERRORS):
            continue
        path = head
        while path and path not in names:  # strip :LINE:COL
            path = path.rpartition(":")[0]
        if path:
            rejected.setdefault(path, line)
    return rejected


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandflow", required=True)
    parser.add_argument("--corpus", action="append", default=[])
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="yaml-differential-") as snapshot:
        origins = {}
        files = collect(args.dirs, args.corpus, snapshot, origins)
        if not files:
            sys.exit("no input files")
        ours = sandflow_yaml_errors(args.sandflow, files)
        theirs = {f: pyyaml_syntax_error(f) for f in files}
    missed = [f"{origins.get(f, f)}: PyYAML rejects it ({error}), sandflow reads it as YAML"
              for f, error in theirs.items() if error and str(f) not in ours]
    stricter = [f for f, error in theirs.items() if not error and str(f) in ours]
    print(f"{len(files)} files: PyYAML rejects {sum(1 for e in theirs.values() if e)} as YAML, "
          f"sandflow {len(ours)} ({len(stricter)} of them only sandflow)")
    for line in missed:
        print(line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
