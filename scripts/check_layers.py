#!/usr/bin/env python3
"""check_layers — every #include under src/ against cmake/layers.txt.

Usage: scripts/check_layers.py [ROOT]   (ROOT: the source tree, default
the one this script is in). Exit 0 when every include keeps to the table,
1 with one line per violation (file:line: what and why) otherwise, 2 when
the table itself cannot be read.

The rules (docs/architecture.md, "Layers"):
  * src/<L>/ includes project headers as "M/file.h", M being L or a layer
    below it (those L names in the table, and theirs, transitively); no
    other quoted form ("file.h", "../x/file.h");
  * a layer's private headers (*_internal.h) are included by that layer
    only;
  * an outside library's headers (`lib` lines: <sqlite3.h>, <event2/…>)
    are included only by layers that use it or lie above one that does;
  * every directory of src/ is a layer in the table, and every layer of
    the table a directory;
  * the "depends on" column of docs/architecture.md's table of layers
    names, for each layer, what its row here names ("everything" for a
    layer above all others), so the docs say what the build does.
The build enforces the first rule too (cmake/layers.cmake); this check
also covers what include paths cannot: outside libraries, whose headers
all live in the system's include directory, and private headers.

Inside src/app (docs/architecture.md, "The parts of the hub"), where the
hub's files would otherwise call each other in a loop:
  * a module is a file's name without .c/.h (hub_session.c and
    hub_session.h are one); module X uses module Y when X.c or X.h
    includes "app/Y.h"; the uses have no cycle (a cycle is printed as
    X -> Y -> ... -> X with the include that makes each step);
  * a header declares only the functions its own .c defines (a header
    without a .c, like the composition header hub_state.h, declares none;
    static inline definitions are allowed), so what a file includes is
    what it calls.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]*)[>"]')


def read_table(path):
    """Layers in order with their direct uses, and the libraries' headers."""
    layers, libs = {}, {}
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^layer\s+([a-z]+):([^|]*)\|([^|]*)$", line)
            if m:
                name, uses, own = m.group(1), m.group(2).split(), m.group(3).split()
                if name in layers:
                    raise ValueError(f"{path}:{no}: layer {name} is listed twice")
                for u in uses:
                    if u not in layers:
                        raise ValueError(f"{path}:{no}: layer {name} uses {u}, "
                                         "which is not a layer listed before it")
                layers[name] = (uses, own)
                continue
            m = re.match(r"^lib\s+([a-z0-9_]+)\s+(\S+)((?:\s+\S+)*)$", line)
            if m:
                libs[m.group(1)] = m.group(3).split()
                continue
            raise ValueError(f"{path}:{no}: cannot read this line")
    for name, (_, own) in layers.items():
        for lib in own:
            if lib not in libs:
                raise ValueError(f"{path}: layer {name} uses the library {lib}, "
                                 f"which has no `lib {lib}` line")
    return layers, libs


def below(layers, name):
    """The layers name may include: itself and all it uses, transitively."""
    seen, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(layers[n][0])
    return seen


def lib_of(libs, header):
    """The outside library a <header> belongs to, or None."""
    for lib, heads in libs.items():
        for h in heads:
            if header == h or (h.endswith("/") and header.startswith(h)):
                return lib
    return None


