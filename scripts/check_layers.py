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
    problems += check_docs(os.path.join(root, "docs", "architecture.md"), layers)
    for p in problems:
        print(f"layers: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
