/* compat/diff/difftest.c — differential tests: uvring against real libuv 1.50.
 *
 * Usage: difftest UVRING_LIB LIBUV_LIB     (paths to the two libuv.so.1 files)
 * Env:   UVRING_DIFF_COUNT  inputs per function (default 100000)
 *        UVRING_DIFF_SEED   PRNG seed (default 0x5eed1e55; any 64-bit number, decimal or 0x..)
 *        UVRING_DIFF_SHOW   how many differences to print per function (default 5)
 *
 * Both libraries are loaded into the same process, each in its own link namespace
 * (dlmopen(LM_ID_NEWLM)), so each has its own libc, malloc and globals. Every input is given to
 * both; return values and every byte each call may write are compared. Output buffers are
 * pre-filled with the same canary in both runs, so "bytes after the terminator" are compared too:
 * libuv writes nothing there, and neither may uvring. Bytes libuv leaves undefined are never
 * compared (see README.md: uv_wtf8_to_utf16 on input its length function rejects, or on a buffer
 * of another length than it asked for, is a precondition violation in libuv — an assert).
 *
 * Where real libuv is wrong by its own documentation the harness checks uvring against the
 * documented result instead and counts the input as "documented"; README.md lists these cases.
 * Exit status: 0 when no difference, 1 when any, 2 on a setup error.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "uv.h"

/* ---- the two libraries -------------------------------------------------------------------- */

struct lib {
  const char* name;
  void* h;
  int (*inet_pton)(int, const char*, void*);
  int (*inet_ntop)(int, const void*, char*, size_t);
  int (*ip4_addr)(const char*, int, struct sockaddr_in*);
  int (*ip6_addr)(const char*, int, struct sockaddr_in6*);
  int (*ip4_name)(const struct sockaddr_in*, char*, size_t);
  int (*ip6_name)(const struct sockaddr_in6*, char*, size_t);
  int (*ip_name)(const struct sockaddr*, char*, size_t);
  const char* (*err_name)(int);
  char* (*err_name_r)(int, char*, size_t);
  const char* (*strerror)(int);
  char* (*strerror_r)(int, char*, size_t);
  int (*translate_sys_error)(int);
  ssize_t (*wtf8_length_as_utf16)(const char*);
  void (*wtf8_to_utf16)(const char*, uint16_t*, size_t);
  size_t (*utf16_length_as_wtf8)(const uint16_t*, ssize_t);
  int (*utf16_to_wtf8)(const uint16_t*, ssize_t, char**, size_t*);
  uv_buf_t (*buf_init)(char*, unsigned int);
  unsigned int (*version)(void);
  const char* (*version_string)(void);
  size_t (*handle_size)(uv_handle_type);
  size_t (*req_size)(uv_req_type);
  size_t (*loop_size)(void);
  const char* (*handle_type_name)(uv_handle_type);
  const char* (*req_type_name)(uv_req_type);
  void (*free)(void*);
};

static struct lib U; /* uvring */
static struct lib L; /* real libuv */

static void* sym(struct lib* l, const char* s) {
  void* p = dlsym(l->h, s);
  if (p == NULL) {
    fprintf(stderr, "difftest: %s: no symbol %s: %s\n", l->name, s, dlerror());
    exit(2);
  }
  return p;
}

static void load(struct lib* l, const char* name, const char* path) {
  l->name = name;
  l->h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
  if (l->h == NULL) {
    fprintf(stderr, "difftest: cannot load %s (%s): %s\n", name, path, dlerror());
    exit(2);
  }
#define S(f) *(void**) &l->f = sym(l, "uv_" #f)
  S(inet_pton); S(inet_ntop); S(ip4_addr); S(ip6_addr); S(ip4_name); S(ip6_name); S(ip_name);
  S(err_name); S(err_name_r); S(strerror); S(strerror_r); S(translate_sys_error);
  S(wtf8_length_as_utf16); S(wtf8_to_utf16); S(utf16_length_as_wtf8); S(utf16_to_wtf8);
  S(buf_init); S(version); S(version_string); S(handle_size); S(req_size); S(loop_size);
  S(handle_type_name); S(req_type_name);
#undef S
  /* The namespace's own free(): uv_utf16_to_wtf8 allocates with that namespace's malloc. */
  *(void**) &l->free = sym(l, "free");
}

/* ---- random numbers (splitmix64: fixed seed, same sequence everywhere) --------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static unsigned below(unsigned n) { return n ? (unsigned) (rnd() % n) : 0; }
static int chance(unsigned pct) { return below(100) < pct; }

/* ---- bookkeeping --------------------------------------------------------------------------- */

struct stat_row {
  const char* fn;
  long inputs, diffs, documented, accepted; /* accepted: libuv returned success (0 / >= 0) */
};
static struct stat_row stats[32];
static int nstats;
static long show_max = 5;

