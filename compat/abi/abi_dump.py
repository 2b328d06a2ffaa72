#!/usr/bin/env python3
"""Dump the ABI of a set of libuv-style headers as canonical "key value" lines.

    abi_dump.py INCLUDE_DIR OUT_FILE [--workdir DIR]

What is dumped (one line per item, sorted):
  type    <name>                 size/align/kind of every typedef, struct,
                                 union and enum declared in INCLUDE_DIR
  member  <type>.<field path>    offset, size and type of every field,
                                 recursing into anonymous structs/unions
  enumc   <ENUMERATOR>           value of every enum constant
  func    <uv_name>              return and parameter types of every
                                 UV_EXTERN function declared in uv.h
  macro   <NAME>                 integer value (evaluated by the compiler)
                                 or whitespace-normalised replacement text
                                 of every macro uv.h leaves defined, beyond
                                 those of the system headers it includes

Method: compile a probe translation unit with -g and read its DWARF with
pyelftools; macros come from `gcc -dM -E`, integer macros are evaluated by
a generated C program.
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile

from elftools.elf.elffile import ELFFile

CC = os.environ.get("CC", "gcc")
# How to run a program CC built: nothing for a native CC; an emulator (and its options) for a
# cross compiler, e.g. ABI_EXEC="qemu-aarch64-static -L /usr/aarch64-linux-gnu".
EXEC = shlex.split(os.environ.get("ABI_EXEC", ""))

# The system headers uv.h (1.x, Unix) pulls in. Their macros form the
# baseline that is subtracted from the macro dump.
SYSTEM_HEADERS = [
    "errno.h", "stddef.h", "stdio.h", "stdint.h", "sys/types.h", "sys/stat.h",
    "fcntl.h", "dirent.h", "sys/socket.h", "netinet/in.h", "netinet/tcp.h",
    "arpa/inet.h", "netdb.h", "termios.h", "pwd.h", "semaphore.h",
    "sys/param.h", "pthread.h", "signal.h",
]

CFLAGS = ["-std=gnu11", "-D_GNU_SOURCE"]


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, **kw)
    return p


def die(msg):
    sys.stderr.write("abi_dump: %s\n" % msg)
    sys.exit(2)


# ---------------------------------------------------------------- DWARF ---

class Dwarf:
    def __init__(self, path, incdir):
        self.f = open(path, "rb")
        self.elf = ELFFile(self.f)
        if not self.elf.has_dwarf_info():
            die("no DWARF in " + path)
        self.dw = self.elf.get_dwarf_info()
        self.incdir = os.path.realpath(incdir)
        self.cus = list(self.dw.iter_CUs())

    def file_of(self, die_, cu):
        a = die_.attributes.get("DW_AT_decl_file")
        if a is None:
            return None
        lp = self.dw.line_program_for_CU(cu)
        idx = a.value
        entries = lp["file_entry"]
        ver = lp.header["version"]
        if ver < 5:
            idx -= 1
        if idx < 0 or idx >= len(entries):
            return None
        fe = entries[idx]
        name = fe.name.decode() if isinstance(fe.name, bytes) else fe.name
        dirs = lp["include_directory"]
        d = ""
        if ver >= 5:
            d = dirs[fe.dir_index]
        elif fe.dir_index > 0:
            d = dirs[fe.dir_index - 1]
        if isinstance(d, bytes):
            d = d.decode()
        if not os.path.isabs(name):
            name = os.path.join(d, name)
        return os.path.realpath(name)

    def in_headers(self, die_, cu):
        f = self.file_of(die_, cu)
        # "<built-in>" resolves relative to the cwd: insist on a real file
        return f is not None and os.path.isfile(f) and \
            f.startswith(self.incdir + "/")


def attr(die_, name, default=None):
    a = die_.attributes.get(name)
    return a.value if a is not None else default


def dname(die_):
    n = attr(die_, "DW_AT_name")
    return n.decode() if isinstance(n, bytes) else n


def ref(die_, name="DW_AT_type"):
    if name not in die_.attributes:
        return None
    return die_.get_DIE_from_attribute(name)


def type_name(t):
    """C-like spelling of a DWARF type, stable across compilers' layouts."""
    if t is None:
        return "void"
    tag = t.tag
    if tag == "DW_TAG_base_type" or tag == "DW_TAG_typedef":
        return dname(t)
    if tag in ("DW_TAG_structure_type", "DW_TAG_union_type",
               "DW_TAG_enumeration_type"):
        kw = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union",
              "DW_TAG_enumeration_type": "enum"}[tag]
        n = dname(t)
        if n is None:
            if tag == "DW_TAG_enumeration_type":
                first = [c for c in t.iter_children()
                         if c.tag == "DW_TAG_enumerator"]
                if first:
                    return "enum <anon:%s>" % dname(first[0])
            return "%s <anon>" % kw
        return "%s %s" % (kw, n)
    if tag == "DW_TAG_pointer_type":
        pt = ref(t)
        if pt is not None and pt.tag == "DW_TAG_subroutine_type":
            return "(%s)*" % type_name(pt)
        return type_name(pt) + "*"
    if tag == "DW_TAG_const_type":
        return "const " + type_name(ref(t))
    if tag == "DW_TAG_volatile_type":
        return "volatile " + type_name(ref(t))
    if tag == "DW_TAG_restrict_type":
        return type_name(ref(t)) + " restrict"
    if tag == "DW_TAG_array_type":
        dims = ""
        for c in t.iter_children():
            if c.tag == "DW_TAG_subrange_type":
                ub = attr(c, "DW_AT_upper_bound")
                cnt = attr(c, "DW_AT_count")
                if cnt is not None:
                    dims += "[%d]" % cnt
                elif ub is not None and isinstance(ub, int):
                    dims += "[%d]" % (ub + 1)
                else:
                    dims += "[]"
        return type_name(ref(t)) + dims
    if tag == "DW_TAG_subroutine_type":
        params = [type_name(ref(c)) for c in t.iter_children()
                  if c.tag == "DW_TAG_formal_parameter"]
        if any(c.tag == "DW_TAG_unspecified_parameters"
               for c in t.iter_children()):
            params.append("...")
        proto = attr(t, "DW_AT_prototyped", False)
        if not params and proto:
            params = ["void"]
        return "fn(%s)->%s" % (",".join(params), type_name(ref(t)))
    return "<%s>" % tag


