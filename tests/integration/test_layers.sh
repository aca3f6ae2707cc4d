#!/usr/bin/env bash
# The layers of src/ hold (cmake/layers.txt, docs/architecture.md):
#  * scripts/check_layers.py passes on the tree, and fails, naming file,
#    line and rule, on a scratch copy given one violation at a time (an
#    upward include, an outside library's header, another layer's private
#    header, an unqualified include, a directory that is no layer, a
#    docs table of layers that says otherwise) and on a table whose layer
#    uses one above it;
#  * src/app: its modules (X.c and X.h) call each other in no loop — a
#    scratch copy given one (the waits part including the tools' header)
#    is refused with the cycle and the include of each step — and a
#    header declares only its own .c's functions (one declaring another
#    file's, or a header without a .c declaring any, is refused);
#  * the build: compiled with the flags of any of its own files (from
#    compile_commands.json), a layer can include a header of every layer
#    below it and of none other ("No such file");
#  * link lines: each test and fuzz driver links the layer libraries it
#    includes and those below them, and no outside library those layers
#    do not use (so a core or rpc test links no libevent, SQLite, hiredis
#    or OpenSSL).
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$(realpath "$COORDHUB")")

if python3 "$SRC/scripts/check_layers.py" "$SRC" 2>"$WORK/err"; then ok "check_layers passes on src/"; else
  fail "check_layers fails on src/"; sed 's/^/    /' "$WORK/err"; fi

# scratch_tree: a fresh copy of the table, src/ and docs/architecture.md
# in $WORK/tree.
scratch_tree() {
  rm -rf "$WORK/tree"
  mkdir -p "$WORK/tree/cmake" "$WORK/tree/docs"
  cp "$SRC/cmake/layers.txt" "$WORK/tree/cmake/"
  cp "$SRC/docs/architecture.md" "$WORK/tree/docs/"
  cp -r "$SRC/src" "$WORK/tree/src"
}

# refused CODE MESSAGE DESCRIPTION: check_layers on the scratch tree exits
# CODE and says MESSAGE (a fixed string).
refused() {
  local want=$1 msg=$2 desc=$3 got=0
  python3 "$SRC/scripts/check_layers.py" "$WORK/tree" >"$WORK/out" 2>"$WORK/err" || got=$?
  if [ "$got" = "$want" ] && grep -qF -- "$msg" "$WORK/err"; then ok "$desc"; else
    fail "$desc (exit $got, wanted $want with: $msg)"; sed 's/^/    /' "$WORK/err"; fi
}

# add_include FILE LINE: put LINE before the first #include of FILE.
add_include() {
  sed -i "0,/^#include/s||$2\n&|" "$WORK/tree/$1"
}

scratch_tree
expect_code 0 "an untouched copy passes" -- python3 "$SRC/scripts/check_layers.py" "$WORK/tree"

scratch_tree
add_include src/core/agent.c '#include "store/store.h"'
refused 1 'src/core/agent.c:' "an upward include is refused with its place"
refused 1 'core may not include "store/store.h": store is not below core in cmake/layers.txt' \
  "an upward include is refused naming the rule"

# src/app: a loop among the hub's files, a header declaring what its
# file does not define.
scratch_tree
sed -i '0,/^#include "app\/hub_session.h"/s||#include "app/hub_session.h"\n#include "app/hub_tools.h"|' \
  "$WORK/tree/src/app/hub_waits.c"
refused 1 'src/app: the modules call each other in a loop: ' "a loop among src/app files is refused"
refused 1 'hub_waits -> hub_tools at src/app/hub_waits.c:' "the loop is refused with each step's include"
scratch_tree
printf 'void hub_tool_run(void);\n' >>"$WORK/tree/src/app/hub_waits.h"
refused 1 "src/app/hub_waits.h: declares hub_tool_run(), which src/app/hub_waits.c does not define" \
  "a header declaring another file's function is refused"