def check_file(rel, text, layer, layers, libs, allowed, usable):
    problems = []
    for no, line in enumerate(text.splitlines(), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        kind, inc = m.groups()
        where = f"{rel}:{no}"
        if kind == "<":
            lib = lib_of(libs, inc)
            if lib and lib not in usable:
                problems.append(f"{where}: {layer} may not include <{inc}>: it is {lib}'s, "
                                f"which neither {layer} nor a layer below it uses "
                                "(cmake/layers.txt)")
            continue
        parts = inc.split("/")
        if len(parts) != 2 or parts[0] not in layers:
            problems.append(f'{where}: #include "{inc}": a project header is included as '
                            '"layer/file.h", the layer one of cmake/layers.txt')
        elif parts[0] not in allowed:
            uses = " ".join(layers[layer][0]) or "nothing"
            problems.append(f'{where}: {layer} may not include "{inc}": {parts[0]} is not '
                            f"below {layer} in cmake/layers.txt ({layer} uses {uses})")
        elif parts[0] != layer and parts[1].endswith("_internal.h"):
            problems.append(f'{where}: {layer} may not include "{inc}": it is private to '
                            f"{parts[0]} (only src/{parts[0]}/ includes *_internal.h)")
    return problems


# How docs/architecture.md names a library of the table, where not by
# its name.
DOC_NAMES = {"libm": "m", "posix threads": "threads"}


def check_docs(path, layers):
    """The layer table of the docs against the table's rows."""
    problems, rows = [], {}
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        return [f"docs/architecture.md: {e.strerror}"]
    for no, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\|\s*`([a-z]+)/`\s*\|.*\|([^|]*)\|\s*$", line)
        if m:
            rows[m.group(1)] = (no, m.group(2).strip())
    for name, (uses, own) in layers.items():
        if name not in rows:
            problems.append(f"docs/architecture.md: the table of layers has no row for `{name}/`")
            continue
        no, cell = rows[name]
        if cell == "everything" and below(layers, name) == set(layers):
            continue
        said = set()
        for item in cell.split(","):
            item = re.sub(r"\(.*?\)", "", item).strip().lower()
            said.add(DOC_NAMES.get(item, item))
        if said != set(uses) | set(own):
            want = ", ".join(uses + own) or "nothing"
            problems.append(f"docs/architecture.md:{no}: `{name}/` depends on \"{cell}\", "
                            f"cmake/layers.txt says {want}")
    for name, (no, _) in rows.items():
        if name not in layers:
            problems.append(f"docs/architecture.md:{no}: `{name}/` is not a layer of cmake/layers.txt")
    return problems


APP_INCLUDE = re.compile(r'^\s*#\s*include\s*"app/([A-Za-z0-9_]+)\.h"')


def strip_c(text):
    """text without comments, string literals and preprocessor lines."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return "\n".join("" if l.lstrip().startswith("#") else l for l in text.splitlines())


def declared_functions(text):
    """The functions a header declares (prototypes at file scope), without
    static inline definitions, typedefs or function-pointer fields."""
    text = strip_c(text)
    names, depth, stmt = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                stmt = []  # a body (struct, enum, inline function) ends a statement
            continue
        if depth:
            continue
        if ch == ";":
            s = " ".join("".join(stmt).split())
            stmt = []
            if s.startswith(("typedef", "static", "struct", "enum", "union")) and "(" not in s:
                continue
            if s.startswith(("typedef", "static")):
                continue
            m = re.match(r"^[\w\s\*]*?\b([A-Za-z_]\w*)\s*\(", s)
            if m and "(*" not in s.split("(", 1)[0] + "(":
                names.append(m.group(1))
        else:
            stmt.append(ch)
    return names


def defined_functions(text):
    """The functions a .c file defines with external linkage."""
    text = strip_c(text)
    found = set()
    for m in re.finditer(r"^([A-Za-z_][\w \t\*]*?)\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{",
                         text, flags=re.M):
        if not re.search(r"\bstatic\b", m.group(1)):
            found.add(m.group(2))
    return found


def find_cycle(uses):
    """One cycle of the uses graph as a list of modules (first == last), or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(uses.get(n, {})):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(uses):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def check_app(src):
    """The rules of src/app: no cycle among its modules, headers that
    declare only their own .c's functions."""
    app = os.path.join(src, "app")
    if not os.path.isdir(app):
        return []
    problems, uses, texts = [], {}, {}
    for f in sorted(os.listdir(app)):
        if f.endswith((".c", ".h")):
            with open(os.path.join(app, f), encoding="utf-8") as fh:
                texts[f] = fh.read()
    for f, text in texts.items():
        mod = f[:-2]
        uses.setdefault(mod, {})
        for no, line in enumerate(text.splitlines(), 1):
            m = APP_INCLUDE.match(line)
            if m and m.group(1) != mod:
                uses[mod].setdefault(m.group(1), f"src/app/{f}:{no}")
    cycle = find_cycle(uses)
    if cycle:
        steps = " -> ".join(cycle)
        where = "; ".join(f"{a} -> {b} at {uses[a][b]}" for a, b in zip(cycle, cycle[1:]))
        problems.append(f"src/app: the modules call each other in a loop: {steps} ({where}); "
                        "a part calls up through an ops table it was given "
                        "(docs/architecture.md, \"The parts of the hub\")")
    for f, text in texts.items():
        if not f.endswith(".h"):
            continue
        own = f[:-2] + ".c"
        defined = defined_functions(texts[own]) if own in texts else set()
        for name in declared_functions(text):
            if name not in defined:
                where = (f"src/app/{own} does not define" if own in texts
                         else f"is defined in no src/app/{own}")
                problems.append(f"src/app/{f}: declares {name}(), which {where}: a header "
                                "declares its own file's functions only")
    return problems


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    table = os.path.join(root, "cmake", "layers.txt")
    try:
        layers, libs = read_table(table)
    except (OSError, ValueError) as e:
        print(f"layers: {e}", file=sys.stderr)
        return 2
    problems = []
    src = os.path.join(root, "src")
    dirs = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for d in dirs:
        if d not in layers:
            problems.append(f"src/{d}/: not a layer of cmake/layers.txt (add a `layer {d}:` "
                            "line naming what it uses)")
    for name in layers:
        if name not in dirs:
            problems.append(f"cmake/layers.txt: layer {name} has no directory src/{name}/")
    for layer in layers:
        if layer not in dirs:
            continue
        allowed = below(layers, layer)
        usable = {lib for n in allowed for lib in layers[n][1]}
        for f in sorted(os.listdir(os.path.join(src, layer))):
            if not f.endswith((".c", ".h")):
                continue
            rel = f"src/{layer}/{f}"
            with open(os.path.join(src, layer, f), encoding="utf-8") as fh:
                text = fh.read()
            problems += check_file(rel, text, layer, layers, libs, allowed, usable)
    problems += check_app(src)
    problems += check_docs(os.path.join(root, "docs", "architecture.md"), layers)
    for p in problems:
        print(f"layers: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