static struct stat_row* row(const char* fn);
static void accepted(const char* fn, int ok) {
  if (ok) row(fn)->accepted++;
}

static struct stat_row* row(const char* fn) {
  int i;
  for (i = 0; i < nstats; i++)
    if (strcmp(stats[i].fn, fn) == 0) return &stats[i];
  stats[nstats].fn = fn;
  return &stats[nstats++];
}

static void hexdump(const char* label, const void* p, size_t n) {
  const unsigned char* b = p;
  size_t i;
  fprintf(stderr, "    %s (%zu):", label, n);
  for (i = 0; i < n && i < 96; i++) fprintf(stderr, " %02x", b[i]);
  if (n > 96) fprintf(stderr, " ...");
  fprintf(stderr, "\n");
}

/* Records one input's outcome; prints the first differences of each function. */
static void outcome(const char* fn, int same, const char* what, const void* in, size_t inlen,
                    const void* u, const void* l, size_t outlen) {
  struct stat_row* r = row(fn);
  r->inputs++;
  if (same) return;
  r->diffs++;
  if (r->diffs <= show_max) {
    fprintf(stderr, "DIFF %s: %s\n", fn, what);
    if (in) hexdump("input", in, inlen);
    hexdump("uvring", u, outlen);
    hexdump("libuv ", l, outlen);
  }
}

#define CANARY 0xA5
#define BUFSZ 256

/* ---- input generators ---------------------------------------------------------------------- */

static const char v4alpha[] = "0123456789.";
static const char v6alpha[] = "0123456789abcdefABCDEF:.%";

static int gen_v4(char* s, size_t cap) {
  int n = 0, i;
  for (i = 0; i < 4; i++) {
    unsigned v;
    switch (below(6)) {
      case 0: v = 0; break;
      case 1: v = 255; break;
      case 2: v = 256 + below(800); break; /* out of range */
      default: v = below(256);
    }
    if (i) s[n++] = '.';
    if (chance(5)) s[n++] = '0'; /* leading zero */
    n += snprintf(s + n, cap - n, "%u", v);
  }
  s[n] = 0;
  return n;
}

static int gen_v6(char* s, size_t cap) {
  unsigned words[8], i, nw, gap_at = 99, gap_len = 0;
  int n = 0, upper = chance(20), v4tail = chance(15), sep = 0;
  nw = v4tail ? 6 : 8;
  for (i = 0; i < 8; i++) {
    switch (below(5)) {
      case 0: case 1: words[i] = 0; break;
      case 2: words[i] = 0xffff; break;
      default: words[i] = (unsigned) rnd() & (chance(50) ? 0xffff : 0xff);
    }
  }
  if (chance(70)) { /* "::" standing for gap_len words (0: invalid, more than 8 words) */
    gap_at = below(nw + 1);
    gap_len = chance(5) ? 0 : 1 + below(nw - gap_at + 1);
    if (gap_at + gap_len > nw) gap_len = nw - gap_at;
  }
  for (i = 0; i <= nw; i++) {
    if (i == gap_at) {
      s[n++] = ':';
      s[n++] = ':';
      sep = 0;
      i += gap_len;
      if (i > nw) break;
    }
    if (i == nw) break;
    if (sep) s[n++] = ':';
    if (chance(5)) n += snprintf(s + n, cap - n, "%04x", words[i]);
    else n += snprintf(s + n, cap - n, upper ? "%X" : "%x", words[i]);
    sep = 1;
  }
  if (v4tail) {
    if (sep) s[n++] = ':';
    n += gen_v4(s + n, cap - n);
  }
  s[n] = 0;
  return n;
}

/* Mutates a string: deletions, insertions, replacements from `alpha` or random bytes. */
static int mutate(char* s, int n, size_t cap, const char* alpha) {
  int k = (int) below(4), alen = (int) strlen(alpha);
  while (k-- > 0) {
    int pos = n ? (int) below((unsigned) n + 1) : 0;
    char c = chance(80) ? alpha[below((unsigned) alen)] : (char) (1 + below(255));
    switch (below(3)) {
      case 0: /* delete */
        if (n && pos < n) { memmove(s + pos, s + pos + 1, (size_t) (n - pos)); n--; }
        break;
      case 1: /* insert */
        if ((size_t) n + 2 < cap) { memmove(s + pos + 1, s + pos, (size_t) (n - pos + 1)); s[pos] = c; n++; }
        break;
      default:
        if (pos < n) s[pos] = c;
    }
  }
  s[n] = 0;
  return n;
}

static int gen_random_text(char* s, size_t cap, const char* alpha) {
  int n = (int) below(60), i, alen = (int) strlen(alpha);
  if ((size_t) n >= cap) n = (int) cap - 1;
  for (i = 0; i < n; i++) s[i] = chance(85) ? alpha[below((unsigned) alen)] : (char) (1 + below(255));
  s[n] = 0;
  return n;
}