scratch_tree
printf 'int hub_now(void);\n' >>"$WORK/tree/src/app/hub_state.h"
refused 1 "src/app/hub_state.h: declares hub_now(), which is defined in no src/app/hub_state.c" \
  "a composition header declaring a function is refused"

scratch_tree
add_include src/rpc/jsonrpc.c '#include <event2/event.h>'
refused 1 "rpc may not include <event2/event.h>: it is libevent's" \
  "libevent's header in rpc is refused"
scratch_tree
add_include src/core/workspace.c '#include <sqlite3.h>'
refused 1 "core may not include <sqlite3.h>: it is sqlite's" "SQLite's header in core is refused"
scratch_tree
add_include src/api/status.c '#include <openssl/evp.h>'
expect_code 0 "OpenSSL in api passes (auth and net below it use it)" -- \
  python3 "$SRC/scripts/check_layers.py" "$WORK/tree"

scratch_tree
add_include src/app/hub.c '#include "rpc/mcp_internal.h"'
refused 1 'app may not include "rpc/mcp_internal.h": it is private to rpc' \
  "another layer's private header is refused"

scratch_tree
add_include src/bus/bus.c '#include "bus.h"'
refused 1 'src/bus/bus.c:' "an unqualified include is refused with its place"
refused 1 'a project header is included as "layer/file.h"' "an unqualified include names the form"

scratch_tree
mkdir -p "$WORK/tree/src/sup"
echo '#include "base/err.h"' >"$WORK/tree/src/sup/sup.c"
refused 1 'src/sup/: not a layer of cmake/layers.txt' "a directory that is no layer is refused"

scratch_tree
sed -i 's/^\(| `rpc\/` |.*\)| core, bus |$/\1| core, bus, store |/' "$WORK/tree/docs/architecture.md"
refused 1 '`rpc/` depends on "core, bus, store", cmake/layers.txt says core, bus' \
  "a docs table of layers that disagrees with the table is refused"
scratch_tree
sed -i 's/^layer core:  base                |$/layer core:  base                | libevent/' \
  "$WORK/tree/cmake/layers.txt"
refused 1 '`core/` depends on "base", cmake/layers.txt says base, libevent' \
  "a library added to the table but not to the docs is refused"

scratch_tree
sed -i 's/^layer core:  base /layer core:  store/' "$WORK/tree/cmake/layers.txt"
refused 2 'layer core uses store, which is not a layer listed before it' \
  "a table whose layer uses one above it is refused"

if [ ! -f "$BUILD/compile_commands.json" ] || [ ! -f "$BUILD/layers/links.txt" ]; then
  fail "no compile_commands.json or layers/links.txt in $BUILD"
  finish
  exit
fi

# The build's side, from what CMake generated for this build directory.
python3 - "$SRC" "$BUILD" "$WORK" <<'EOF' >"$WORK/py.out" 2>&1 || true
import glob, json, os, re, shlex, subprocess, sys
sys.path.insert(0, os.path.join(sys.argv[1], "scripts"))
import check_layers

src, build, work = sys.argv[1:4]
layers, libs = check_layers.read_table(os.path.join(src, "cmake", "layers.txt"))
allowed = {n: check_layers.below(layers, n) for n in layers}

def say(good, what):
    print(("ok - " if good else "not ok - ") + what)

# 1. Include paths: a probe including one header of layer X, compiled
#    with the flags of a file of layer L.
entries = json.load(open(os.path.join(build, "compile_commands.json")))
def flags_of(layer):
    for e in entries:
        if re.search(r"/src/%s/[^/]+\.c$" % layer, e["file"]):
            args = e.get("arguments") or shlex.split(e["command"])
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                elif a in ("-o", "-c", "-MF", "-MT", "-MQ"):
                    skip = True
                elif a == e["file"] or a.endswith(".c") or a in ("-MD", "-MMD"):
                    pass
                else:
                    out.append(a)
            return out, e["directory"]
    return None, None

