/* A stat/read-heavy run for strace -c -f: N async uv_fs_stat and N async 4 KiB uv_fs_read at
 * explicit offsets, 12 of each in flight (below the 32 requests from which io_uring mode sends
 * stats to the pool on purpose, src/fs/uring.rs), all requested inside loop turns (the first ones from a
 * timer callback: requests made outside uv_run go to the pool by design). Its own synchronous calls (setup and teardown) use no
 * stat or pread system call at all (open, pwrite, close, unlink, rmdir only), so every
 * statx/newfstatat/pread64 strace counts beyond the dynamic loader's comes from the library.
 * Usage: t_fsheavy [N] */
#include "common.h"

#define BLK 4096
#define INFLIGHT 12

static uv_loop_t loop;
static int n, stats_sent, stats_done, reads_sent, reads_done, rfd;
static char spath[256];
static uv_fs_t sreq[INFLIGHT], rreq[INFLIGHT];
static char bufs[INFLIGHT][BLK];

static void stat_cb(uv_fs_t* r);
static void read_cb(uv_fs_t* r);

static void send_stat(uv_fs_t* r) {
  if (stats_sent >= n) return;
  stats_sent++;
  CHECK_EQ(uv_fs_stat(&loop, r, spath, stat_cb), 0);
}

static void send_read(uv_fs_t* r) {
  int slot = (int)(r - rreq), blk = reads_sent % 256;
  uv_buf_t b = uv_buf_init(bufs[slot], BLK);
  if (reads_sent >= n) return;
  reads_sent++;
  r->data = (void*)(long)blk;
  CHECK_EQ(uv_fs_read(&loop, r, rfd, &b, 1, (int64_t)blk * BLK, read_cb), 0);
}

static void stat_cb(uv_fs_t* r) {
  CHECK_EQ(r->result, 0);
  CHECK_EQ(r->statbuf.st_size, 256 * BLK);
  uv_fs_req_cleanup(r);
  stats_done++;
  send_stat(r);
}

static void read_cb(uv_fs_t* r) {
  int blk = (int)(long)r->data, slot = (int)(r - rreq), i;
  CHECK_EQ(r->result, BLK);
  for (i = 0; i < BLK; i += 512) CHECK(bufs[slot][i] == (char)pattern_byte(blk, 3, i));
  uv_fs_req_cleanup(r);
  reads_done++;
  send_read(r);
}

static void timer_cb(uv_timer_t* t) {
  int i;
  for (i = 0; i < INFLIGHT; i++) {
    send_stat(&sreq[i]);
    send_read(&rreq[i]);
  }
  uv_close((uv_handle_t*)t, NULL);
}

int main(int argc, char** argv) {
  uv_timer_t timer;
  char* dir = make_tmpdir();
  static char blk[BLK];
  double t0;
  int i, j;
  n = argc > 1 ? atoi(argv[1]) : 5000;
  snprintf(spath, sizeof spath, "%s/data", dir);
  rfd = open(spath, O_CREAT | O_RDWR | O_TRUNC, 0644);
  CHECK(rfd >= 0);
  for (i = 0; i < 256; i++) {
    for (j = 0; j < BLK; j++) blk[j] = (char)pattern_byte(i, 3, j);
    CHECK(pwrite(rfd, blk, BLK, (off_t)i * BLK) == BLK);
  }
  CHECK_EQ(uv_loop_init(&loop), 0);
  t0 = now_s();
  CHECK_EQ(uv_timer_init(&loop, &timer), 0);
  CHECK_EQ(uv_timer_start(&timer, timer_cb, 0, 0), 0);
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ(stats_done, n);
  CHECK_EQ(reads_done, n);
  CHECK_EQ(uv_loop_close(&loop), 0);
  close(rfd);
  CHECK(unlink(spath) == 0);
  CHECK(rmdir(dir) == 0);
  printf("async_stats=%d async_reads=%d time=%.3fs\n", n, n, now_s() - t0);
  return 0;
}
