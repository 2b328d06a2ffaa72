#!/usr/bin/env python3
"""Writes a C probe that holds include/uv.h and compat/abi/uvring-abi.h (cbindgen's rendering
of src/abi) and asserts, at compile time, that each Rust struct has the size and alignment of its
libuv type and every field the offset of libuv's field. Usage: rust_vs_c.py RENDERING > probe.c

cbindgen orders the structs badly where they form a cycle through a callback type (uv__io_t holds
a uv__io_cb that takes a uv_loop_t*, and uv_loop_t holds uv__io_t), so the probe carries the
rendering's items reordered: every struct name declared first, then the other typedefs, then the
struct bodies with each one after the structs it holds by value."""
import re
import sys

# Rust mirror -> libuv type, where the names differ.
TYPES = {
    "uv_phase_handle_t": "uv_idle_t",  # idle, prepare and check share one layout
    "uv__queue": "struct uv__queue",
    "uv__work": "struct uv__work",
    "uv_cpu_times_s": "struct uv_cpu_times_s",
}
# Rust mirrors that are not a libuv type of their own, with the member they describe.
INNER = {"uv_signal_tree_entry": ("uv_signal_t", "tree_entry")}
# Rust field -> libuv member expression, where Rust had to rename or split one.
FIELDS = {
    "type_": "type",
    "h": "data",  # an embedded handle: its first field, at offset 0
    "s": "data",  # an embedded stream: likewise
    "r": "data",  # an embedded request: likewise
    "left": "rbe_left",
    "right": "rbe_right",
    "parent": "rbe_parent",
    "color": "rbe_color",
    ("uv_loop_t", "timer_heap_min"): "timer_heap.min",
    ("uv_timer_t", "node"): "node.queue",
    ("uv_timer_t", "node_pad"): "node.heap[2]",  # the union's third pointer
    ("uv_udp_send_t", "addr"): "u.storage",
    ("uv_loop_t", "timer_heap_nelts"): "timer_heap.nelts",
    "loop_": "loop",
    ("uv_loop_t", "active_reqs"): "active_reqs.count",
    ("uv_loop_t", "active_reqs_pad"): None,  # the rest of the union's 8 bytes
}


def structs(text):
    for m in re.finditer(r"typedef struct rs_(\w+) \{(.*?)\} rs_\1;", text, re.S):
        fields = []
        for line in m.group(2).splitlines():
            line = line.strip()
            f = re.match(r".*?(\w+)(\[[^\]]*\])*;$", line)
            if f and not line.startswith("/"):
                fields.append(f.group(1))
        yield m.group(1), fields


def reordered(text):
    """The rendering's items with struct bodies after what they hold by value."""
    items = [i.strip() for i in re.split(r"\n\s*\n", text) if i.strip()]
    bodies, other = {}, []
    for item in items:
        m = re.match(r"typedef struct rs_(\w+) \{", item)
        if m:
            bodies[m.group(1)] = item
        elif not item.startswith("#ifndef") and not item.startswith("#endif"):
            other.append(item)
    out = ["typedef struct rs_%s rs_%s;" % (n, n) for n in bodies]
    out += other
    done = set()

    def emit(name, seen=()):
        if name in done or name in seen:
            return
        body = bodies[name]
        # By-value members: a struct type not followed by '*'.
        for dep in re.findall(r"^\s*(?:struct )?rs_(\w+) \w+(?:\[[^\]]*\])*;", body, re.M):
            if dep in bodies:
                emit(dep, seen + (name,))
        done.add(name)
        out.append(body)

    for name in bodies:
        emit(name)
    return "\n\n".join(out)


def main():
    text = open(sys.argv[1]).read()
    print('#include <stddef.h>\n#include "uv.h"')
    print(reordered(text))
    print("#define SAME(a, b) _Static_assert((a) == (b), #a \" != \" #b)")
    n = 0
    for name, fields in structs(text):
        rs = "rs_" + name
        if name in INNER:
            outer, member = INNER[name]
            c = "((%s*)0)->%s" % (outer, member)
            print("SAME(sizeof(%s), sizeof(%s));" % (rs, c))
            base = "offsetof(%s, %s)" % (outer, member)
            for f in fields:
                print("SAME(offsetof(%s, %s), offsetof(%s, %s.%s) - %s);"
                      % (rs, f, outer, member, FIELDS.get(f, f), base))
                n += 1
            continue
        c = TYPES.get(name, name)
        print("SAME(sizeof(%s), sizeof(%s));" % (rs, c))
        print("SAME(_Alignof(%s), _Alignof(%s));" % (rs, c))
        for f in fields:
            cf = FIELDS.get((name, f), FIELDS.get(f, f))
            if cf is None:
                continue
            print("SAME(offsetof(%s, %s), offsetof(%s, %s));" % (rs, f, c, cf))
            n += 1
    print("/* %d field offsets */" % n)
    print("int main(void) { return 0; }")


main()