static const char* const zones[] = {"lo", "1", "0", "2", "eth0", "", "lo0", "999999999999",
                                    "4294967297", "a%b", "-1", "01", "looooooooooooooooooooong"};

/* An address text for AF_INET (fam 4) or AF_INET6 (fam 6): valid, mutated or random. */
static int gen_addr(char* s, size_t cap, int fam) {
  int n, r = (int) below(100);
  if (r < 5) { n = gen_random_text(s, cap, fam == 4 ? v4alpha : v6alpha); return n; }
  n = fam == 4 ? gen_v4(s, cap) : gen_v6(s, cap);
  if (r < 45) n = mutate(s, n, cap, fam == 4 ? v4alpha : v6alpha);
  if (fam == 6 && chance(25)) n += snprintf(s + n, cap - n, "%%%s", zones[below(sizeof zones / sizeof *zones)]);
  if (fam == 4 && chance(3)) n += snprintf(s + n, cap - n, "%%lo");
  return n;
}

/* ---- the functions ------------------------------------------------------------------------- */

static void t_inet_pton(long count) {
  char s[BUFSZ];
  long i;
  for (i = 0; i < count; i++) {
    int fam = chance(50) ? 4 : 6, af;
    unsigned char du[32], dl[32];
    int ru, rl, same;
    gen_addr(s, sizeof s, fam);
    af = chance(97) ? (fam == 4 ? AF_INET : AF_INET6) : (chance(50) ? (fam == 4 ? AF_INET6 : AF_INET) : (int) below(50));
    memset(du, CANARY, sizeof du); memset(dl, CANARY, sizeof dl);
    ru = U.inet_pton(af, s, du);
    rl = L.inet_pton(af, s, dl);
    accepted("uv_inet_pton", rl == 0);
    same = ru == rl && memcmp(du, dl, sizeof du) == 0;
    if (!same) fprintf(stderr, "  (af %d, rc uvring %d libuv %d, input \"%s\")\n", af, ru, rl, s);
    outcome("uv_inet_pton", same, "rc or dst differ", s, strlen(s), du, dl, sizeof du);
  }
}

static void gen_bin_addr(unsigned char* a, int len) {
  int i;
  for (i = 0; i < len; i += 2) {
    unsigned w;
    switch (below(6)) {
      case 0: case 1: case 2: w = 0; break;
      case 3: w = 0xffff; break;
      case 4: w = below(2); break;
      default: w = (unsigned) rnd() & 0xffff;
    }
    a[i] = (unsigned char) (w >> 8);
    if (i + 1 < len) a[i + 1] = (unsigned char) w;
  }
  if (chance(10)) for (i = 0; i < len; i++) a[i] = (unsigned char) rnd();
}

static size_t gen_size(void) {
  switch (below(4)) {
    case 0: return below(64);
    case 1: return 46 + below(3);
    case 2: return 16;
    default: return BUFSZ;
  }
}

static void t_inet_ntop(long count) {
  long i;
  for (i = 0; i < count; i++) {
    unsigned char a[16];
    char bu[BUFSZ], bl[BUFSZ];
    int af = chance(48) ? AF_INET : chance(96) ? AF_INET6 : (int) below(40), ru, rl, same;
    size_t size = gen_size();
    gen_bin_addr(a, 16);
    memset(bu, CANARY, sizeof bu); memset(bl, CANARY, sizeof bl);
    ru = U.inet_ntop(af, a, bu, size);
    rl = L.inet_ntop(af, a, bl, size);
    accepted("uv_inet_ntop", rl == 0);
    same = ru == rl && memcmp(bu, bl, sizeof bu) == 0;
    if (!same) fprintf(stderr, "  (af %d size %zu, rc uvring %d libuv %d)\n", af, size, ru, rl);
    outcome("uv_inet_ntop", same, "rc or dst differ", a, af == AF_INET ? 4 : 16, bu, bl, 64);
  }
}

static int gen_port(void) {
  switch (below(5)) {
    case 0: return 0;
    case 1: return 65535;
    case 2: return (int) (uint32_t) rnd(); /* any int: htons truncates */
    default: return (int) below(65536);
  }
}

typedef int (*addr_fn)(const char*, int, void*);

