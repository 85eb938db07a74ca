#!/usr/bin/env bash
# The `./sandflow` wrapper runs the built program at once when no file changed since the
# build was last found up to date, and asks the build (ninja, then the bootstrap) when one
# did. Run on a small source tree of its own: a copy of the wrapper, a build.ninja that
# "builds" the program by copying a script, and a bootstrap that runs that build. Calls
# to ninja and to the bootstrap are counted outside the tree.
#
#   wrapper-staleness.sh WRAPPER
set -euo pipefail
wrapper=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/sandflow-wrapper.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/source
calls=$work/calls
real_ninja=$(command -v ninja)

mkdir -p "$root/scripts" "$root/src" "$root/build/bin" "$work/shims"
cp "$wrapper" "$root/sandflow"
chmod +x "$root/sandflow"
cat >"$root/scripts/bootstrap" <<SH
#!/bin/sh
echo bootstrap >>"$calls"
ninja -C "$root/build" sandflow >/dev/null
SH
cat >"$root/build/build.ninja" <<'NINJA'
rule copy
  command = cp $in $out && chmod +x $out
build bin/sandflow: copy ../src/program
build sandflow: phony bin/sandflow
NINJA
# Every ninja call is counted: the fast path must not ask ninja.
cat >"$work/shims/ninja" <<SH
#!/bin/sh
echo ninja >>"$calls"
exec "$real_ninja" "\$@"
SH
chmod +x "$root/scripts/bootstrap" "$work/shims/ninja"
export PATH="$work/shims:$PATH"
unset SANDFLOW_BUILD_DIR
echo 'first' >"$root/README"

write_program() { printf '#!/bin/sh\necho "%s $*"\n' "$1" >"$root/src/program"; }
# Makes the sources and then the last check look old, so that only what is written next
# is newer than the check.
age_stamp() {
    find "$root" -path "$root/build" -prune -o -exec touch -d '-2 minutes' {} +
    touch -d '-1 minute' "$root/build/.wrapper-checked"
}
failures=0
expect() { # WHAT ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then
        echo "PASS: $1"
    else
        echo "FAIL: $1: got '$2', expected '$3'"
        failures=$((failures + 1))
    fi
}
run_case() { # WHAT EXPECTED_OUTPUT EXPECTED_CALLS
    rm -f "$calls"
    local out
    out=$("$root/sandflow" --version)
    expect "$1 (output)" "$out" "$2"
    expect "$1 (calls)" "$(if [ -f "$calls" ]; then paste -sd' ' "$calls"; fi)" "$3"
}

write_program v1
run_case "first use builds" "v1 --version" "bootstrap ninja"
run_case "nothing changed: neither ninja nor the bootstrap" "v1 --version" ""
age_stamp; write_program v2
run_case "a changed source is built" "v2 --version" "ninja bootstrap ninja"
run_case "built once, then fast again" "v2 --version" ""
age_stamp; echo 'second' >"$root/README"
run_case "a change the build does not need: ninja is asked once" "v2 --version" "ninja"
run_case "and not again" "v2 --version" ""
age_stamp; touch "$root/build/bin/other"
run_case "files in the build tree are not sources" "v2 --version" ""
mkdir -p "$root/.sandflow/runs/1"; age_stamp; mkdir "$root/.sandflow/runs/2"
run_case "run records are not sources" "v2 --version" ""
rm "$root/build/.wrapper-checked"
run_case "no stamp: ninja is asked" "v2 --version" "ninja"

if [ "$failures" -ne 0 ]; then
    echo "$failures failed"
    exit 1
fi
echo "all passed"
