/* N (default 1000) cycles of uv_loop_init / uv_loop_configure(SQPOLL) / a timer and an async
 * uv_fs_stat / uv_run / uv_loop_close. Run with UV_USE_IO_URING=1. While each loop is alive, its
 * ring (the only io_uring descriptor) must have an SQPOLL thread (fdinfo "SqThread:" not -1):
 * proves SQPOLL is on. (Counting iou-sqp-* threads there would not do: the name is set by the
 * thread itself once it runs, and threads of closed loops linger for a while.) After the last
 * close, no iou-* kernel thread (iou-sqp-*, and iou-wrk-* io-wq workers) and no ring descriptor
 * may remain (up to 2 s of grace for the kernel to reap the threads). */
#include "common.h"

static int stat_done, timer_done, sqp_seen_min = 1 << 30, sqp_seen_max, no_sq_thread;

static void stat_cb(uv_fs_t* req) {
  CHECK_EQ(req->result, 0);
  CHECK(S_ISDIR(req->statbuf.st_mode));
  uv_fs_req_cleanup(req);
  stat_done++;
}

static void timer_cb(uv_timer_t* t) {
  int n = threads_named("iou-sqp-"), fds[4], nfds = ring_fd_list(fds, 4), tries = 0, sq = -1;
  /* fdinfo shows -1 when it cannot take the SQPOLL data's lock. 6.1's thread holds it for the
   * whole of its busy-poll period (sq_thread_idle: 1 s in uvring) and drops it only to sleep, so
   * read again for up to 1.2 s (6.1 in QEMU: 1 of 200 loops still read -1 after 100 ms). */
  while (nfds == 1 && (sq = ring_sq_thread(fds[0])) <= 0 && ++tries < 1200) usleep(1000);
  if (sq <= 0) {
    fprintf(stderr, "loop %d: %d ring fd(s), SqThread %d\n", timer_done, nfds, sq);
    no_sq_thread++;
  }
  if (n < sqp_seen_min) sqp_seen_min = n;
  if (n > sqp_seen_max) sqp_seen_max = n;
  timer_done++;
  uv_close((uv_handle_t*)t, NULL);
}

int main(int argc, char** argv) {
  int cycles = argc > 1 ? atoi(argv[1]) : 1000;
  int i, left = -1, wrk_left = -1, tasks_left;
  double t0 = now_s(), t1, t2;
  for (i = 0; i < cycles; i++) {
    uv_loop_t loop;
    uv_timer_t timer;
    uv_fs_t req;
    CHECK_EQ(uv_loop_init(&loop), 0);
    CHECK_EQ(uv_loop_configure(&loop, UV_LOOP_USE_IO_URING_SQPOLL), 0);
    CHECK_EQ(uv_fs_stat(&loop, &req, "/", stat_cb), 0);
    CHECK_EQ(uv_timer_init(&loop, &timer), 0);
    CHECK_EQ(uv_timer_start(&timer, timer_cb, 0, 0), 0);
    CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_EQ(uv_loop_close(&loop), 0);
  }
  t1 = now_s();
  CHECK_EQ(stat_done, cycles);
  CHECK_EQ(timer_done, cycles);
  /* Grace period: the kernel reaps SQPOLL threads asynchronously after the ring is freed. */
  while (now_s() - t1 < 2.0) {
    left = threads_named("iou-sqp-");
    wrk_left = threads_named("iou-wrk-");
    if (left == 0 && wrk_left == 0) break;
    usleep(10000);
  }
  t2 = now_s();
  tasks_left = threads_named("");
  printf("cycles=%d time=%.2fs iou-sqp_threads_seen_while_alive=%d..%d sqp_threads_left=%d "
         "iou-wrk_threads_left=%d reaped_after=%.3fs ring_fds_left=%d threads_left=%d\n",
         cycles, t1 - t0, sqp_seen_min, sqp_seen_max, left, wrk_left, t2 - t1, ring_fds(),
         tasks_left);
  if (no_sq_thread > 0) {
    fprintf(stderr, "%d loop(s) configured with SQPOLL ran without an SQPOLL thread\n",
            no_sq_thread);
    return 1;
  }
  if (left != 0 || wrk_left != 0) {
    fprintf(stderr, "%d iou-sqp and %d iou-wrk thread(s) left 2 s after the last loop closed\n",
            left, wrk_left);
    return 1;
  }
  CHECK_EQ(ring_fds(), 0);
  return 0;
}