/* uv_ip4_addr (six = 0) or uv_ip6_addr (six = 1). */
static void t_ip_addr(long count, int six) {
  const char* fn = six ? "uv_ip6_addr" : "uv_ip4_addr";
  addr_fn fu = six ? (addr_fn) U.ip6_addr : (addr_fn) U.ip4_addr;
  addr_fn fl = six ? (addr_fn) L.ip6_addr : (addr_fn) L.ip4_addr;
  size_t salen = six ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  char s[BUFSZ];
  long i;
  for (i = 0; i < count; i++) {
    struct sockaddr_in6 au, al;
    int port = gen_port(), ru, rl, same;
    const char* pct;
    gen_addr(s, sizeof s, chance(six ? 92 : 10) ? 6 : 4);
    if (six && chance(3)) { /* a long address part before the zone (libuv truncates it at 39 bytes) */
      static const char* const longs[] = {
        "0000:0000:0000:0000:0000:ffff:11.2.3.255", "0000:0000:0000:0000:0000:ffff:1.2.3.4",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "0001:0002:0003:0004:0005:0006:0007:0008",
        "0000:0000:0000:0000:0000:0000:0000:00001"};
      snprintf(s, sizeof s, "%s%%lo", longs[below(5)]);
    }
    memset(&au, CANARY, sizeof au); memset(&al, CANARY, sizeof al);
    ru = fu(s, port, &au);
    rl = fl(s, port, &al);
    accepted(fn, rl == 0);
    pct = strchr(s, '%');
    if (six && pct != NULL && pct - s >= 40) {
      /* Documented divergence (README.md): libuv cuts the address at 39 bytes before parsing,
       * so valid 40..45-byte addresses (which end in a dotted quad) fail or parse to another
       * address. uvring parses the whole address: the documented result is libuv's own
       * uv_inet_pton on the untruncated address, with the same zone handling. */
      struct sockaddr_in6 want;
      char addr[BUFSZ];
      int rw;
      memcpy(&want, &al, sizeof want);
      memset(&want.sin6_addr, 0, sizeof want.sin6_addr);
      memcpy(addr, s, (size_t) (pct - s));
      addr[pct - s] = 0;
      rw = L.inet_pton(AF_INET6, addr, &want.sin6_addr);
      same = ru == rw && memcmp(&au, &want, sizeof au) == 0;
      if (!same) fprintf(stderr, "  (documented case: rc uvring %d want %d, input \"%s\")\n", ru, rw, s);
      row("uv_ip6_addr")->documented++;
      outcome("uv_ip6_addr", same, "long address: differs from the documented result", s,
              strlen(s), &au, &want, sizeof au);
      continue;
    }
    same = ru == rl && memcmp(&au, &al, salen) == 0;
    if (!same) fprintf(stderr, "  (port %d, rc uvring %d libuv %d, input \"%s\")\n", port, ru, rl, s);
    outcome(fn, same, "rc or sockaddr differ", s, strlen(s), &au, &al, salen);
  }
}

typedef int (*name_fn)(const void*, char*, size_t);

/* uv_ip4_name / uv_ip6_name / uv_ip_name on one sockaddr and output size. */
static void name_one(const char* fn, name_fn fu, name_fn fl, const struct sockaddr_storage* ss,
                     size_t size) {
  char bu[BUFSZ], bl[BUFSZ];
  int ru, rl, same;
  memset(bu, CANARY, sizeof bu); memset(bl, CANARY, sizeof bl);
  ru = fu(ss, bu, size);
  rl = fl(ss, bl, size);
  accepted(fn, rl == 0);
  same = ru == rl && memcmp(bu, bl, sizeof bu) == 0;
  if (!same) fprintf(stderr, "  (%s family %d size %zu rc uvring %d libuv %d)\n", fn, ss->ss_family, size, ru, rl);
  outcome(fn, same, "rc or dst differ", ss, sizeof(struct sockaddr_in6), bu, bl, 64);
}

static void t_ip_names(long count) {
  long i;
  for (i = 0; i < count; i++) {
    struct sockaddr_storage ss;
    size_t size = gen_size();
    int fam;
    unsigned char* p = (unsigned char*) &ss;
    size_t k;
    for (k = 0; k < sizeof ss; k++) p[k] = (unsigned char) rnd();
    gen_bin_addr((unsigned char*) &((struct sockaddr_in6*) &ss)->sin6_addr, 16);
    if (chance(50)) gen_bin_addr((unsigned char*) &((struct sockaddr_in*) &ss)->sin_addr, 4);
    fam = chance(45) ? AF_INET : chance(90) ? AF_INET6 : (int) below(64);
    ss.ss_family = (sa_family_t) fam;

    name_one("uv_ip4_name", (name_fn) U.ip4_name, (name_fn) L.ip4_name, &ss, size);
    name_one("uv_ip6_name", (name_fn) U.ip6_name, (name_fn) L.ip6_name, &ss, size);
    name_one("uv_ip_name", (name_fn) U.ip_name, (name_fn) L.ip_name, &ss, size);
  }
}

static int str_same(const char* a, const char* b) {
  if (a == NULL || b == NULL) return a == b;
  return strcmp(a, b) == 0;
}