def type_size(t):
    while t is not None:
        s = attr(t, "DW_AT_byte_size")
        if s is not None:
            return s
        if t.tag == "DW_TAG_array_type":
            n = 1
            for c in t.iter_children():
                if c.tag == "DW_TAG_subrange_type":
                    cnt = attr(c, "DW_AT_count")
                    ub = attr(c, "DW_AT_upper_bound")
                    if cnt is None and isinstance(ub, int):
                        cnt = ub + 1
                    if cnt is None:
                        return 0
                    n *= cnt
            return n * (type_size(ref(t)) or 0)
        if t.tag == "DW_TAG_pointer_type":
            return 8
        t = ref(t)
    return None


def strip_cv_typedef(t):
    while t is not None and t.tag in ("DW_TAG_typedef", "DW_TAG_const_type",
                                      "DW_TAG_volatile_type"):
        t = ref(t)
    return t


def walk_members(out, owner, prefix, t, base):
    """Emit member lines for struct/union `t`, inlining anonymous aggregates."""
    for c in t.iter_children():
        if c.tag != "DW_TAG_member":
            continue
        n = dname(c) or "<anon>"
        off = attr(c, "DW_AT_data_member_location", 0)
        if not isinstance(off, int):
            off = 0  # expression-based locations do not occur in C
        off += base
        mt = ref(c)
        bits = attr(c, "DW_AT_bit_size")
        line = "offset=%d size=%s type=%s" % (off, type_size(mt), type_name(mt))
        if bits is not None:
            line += " bits=%d@%d" % (bits, attr(c, "DW_AT_data_bit_offset", 0))
        path = prefix + n
        out["member %s.%s" % (owner, path)] = line
        inner = strip_cv_typedef(mt)
        # Recurse into anonymous aggregates (their layout has no other name).
        # Arrays of anonymous aggregates do not occur in these headers.
        if inner is not None and inner.tag in ("DW_TAG_structure_type",
                                                "DW_TAG_union_type") \
                and dname(inner) is None:
            walk_members(out, owner, path + ".", inner, off)


