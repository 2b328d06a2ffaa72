/* Helpers shared by the hazard tests (compat/hazards). Each test is a small C program that
 * asserts its outcome itself and exits 0 on success; CHECK failures print the failing
 * expression with file:line and exit 1. */
#ifndef HAZARDS_COMMON_H
#define HAZARDS_COMMON_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "uv.h"

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d)\n", __FILE__, __LINE__,      \
              #cond, errno);                                                            \
      exit(1);                                                                          \
    }                                                                                   \
  } while (0)

#define CHECK_EQ(a, b)                                                                  \
  do {                                                                                  \
    long long va_ = (long long)(a), vb_ = (long long)(b);                               \
    if (va_ != vb_) {                                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", __FILE__,       \
              __LINE__, #a, #b, va_, vb_);                                              \
      exit(1);                                                                          \
    }                                                                                   \
  } while (0)

/* Lists (up to max) io_uring descriptors of this process into fds; returns how many
 * there are (possibly more than max). */
static inline int ring_fd_list(int* fds, int max) {
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  int n = 0;
  char path[300], link[128];
  CHECK(d != NULL);
  while ((e = readdir(d)) != NULL) {
    ssize_t len;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    len = readlink(path, link, sizeof link - 1);
    if (len < 0) continue;
    link[len] = '\0';
    if (strcmp(link, "anon_inode:[io_uring]") == 0) {
      if (n < max) fds[n] = atoi(e->d_name);
      n++;
    }
  }
  closedir(d);
  return n;
}

/* Number of descriptors of this process that are io_uring instances. */
static inline int ring_fds(void) {
  int fds[256];
  return ring_fd_list(fds, 256);
}

/* Number of threads of this process whose name starts with prefix (e.g. "iou-sqp-"). */
static inline int threads_named(const char* prefix) {
  DIR* d = opendir("/proc/self/task");
  struct dirent* e;
  int n = 0;
  char path[300], comm[64];
  CHECK(d != NULL);
  while ((e = readdir(d)) != NULL) {
    FILE* f;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(comm, sizeof comm, f) != NULL && strncmp(comm, prefix, strlen(prefix)) == 0) n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

/* "SqThread:" of the io_uring instance behind descriptor fd (its fdinfo): -1 when the ring has
 * no SQPOLL thread, else a pid (not reliably the thread's own tid: use it as a flag only). */
static inline int ring_sq_thread(int fd) {
  char path[64], line[256];
  int tid = -1;
  FILE* f;
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  f = fopen(path, "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "SqThread: %d", &tid) == 1) break;
  }
  fclose(f);
  return tid;
}

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A fresh temporary directory (mode 0755) for the test's files, under $HAZARD_TMP (else /tmp). */
static inline char* make_tmpdir(void) {
  static char dir[200];
  const char* base = getenv("HAZARD_TMP");
  snprintf(dir, sizeof dir, "%s/uvhazard.XXXXXX", base != NULL && *base ? base : "/tmp");
  CHECK(mkdtemp(dir) != NULL);
  CHECK(chmod(dir, 0755) == 0);
  return dir;
}

static inline void rm_rf(const char* dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Deterministic byte of block `blk`, generation `gen`, offset `i` (for content checks). */
static inline unsigned char pattern_byte(unsigned blk, unsigned gen, unsigned i) {
  unsigned x = blk * 2654435761u ^ gen * 40503u ^ i * 2246822519u;
  x ^= x >> 13;
  return (unsigned char)(x * 0x9E3779B1u >> 24);
}

#endif