static void cmp_str(const char* fn, int code, const char* u, const char* l) {
  int same = str_same(u, l);
  if (!same)
    fprintf(stderr, "  (%s(%d): uvring \"%s\" libuv \"%s\")\n", fn, code, u ? u : "(null)", l ? l : "(null)");
  outcome(fn, same, "string differs", &code, sizeof code, u ? u : "", l ? l : "", 0);
}

typedef char* (*err_r_fn)(int, char*, size_t);

/* uv_err_name_r / uv_strerror_r: the return value (the buffer) and every byte of the buffer. */
static void err_r_one(const char* fn, err_r_fn fu, err_r_fn fl, int code, size_t buflen) {
  char bu[BUFSZ], bl[BUFSZ];
  char *pu, *pl;
  int same;
  memset(bu, CANARY, sizeof bu); memset(bl, CANARY, sizeof bl);
  pu = fu(code, bu, buflen);
  pl = fl(code, bl, buflen);
  same = (pu == bu) == (pl == bl) && memcmp(bu, bl, sizeof bu) == 0;
  if (!same) fprintf(stderr, "  (%s(%d, buflen %zu))\n", fn, code, buflen);
  outcome(fn, same, "return or buffer differ", &code, sizeof code, bu, bl,
          buflen + 8 < BUFSZ ? buflen + 8 : BUFSZ);
}

static void err_one(int code, size_t buflen) {
  cmp_str("uv_err_name", code, U.err_name(code), L.err_name(code));
  cmp_str("uv_strerror", code, U.strerror(code), L.strerror(code));
  err_r_one("uv_err_name_r", U.err_name_r, L.err_name_r, code, buflen);
  err_r_one("uv_strerror_r", U.strerror_r, L.strerror_r, code, buflen);
}

static int gen_int(void) {
  switch (below(6)) {
    case 0: return INT_MIN;
    case 1: return INT_MAX;
    case 2: return (int) below(8192) - 4096;
    case 3: return (int) below(200) - 100;
    default: return (int) (uint32_t) rnd();
  }
}

static void t_errors(long count) {
  static const size_t lens[] = {0, 1, 2, 3, 5, 8, 12, 16, 20, 31, 32, 33, 200};
  long i = 0;
  int code;
  size_t k;
  /* Every code from -4096 to 0 with buffer lengths around the lengths of names and messages,
   * then random codes (INT_MIN, INT_MAX, near zero, any) and lengths until `count` inputs. */
  for (code = -4096; code <= 0; code++)
    for (k = 0; k < sizeof lens / sizeof *lens; k++, i++) err_one(code, lens[k]);
  for (; i < count; i++) err_one(gen_int(), below(80));
}

static void t_translate(long count) {
  long i;
  for (i = 0; i < count; i++) {
    int e = i < 8193 ? (int) i - 4096 : gen_int();
    int ru = U.translate_sys_error(e), rl = L.translate_sys_error(e);
    if (ru != rl) fprintf(stderr, "  (uv_translate_sys_error(%d): uvring %d libuv %d)\n", e, ru, rl);
    outcome("uv_translate_sys_error", ru == rl, "result differs", &e, sizeof e, &ru, &rl, sizeof ru);
  }
}

