/* A pool that cannot start a single thread (run under RLIMIT_NPROC = 1 as an unprivileged
 * user): uv_queue_work and async fs requests must still complete, with their callbacks from
 * the loop, instead of waiting forever for a worker. libuv aborts here; uvring says so on
 * stderr once and runs pool work on the submitting thread until a worker can start.
 * Prints "work_done=3 after_cb=3 fs_done=1 stat_ok=1" and exits 0. */
#include "common.h"

static int work_done, after_cb, fs_done, stat_ok;

static void work(uv_work_t* r) { (void)r; work_done++; }
static void after(uv_work_t* r, int status) {
  (void)r;
  CHECK_EQ(status, 0);
  after_cb++;
}
static void on_stat(uv_fs_t* r) {
  stat_ok = r->result == 0 && r->statbuf.st_size > 0;
  fs_done++;
  uv_fs_req_cleanup(r);
}

int main(int argc, char** argv) {
  uv_loop_t loop;
  uv_work_t w[3];
  uv_fs_t st;
  int i;
  (void)argc;
  alarm(20); /* a hang is the failure this test exists for */
  CHECK_EQ(uv_loop_init(&loop), 0);
  for (i = 0; i < 3; i++) CHECK_EQ(uv_queue_work(&loop, &w[i], work, after), 0);
  CHECK_EQ(uv_fs_stat(&loop, &st, argv[0], on_stat), 0);
  CHECK_EQ(after_cb, 0); /* callbacks come from the loop, never from inside the call */
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ(uv_loop_close(&loop), 0);
  printf("work_done=%d after_cb=%d fs_done=%d stat_ok=%d\n", work_done, after_cb, fs_done,
         stat_ok);
  return 0;
}
