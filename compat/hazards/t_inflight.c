/* 10000 async file operations in flight at once (far more than a ring's SQ/CQ entries, so the
 * submission queue fills and the completion queue overflows): 4000 uv_fs_stat of 100 files of
 * distinct sizes, 4000 4 KiB uv_fs_read at distinct offsets of a 16 MiB file, 2000 4 KiB
 * uv_fs_write at distinct offsets of another file, all submitted at once: "before" uv_run, or
 * "inside" a loop turn (from a timer callback: requests made inside a turn are the ones that go
 * to the ring). Every callback must run exactly once with the right result (size, bytes,
 * content), and the written file must hold what was written. Prints the time and the ring
 * descriptors held. Usage: t_inflight before|inside [NSTAT NREAD NWRITE] */
#include "common.h"

#include <stdint.h>

#define BLK 4096

enum { OP_STAT, OP_READ, OP_WRITE };
struct op {
  uv_fs_t req;
  int kind, idx, done;
  char* buf;
};

static uv_loop_t loop;
static long callbacks;
static char paths[100][256];

static void fill(char* b, unsigned blk, unsigned gen) {
  unsigned i;
  for (i = 0; i < BLK; i++) b[i] = (char)pattern_byte(blk, gen, i);
}

static void cb(uv_fs_t* req) {
  struct op* o = req->data;
  static char expect[BLK];
  CHECK(!o->done);
  o->done = 1;
  callbacks++;
  switch (o->kind) {
    case OP_STAT:
      CHECK_EQ(req->result, 0);
      CHECK_EQ(req->statbuf.st_size, (o->idx % 100) * 37 + 1);
      break;
    case OP_READ:
      CHECK_EQ(req->result, BLK);
      fill(expect, o->idx, 1);
      CHECK(memcmp(expect, o->buf, BLK) == 0);
      break;
    case OP_WRITE: CHECK_EQ(req->result, BLK); break;
  }
  uv_fs_req_cleanup(req);
}

static int n, nstat, nread, nwrite, rfd, wfd;
static struct op* ops;

static void submit_all(void) {
  int i;
  for (i = 0; i < n; i++) {
    struct op* o = &ops[i];
    uv_buf_t b;
    o->req.data = o;
    if (i < nstat) {
      o->kind = OP_STAT;
      o->idx = i;
      CHECK_EQ(uv_fs_stat(&loop, &o->req, paths[i % 100], cb), 0);
    } else if (i < nstat + nread) {
      o->kind = OP_READ;
      o->idx = i - nstat;
      o->buf = malloc(BLK);
      b = uv_buf_init(o->buf, BLK);
      CHECK_EQ(uv_fs_read(&loop, &o->req, rfd, &b, 1, (int64_t)o->idx * BLK, cb), 0);
    } else {
      o->kind = OP_WRITE;
      o->idx = i - nstat - nread;
      o->buf = malloc(BLK);
      fill(o->buf, o->idx, 2);
      b = uv_buf_init(o->buf, BLK);
      CHECK_EQ(uv_fs_write(&loop, &o->req, wfd, &b, 1, (int64_t)o->idx * BLK, cb), 0);
    }
  }
}

static void timer_cb(uv_timer_t* t) {
  submit_all();
  uv_close((uv_handle_t*)t, NULL);
}

int main(int argc, char** argv) {
  int inside = argc > 1 && strcmp(argv[1], "inside") == 0;
  int i, f, rings;
  char *dir = make_tmpdir(), rpath[256], wpath[256], *blk;
  uv_timer_t timer;
  double t0, t1;
  nstat = argc > 4 ? atoi(argv[2]) : 4000;
  nread = argc > 4 ? atoi(argv[3]) : 4000;
  nwrite = argc > 4 ? atoi(argv[4]) : 2000;
  n = nstat + nread + nwrite;
  ops = calloc(n, sizeof *ops);
  CHECK(ops != NULL);
  blk = malloc(BLK);
  for (i = 0; i < 100; i++) {
    char* z = calloc(1, i * 37 + 1);
    snprintf(paths[i], sizeof paths[i], "%s/f%d", dir, i);
    f = open(paths[i], O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(f >= 0 && write(f, z, i * 37 + 1) == i * 37 + 1);
    close(f);
    free(z);
  }
  snprintf(rpath, sizeof rpath, "%s/read", dir);
  snprintf(wpath, sizeof wpath, "%s/write", dir);
  rfd = open(rpath, O_CREAT | O_RDWR | O_TRUNC, 0644);
  CHECK(rfd >= 0);
  for (i = 0; i < nread; i++) {
    fill(blk, i, 1);
    CHECK(pwrite(rfd, blk, BLK, (off_t)i * BLK) == BLK);
  }
  wfd = open(wpath, O_CREAT | O_RDWR | O_TRUNC, 0644);
  CHECK(wfd >= 0);

  CHECK_EQ(uv_loop_init(&loop), 0);
  t0 = now_s();
  if (inside) {
    CHECK_EQ(uv_timer_init(&loop, &timer), 0);
    CHECK_EQ(uv_timer_start(&timer, timer_cb, 0, 0), 0);
  } else {
    submit_all();
  }
  rings = ring_fds();
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  t1 = now_s();
  CHECK_EQ(callbacks, n);
  for (i = 0; i < n; i++) CHECK(ops[i].done);
  for (i = 0; i < nwrite; i++) {
    static char expect[BLK];
    CHECK(pread(wfd, blk, BLK, (off_t)i * BLK) == BLK);
    fill(expect, i, 2);
    CHECK(memcmp(expect, blk, BLK) == 0);
  }
  CHECK_EQ(uv_loop_close(&loop), 0);
  close(rfd);
  close(wfd);
  rm_rf(dir);
  printf("submitted=%s ops_in_flight=%d (stat %d, read %d, write %d) callbacks=%ld time=%.3fs "
         "ring_fds=%d\n", inside ? "inside-loop" : "before-uv_run", n, nstat, nread, nwrite,
         callbacks, t1 - t0, rings);
  return 0;
}