def dump_types(objpath, incdir, out, funcs_wanted):
    dw = Dwarf(objpath, incdir)
    sizes = {}   # probe arrays: __abi_sz_N / __abi_al_N -> value
    for cu in dw.cus:
        for d in cu.iter_DIEs():
            tag = d.tag
            if tag == "DW_TAG_variable":
                n = dname(d) or ""
                m = re.match(r"__abi_(sz|al)_(\d+)$", n)
                if m:
                    sizes[(m.group(1), int(m.group(2)))] = type_size(ref(d))
                continue
            if tag == "DW_TAG_subprogram":
                n = dname(d)
                if n in funcs_wanted and n not in out.get("__funcs_seen", ()):
                    params = []
                    for c in d.iter_children():
                        if c.tag == "DW_TAG_formal_parameter":
                            params.append(type_name(ref(c)))
                        elif c.tag == "DW_TAG_unspecified_parameters":
                            params.append("...")
                    if not params:
                        params = ["void"]
                    out["func " + n] = "(%s)->%s" % (",".join(params),
                                                      type_name(ref(d)))
                continue
            if d.get_parent() is None or d.get_parent().tag != "DW_TAG_compile_unit":
                continue
            if tag not in ("DW_TAG_typedef", "DW_TAG_structure_type",
                           "DW_TAG_union_type", "DW_TAG_enumeration_type"):
                continue
            if attr(d, "DW_AT_declaration"):
                continue
            if not dw.in_headers(d, cu):
                continue
            if tag == "DW_TAG_enumeration_type":
                for c in d.iter_children():
                    if c.tag == "DW_TAG_enumerator":
                        out["enumc " + dname(c)] = str(attr(c, "DW_AT_const_value"))
            name = type_name(d)
            if "<anon>" in name:
                continue  # reached through a typedef or a member
            kind = tag[7:-5] if tag != "DW_TAG_typedef" else "typedef"
            val = "kind=%s size=%s" % (kind, type_size(d))
            if tag == "DW_TAG_typedef":
                val += " of=%s" % type_name(ref(d))
            out["type " + name] = val
            inner = strip_cv_typedef(d)
            if inner is not None and inner.tag in ("DW_TAG_structure_type",
                                                    "DW_TAG_union_type"):
                # A typedef of an anonymous aggregate carries its members.
                if tag != "DW_TAG_typedef" or dname(inner) is None:
                    walk_members(out, name, "", inner, 0)
    return sizes


# -------------------------------------------------------------- helpers ---

def exported_functions(uvh):
    text = open(uvh).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return sorted(set(re.findall(r"UV_EXTERN[^;{]*?\b(uv_\w+)\s*\(", text)))


def compile_obj(src, obj, incdir):
    p = run([CC] + CFLAGS + ["-g", "-O0", "-fno-eliminate-unused-debug-types",
                             "-I", incdir, "-c", src, "-o", obj])
    if p.returncode != 0:
        die("probe failed to compile against %s:\n%s" % (incdir, p.stderr))


def macro_defs(src, incdir):
    p = run([CC] + CFLAGS + ["-dM", "-E", "-I", incdir, src])
    if p.returncode != 0:
        die("preprocessing failed:\n" + p.stderr)
    defs = {}
    for line in p.stdout.splitlines():
        m = re.match(r"#define (\w+)(\([^)]*\))? ?(.*)$", line)
        if m:
            defs[m.group(1)] = (m.group(2), m.group(3))
    return defs


TOKEN_RE = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|\w+|##|\S')


def normalise(text):
    # Join tokens with single spaces: insensitive to layout and comments.
    return " ".join(TOKEN_RE.findall(text))