/* WTF-8 text: valid code points (surrogates included), plus broken sequences. */
static int gen_wtf8(char* s, size_t cap) {
  int n = 0, parts = (int) below(12), i;
  if (chance(8)) { /* random bytes */
    int m = (int) below(40);
    for (i = 0; i < m && (size_t) n + 1 < cap; i++) s[n++] = (char) (1 + below(255));
    s[n] = 0;
    return n;
  }
  for (i = 0; i < parts && (size_t) n + 5 < cap; i++) {
    uint32_t cp;
    unsigned char* o = (unsigned char*) s + n;
    switch (below(8)) {
      case 0: cp = 1 + below(0x7f); break;
      case 1: cp = 0x80 + below(0x780); break;
      case 2: cp = 0x800 + below(0xf800); break;
      case 3: cp = 0xd800 + below(0x800); break; /* a surrogate */
      case 4: cp = 0x10000 + below(0x100000); break;
      case 5: cp = chance(50) ? 0x10ffff : 0xffff; break;
      case 6: { /* broken: lone continuation, truncated sequence, overlong, > U+10FFFF, bad lead */
        static const unsigned char bad[][4] = {
          {0x80}, {0xbf}, {0xc0, 0x80}, {0xc1, 0xbf}, {0xc3}, {0xe2, 0x82}, {0xf0, 0x9f, 0x98},
          {0xf4, 0x90, 0x80, 0x80}, {0xf5, 0x80, 0x80, 0x80}, {0xff}, {0xfe}, {0xe0, 0x80, 0x80},
          {0xf0, 0x80, 0x80, 0x80}, {0xe0, 0x9f, 0xbf}, {0xf0, 0x8f, 0xbf, 0xbf}, {0xf7, 0xbf, 0xbf, 0xbf},
          {0xf8, 0x88, 0x80, 0x80}, {0xc3, 0x41}, {0xed, 0xa0, 0x80}, {0xf4, 0x8f, 0xbf, 0xbf}};
        unsigned k = below(sizeof bad / sizeof *bad), j;
        for (j = 0; j < 4 && bad[k][j]; j++) s[n++] = (char) bad[k][j];
        continue;
      }
      default: { /* a random byte */
        s[n++] = (char) (1 + below(255));
        continue;
      }
    }
    if (cp < 0x80) { o[0] = (unsigned char) cp; n += 1; }
    else if (cp < 0x800) { o[0] = (unsigned char) (0xc0 | cp >> 6); o[1] = (unsigned char) (0x80 | (cp & 0x3f)); n += 2; }
    else if (cp < 0x10000) {
      o[0] = (unsigned char) (0xe0 | cp >> 12); o[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
      o[2] = (unsigned char) (0x80 | (cp & 0x3f)); n += 3;
    } else {
      o[0] = (unsigned char) (0xf0 | cp >> 18); o[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
      o[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f)); o[3] = (unsigned char) (0x80 | (cp & 0x3f)); n += 4;
    }
  }
  s[n] = 0;
  return n;
}

static void t_wtf8(long count) {
  char s[BUFSZ];
  long i;
  for (i = 0; i < count; i++) {
    ssize_t lu, ll;
    uint16_t wu[BUFSZ], wl[BUFSZ];
    int n = gen_wtf8(s, 120);
    lu = U.wtf8_length_as_utf16(s);
    ll = L.wtf8_length_as_utf16(s);
    accepted("uv_wtf8_length_as_utf16", ll >= 0);
    if (lu != ll) fprintf(stderr, "  (uv_wtf8_length_as_utf16: uvring %zd libuv %zd)\n", lu, ll);
    outcome("uv_wtf8_length_as_utf16", lu == ll, "length differs", s, (size_t) n, &lu, &ll, sizeof lu);
    /* Converting is defined only for input the length function accepts, into a buffer of
     * exactly that length: only then is libuv's result defined (it asserts otherwise). */
    if (ll < 0 || lu != ll) continue;
    memset(wu, CANARY, sizeof wu); memset(wl, CANARY, sizeof wl);
    U.wtf8_to_utf16(s, wu, (size_t) lu);
    L.wtf8_to_utf16(s, wl, (size_t) ll);
    outcome("uv_wtf8_to_utf16", memcmp(wu, wl, sizeof wu) == 0, "utf16 output differs", s,
            (size_t) n, wu, wl, (size_t) (ll + 4) * 2);
  }
  /* Inputs the length function rejects still count as generated inputs of the converter's
   * generator above; make sure the converter itself got at least `count` valid inputs. */
  while (row("uv_wtf8_to_utf16")->inputs < count) {
    ssize_t ll;
    uint16_t wu[BUFSZ], wl[BUFSZ];
    int n = gen_wtf8(s, 120);
    ll = L.wtf8_length_as_utf16(s);
    if (ll < 0 || U.wtf8_length_as_utf16(s) != ll) continue;
    memset(wu, CANARY, sizeof wu); memset(wl, CANARY, sizeof wl);
    U.wtf8_to_utf16(s, wu, (size_t) ll);
    L.wtf8_to_utf16(s, wl, (size_t) ll);
    outcome("uv_wtf8_to_utf16", memcmp(wu, wl, sizeof wu) == 0, "utf16 output differs", s,
            (size_t) n, wu, wl, (size_t) (ll + 4) * 2);
  }
}

/* UTF-16: random units biased towards surrogates, NULs and boundaries. */
static int gen_utf16(uint16_t* w, int cap) {
  int n = (int) below((unsigned) cap - 1), i;
  for (i = 0; i < n; i++) {
    switch (below(9)) {
      case 0: w[i] = (uint16_t) (0xd800 + below(0x400)); break; /* high */
      case 1: w[i] = (uint16_t) (0xdc00 + below(0x400)); break; /* low */
      case 2: /* a proper pair */
        if (i + 1 < n) { w[i++] = (uint16_t) (0xd800 + below(0x400)); w[i] = (uint16_t) (0xdc00 + below(0x400)); }
        else w[i] = 0xdbff;
        break;
      case 3: w[i] = (uint16_t) (1 + below(0x7f)); break;
      case 4: w[i] = (uint16_t) (0x80 + below(0x780)); break;
      case 5: w[i] = chance(30) ? 0 : (uint16_t) (chance(50) ? 0x7f : chance(50) ? 0x80 : chance(50) ? 0x7ff : 0x800); break;
      case 6: w[i] = chance(50) ? 0xffff : 0xfffd; break;
      default: w[i] = (uint16_t) rnd();
    }
  }
  w[n] = 0; /* the terminator a length of -1 relies on */
  return n;
}

static void t_utf16(long count) {
  long i;
  for (i = 0; i < count; i++) {
    uint16_t w[64];
    int n = gen_utf16(w, 60), ru, rl, same, mode;
    ssize_t len = chance(40) ? -1 : (ssize_t) below((unsigned) n + 1);
    size_t nu = CANARY, nl = CANARY, need;
    char bu[BUFSZ], bl[BUFSZ];
    char *pu, *pl;

    nu = U.utf16_length_as_wtf8(w, len);
    nl = L.utf16_length_as_wtf8(w, len);
    if (nu != nl) fprintf(stderr, "  (uv_utf16_length_as_wtf8(len %zd): uvring %zu libuv %zu)\n", len, nu, nl);
    outcome("uv_utf16_length_as_wtf8", nu == nl, "length differs", w, (size_t) (n + 1) * 2, &nu, &nl, sizeof nu);
    need = nl;

    mode = (int) below(10);
    if (mode == 0) { /* wtf8_ptr NULL: the length only */
      nu = nl = 7;
      ru = U.utf16_to_wtf8(w, len, NULL, &nu);
      rl = L.utf16_to_wtf8(w, len, NULL, &nl);
      same = ru == rl && nu == nl;
      outcome("uv_utf16_to_wtf8", same, "length-only mode differs", w, (size_t) (n + 1) * 2, &nu, &nl, sizeof nu);
    } else if (mode <= 3) { /* *wtf8_ptr NULL: allocated by the library */
      pu = pl = NULL;
      nu = nl = 7;
      ru = U.utf16_to_wtf8(w, len, &pu, &nu);
      rl = L.utf16_to_wtf8(w, len, &pl, &nl);
      same = ru == rl && nu == nl && pu && pl && memcmp(pu, pl, nl + 1) == 0;
      if (!same) fprintf(stderr, "  (alloc mode len %zd: rc %d/%d n %zu/%zu)\n", len, ru, rl, nu, nl);
      outcome("uv_utf16_to_wtf8", same, "allocating mode differs", w, (size_t) (n + 1) * 2,
              pu ? pu : "", pl ? pl : "", same ? 0 : (nl < nu ? nl : nu) + 1);
      if (pu) U.free(pu);
      if (pl) L.free(pl);
    } else { /* the caller's buffer of a given size (truncation included) */
      size_t cap;
      switch (below(4)) {
        case 0: cap = need; break;
        case 1: cap = need + 1 + below(3); break;
        default: cap = below((unsigned) need + 1);
      }
      memset(bu, CANARY, sizeof bu); memset(bl, CANARY, sizeof bl);
      pu = bu; pl = bl;
      nu = nl = cap;
      ru = U.utf16_to_wtf8(w, len, &pu, &nu);
      rl = L.utf16_to_wtf8(w, len, &pl, &nl);
      accepted("uv_utf16_to_wtf8", rl == 0);
      if (rl == UV_ENOBUFS && nl != need && ru == rl && nu == need &&
          memcmp(bu, bl, sizeof bu) == 0) {
        /* Documented divergence (README.md): libuv's required length is wrong when not even
         * the first code point fit (it adds the caller's size to the full length); the docs say
         * wtf8_len_ptr is "the length of the required wtf8_ptr to contain the whole result",
         * which is what uvring returns. */
        row("uv_utf16_to_wtf8")->documented++;
        outcome("uv_utf16_to_wtf8", 1, "", NULL, 0, NULL, NULL, 0);
        continue;
      }
      same = ru == rl && nu == nl && pu == bu && pl == bl && memcmp(bu, bl, sizeof bu) == 0;
      if (!same)
        fprintf(stderr, "  (buffer mode len %zd cap %zu need %zu: rc %d/%d n %zu/%zu)\n", len, cap, need, ru, rl, nu, nl);
      outcome("uv_utf16_to_wtf8", same, "caller-buffer mode differs", w, (size_t) (n + 1) * 2, bu, bl, cap + 4);
    }
  }
}

static void t_misc(long count) {
  long i;
  for (i = 0; i < count; i++) {
    char* base = (char*) (uintptr_t) rnd();
    unsigned len = i < 4 ? (unsigned[]){0, 1, UINT_MAX, INT_MAX}[i] : (unsigned) rnd();
    uv_buf_t bu = U.buf_init(base, len), bl = L.buf_init(base, len);
    int t;
    size_t su, sl;
    const char *nu, *nl;
    outcome("uv_buf_init", memcmp(&bu, &bl, sizeof bu) == 0, "uv_buf_t differs", &len, sizeof len, &bu, &bl, sizeof bu);

    {
      unsigned vu = U.version(), vl = L.version();
      outcome("uv_version", vu == vl, "differs", NULL, 0, &vu, &vl, sizeof vu);
      cmp_str("uv_version_string", 0, U.version_string(), L.version_string());
    }
    su = U.loop_size(); sl = L.loop_size();
    outcome("uv_loop_size", su == sl, "differs", NULL, 0, &su, &sl, sizeof su);

    /* Every value from -8 to 40 first, then random ints. */
    t = i < 49 ? (int) i - 8 : chance(50) ? (int) below(48) - 8 : gen_int();
    su = U.handle_size((uv_handle_type) t); sl = L.handle_size((uv_handle_type) t);
    if (su != sl) fprintf(stderr, "  (uv_handle_size(%d): uvring %zu libuv %zu)\n", t, su, sl);
    outcome("uv_handle_size", su == sl, "differs", &t, sizeof t, &su, &sl, sizeof su);
    su = U.req_size((uv_req_type) t); sl = L.req_size((uv_req_type) t);
    if (su != sl) fprintf(stderr, "  (uv_req_size(%d): uvring %zu libuv %zu)\n", t, su, sl);
    outcome("uv_req_size", su == sl, "differs", &t, sizeof t, &su, &sl, sizeof su);
    nu = U.handle_type_name((uv_handle_type) t); nl = L.handle_type_name((uv_handle_type) t);
    cmp_str("uv_handle_type_name", t, nu, nl);
    nu = U.req_type_name((uv_req_type) t); nl = L.req_type_name((uv_req_type) t);
    cmp_str("uv_req_type_name", t, nu, nl);
  }
}

int main(int argc, char** argv) {
  const char* e;
  long count = 100000;
  uint64_t seed = 0x5eed1e55;
  long total_diffs = 0;
  int i;

  if (argc != 3) {
    fprintf(stderr, "usage: %s UVRING_LIBUV_SO REAL_LIBUV_SO\n", argv[0]);
    return 2;
  }
  if ((e = getenv("UVRING_DIFF_COUNT")) && *e) count = strtol(e, NULL, 0);
  if ((e = getenv("UVRING_DIFF_SEED")) && *e) seed = strtoull(e, NULL, 0);
  if ((e = getenv("UVRING_DIFF_SHOW")) && *e) show_max = strtol(e, NULL, 0);
  if (count < 1) count = 1;
  load(&U, "uvring", argv[1]);
  load(&L, "libuv", argv[2]);
  if (L.version() != 0x013200) {
    fprintf(stderr, "difftest: %s is libuv %s, not 1.50.0\n", argv[2], L.version_string());
    return 2;
  }
  printf("difftest: seed 0x%" PRIx64 ", %ld inputs per function\n", seed, count);
  printf("  uvring: %s\n  libuv:  %s\n", argv[1], argv[2]);
  fflush(stdout);

  /* Each function family gets its own stream derived from the seed, so adding one does not
   * change the inputs of the others. */
  rng_state = seed ^ 0x1111; t_inet_pton(count);
  rng_state = seed ^ 0x2222; t_inet_ntop(count);
  rng_state = seed ^ 0x3333; t_ip_addr(count, 0);
  rng_state = seed ^ 0x4444; t_ip_addr(count, 1);
  rng_state = seed ^ 0x5555; t_ip_names(count);
  rng_state = seed ^ 0x6666; t_errors(count);
  rng_state = seed ^ 0x7777; t_translate(count);
  rng_state = seed ^ 0x8888; t_wtf8(count);
  rng_state = seed ^ 0x9999; t_utf16(count);
  rng_state = seed ^ 0xaaaa; t_misc(count);

  printf("%-26s %10s %10s %8s %11s\n", "function", "inputs", "accepted", "diffs", "documented");
  for (i = 0; i < nstats; i++) {
    if (stats[i].accepted)
      printf("%-26s %10ld %10ld %8ld %11ld\n", stats[i].fn, stats[i].inputs, stats[i].accepted,
             stats[i].diffs, stats[i].documented);
    else
      printf("%-26s %10ld %10s %8ld %11ld\n", stats[i].fn, stats[i].inputs, "-", stats[i].diffs,
             stats[i].documented);
    total_diffs += stats[i].diffs;
    if (stats[i].inputs < count) {
      printf("difftest: %s got only %ld inputs (< %ld)\n", stats[i].fn, stats[i].inputs, count);
      total_diffs++;
    }
  }
  printf("difftest: %s (%ld differences)\n", total_diffs ? "FAIL" : "PASS", total_diffs);
  return total_diffs ? 1 : 0;
}