probe = os.path.join(work, "probe.c")
for layer in layers:
    args, cwd = flags_of(layer)
    if args is None:
        say(False, "no compile command for a file of src/%s/" % layer)
        continue
    bad = []
    for other in layers:
        heads = sorted(h for h in glob.glob(os.path.join(src, "src", other, "*.h"))
                       if not h.endswith("_internal.h"))
        if not heads:
            continue
        inc = "%s/%s" % (other, os.path.basename(heads[0]))
        with open(probe, "w") as f:
            f.write('#include "%s"\n' % inc)
        r = subprocess.run(args + ["-fsyntax-only", probe], cwd=cwd, capture_output=True, text=True)
        want_ok = other in allowed[layer]
        if want_ok and r.returncode != 0:
            bad.append("%s does not compile: %s" % (inc, r.stderr.strip()[:300]))
        if not want_ok and (r.returncode == 0 or "No such file" not in r.stderr):
            bad.append("%s is found (rc %d)" % (inc, r.returncode))
    say(not bad, "%s sees the headers of %s and no others%s" %
        (layer, " ".join(sorted(allowed[layer])), "".join("\n    " + b for b in bad)))

# 2. Link lines: the archives and outside libraries each target links.
OUTSIDE = {"cjson": r"libcjson\.", "sqlite": r"libsqlite3\.", "hiredis": r"libhiredis\.",
           "libevent": r"libevent[-_.]", "openssl": r"lib(ssl|crypto)\.", "m": r"^-lm$|/libm\."}
def link_line(target):
    txt = os.path.join(build, "CMakeFiles", target + ".dir", "link.txt")
    if os.path.exists(txt):
        return open(txt).read().split()
    ninja = os.path.join(build, "build.ninja")
    if os.path.exists(ninja):
        text = open(ninja).read()
        m = re.search(r"^build %s: C_EXECUTABLE_LINKER\S*[^\n]*\n((?:  [^\n]*\n)*)" % re.escape(target),
                      text, re.M)
        if m:
            return " ".join(re.findall(r"LINK_LIBRARIES = (.*)", m.group(1))).split()
    return None

checked = 0
for line in open(os.path.join(build, "layers", "links.txt")):
    if line.startswith("#") or ":" not in line:
        continue
    target, names = line.split(":", 1)
    names = names.split()
    words = link_line(target)
    if words is None:
        continue  # not generated in this configuration (a fuzz-only target)
    closure = set().union(*(allowed[n] for n in names)) if names else set()
    usable = {lib for n in closure for lib in layers[n][1]}
    linked = {m.group(1) for w in words for m in [re.search(r"libch_([a-z]+)\.a$", w)] if m}
    outside = {lib for w in words for lib, rx in OUTSIDE.items() if re.search(rx, w)}
    problems = []
    if not set(names) <= linked:
        problems.append("does not link ch_%s" % " ch_".join(sorted(set(names) - linked)))
    if linked - closure:
        problems.append("links ch_%s, above what it includes" % " ch_".join(sorted(linked - closure)))
    if outside - usable:
        problems.append("links %s, which no layer it includes uses" % " ".join(sorted(outside - usable)))
    say(not problems, "%s links %s and %s only%s" % (target, " ".join(sorted(linked)) or "no layer",
        " ".join(sorted(outside)) or "no library", "".join("\n    " + p for p in problems)))
    checked += 1
say(checked >= 40, "%d link lines checked" % checked)
EOF
cat "$WORK/py.out"
PASSED=$((PASSED + $(grep -c '^ok - ' "$WORK/py.out" || true)))
FAILED=$((FAILED + $(grep -c '^not ok - ' "$WORK/py.out" || true)))
grep -q '^ok - ' "$WORK/py.out" || fail "the build checks did not run"

for t in test_workspace test_jsonrpc test_mcp; do
  if grep -qE "^ok - $t links .* and (cjson|cjson m|m|no library) only" "$WORK/py.out"; then
    ok "$t (core, rpc) links neither libevent, SQLite, hiredis nor OpenSSL"
  else fail "$t links more than cJSON and libm"; fi
done
finish
