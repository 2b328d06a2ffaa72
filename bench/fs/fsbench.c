/* Async uv_fs throughput: N requests in flight on one loop, each completion
 * issues the next, until OPS requests have completed. Prints ops/s.
 * Built unchanged against uvring and against real libuv (see run.sh).
 * usage: fsbench stat|read|openclose N OPS FILE */
#include <uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_STAT, OP_READ, OP_OPENCLOSE };

typedef struct {
  uv_fs_t req;
  char buf[4096];
  uv_buf_t iov;
  long long off;
} slot_t;

static int op;
static const char* path;
static uv_file shared_fd;
static long long file_blocks;
static long issued, completed, target;
static int failed;

static void on_done(uv_fs_t* req);

static void issue(slot_t* s) {
  int r;
  issued++;
  switch (op) {
  case OP_STAT:
    r = uv_fs_stat(uv_default_loop(), &s->req, path, on_done);
    break;
  case OP_READ:
    s->off = (s->off + 4096 * 7) % (file_blocks * 4096);
    r = uv_fs_read(uv_default_loop(), &s->req, shared_fd, &s->iov, 1, s->off,
                   on_done);
    break;
  default:
    r = uv_fs_open(uv_default_loop(), &s->req, path, UV_FS_O_RDONLY, 0,
                   on_done);
    break;
  }
  if (r != 0) {
    fprintf(stderr, "submit: %s\n", uv_strerror(r));
    exit(1);
  }
}

static void on_done(uv_fs_t* req) {
  slot_t* s = (slot_t*) req;
  ssize_t res = req->result;
  uv_fs_type t = req->fs_type;
  uv_fs_req_cleanup(req);
  if (res < 0) {
    failed = 1;
    fprintf(stderr, "op failed: %s\n", uv_strerror((int) res));
    return;
  }
  if (t == UV_FS_OPEN) {
    /* The close belongs to the same operation; it does not count. */
    uv_fs_close(uv_default_loop(), &s->req, (uv_file) res, on_done);
    return;
  }
  completed++;
  if (issued < target && !failed)
    issue(s);
}

int main(int argc, char** argv) {
  uv_fs_t req;
  uint64_t t0, t1;
  int n, i;
  slot_t* slots;

  if (argc != 5) {
    fprintf(stderr, "usage: %s stat|read|openclose N OPS FILE\n", argv[0]);
    return 2;
  }
  op = strcmp(argv[1], "stat") == 0   ? OP_STAT
       : strcmp(argv[1], "read") == 0 ? OP_READ
                                      : OP_OPENCLOSE;
  n = atoi(argv[2]);
  target = atol(argv[3]);
  path = argv[4];

  shared_fd = uv_fs_open(NULL, &req, path, UV_FS_O_RDONLY, 0, NULL);
  uv_fs_req_cleanup(&req);
  if (shared_fd < 0 || uv_fs_fstat(NULL, &req, shared_fd, NULL) != 0) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  file_blocks = req.statbuf.st_size / 4096;
  uv_fs_req_cleanup(&req);
  if (file_blocks < 1) {
    fprintf(stderr, "%s: need at least 4 KiB\n", path);
    return 1;
  }

  slots = calloc(n, sizeof(*slots));
  t0 = uv_hrtime();
  for (i = 0; i < n && issued < target; i++) {
    slots[i].iov = uv_buf_init(slots[i].buf, sizeof(slots[i].buf));
    slots[i].off = i * 4096LL;
    issue(&slots[i]);
  }
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  t1 = uv_hrtime();
  if (failed || completed != target)
    return 1;
  printf("%.0f\n", completed / ((t1 - t0) / 1e9));
  uv_fs_close(NULL, &req, shared_fd, NULL);
  uv_fs_req_cleanup(&req);
  free(slots);
  return 0;
}