def dump(incdir, workdir):
    incdir = os.path.realpath(incdir)
    uvh = os.path.join(incdir, "uv.h")
    if not os.path.isfile(uvh):
        die("no uv.h in " + incdir)
    funcs = exported_functions(uvh)
    out = {}

    # Pass 1: every type the headers declare, plus function prototypes.
    src1 = os.path.join(workdir, "probe1.c")
    with open(src1, "w") as f:
        f.write("#include <uv.h>\n")
        for fn in funcs:
            f.write("void *__abi_ref_%s = (void *)&%s;\n" % (fn, fn))
    obj1 = os.path.join(workdir, "probe1.o")
    compile_obj(src1, obj1, incdir)
    dump_types(obj1, incdir, out, set(funcs))

    # Pass 2: sizeof/alignof of each named type as measured by the compiler.
    names = sorted(k[5:] for k in out
                   if k.startswith("type ") and "<anon" not in k)
    src2 = os.path.join(workdir, "probe2.c")
    with open(src2, "w") as f:
        f.write("#include <uv.h>\n")
        for i, n in enumerate(names):
            f.write("char __abi_sz_%d[sizeof(%s)];\n" % (i, n))
            f.write("char __abi_al_%d[__alignof__(%s)];\n" % (i, n))
    obj2 = os.path.join(workdir, "probe2.o")
    compile_obj(src2, obj2, incdir)
    scratch = {}
    sizes = dump_types(obj2, incdir, scratch, set())
    for i, n in enumerate(names):
        out["type " + n] += " sizeof=%s alignof=%s" % (sizes.get(("sz", i)),
                                                       sizes.get(("al", i)))

    # Macros: what uv.h defines beyond its system headers.
    base_src = os.path.join(workdir, "base.c")
    with open(base_src, "w") as f:
        for h in SYSTEM_HEADERS:
            f.write("#include <%s>\n" % h)
    base = macro_defs(base_src, incdir)
    uvsrc = os.path.join(workdir, "uv_only.c")
    with open(uvsrc, "w") as f:
        f.write("#include <uv.h>\n")
    defs = macro_defs(uvsrc, incdir)
    mine = {k: v for k, v in defs.items() if base.get(k) != v}

    # Which object-like macros are integer constant expressions? Drop the
    # lines the compiler rejects until the rest compiles.
    cand = sorted(k for k, (params, body) in mine.items()
                  if params is None and body.strip())
    ints = list(cand)
    tsrc = os.path.join(workdir, "ints.c")
    for _ in range(6):
        with open(tsrc, "w") as f:
            f.write("#include <uv.h>\n")
            for k in ints:
                f.write("enum { __abi_e_%s = (%s) ? 0 : 0 };\n" % (k, k))
        p = run([CC] + CFLAGS + ["-fsyntax-only", "-pedantic-errors", "-I",
                                 incdir, tsrc])
        if p.returncode == 0:
            break
        bad = set()
        for m in re.finditer(r"ints\.c:(\d+):", p.stderr):
            ln = int(m.group(1)) - 2
            if 0 <= ln < len(ints):
                bad.add(ints[ln])
        if not bad:
            die("cannot classify macros:\n" + p.stderr)
        ints = [k for k in ints if k not in bad]
    else:
        die("cannot classify macros")
    values = {}
    if ints:
        psrc = os.path.join(workdir, "vals.c")
        pexe = os.path.join(workdir, "vals")
        with open(psrc, "w") as f:
            f.write("#include <uv.h>\n#include <stdio.h>\nint main(void) {\n")
            for k in ints:
                f.write('  if ((%s) < 0) printf("%s %%lld\\n", (long long)(%s));'
                        ' else printf("%s %%llu\\n", (unsigned long long)(%s));\n'
                        % (k, k, k, k, k))
            f.write("  return 0;\n}\n")
        p = run([CC] + CFLAGS + ["-w", "-I", incdir, psrc, "-o", pexe])
        if p.returncode != 0:
            die("macro probe failed:\n" + p.stderr)
        p = run(EXEC + [pexe])
        if p.returncode != 0:
            die("macro probe did not run:\n" + p.stderr)
        for line in p.stdout.splitlines():
            k, v = line.split(" ", 1)
            values[k] = v
    for k, (params, body) in sorted(mine.items()):
        if k in values:
            out["macro " + k] = "int=" + values[k]
        elif params is not None:
            out["macro " + k] = "fn%s=%s" % (normalise(params), normalise(body))
        else:
            out["macro " + k] = "text=" + normalise(body)
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    incdir, outfile = args[0], args[1]
    with tempfile.TemporaryDirectory(prefix="uvabi.") as wd:
        out = dump(incdir, wd)
    with open(outfile, "w") as f:
        for k in sorted(out):
            if k.startswith("__"):
                continue
            f.write("%s\t%s\n" % (k, out[k]))


if __name__ == "__main__":
    main()
