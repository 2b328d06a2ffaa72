/* SIGSTOP/SIGCONT while the loop is blocked in its wait (io_uring_enter / epoll_wait with a
 * timeout). The worker child has a SIGCONT handler without SA_RESTART, so every continue makes
 * the wait return EINTR. Its loop has a 100 ms repeating timer (10 fires) and an async uv_fs_read
 * of the read end of a pipe that stays empty until the parent, after PAIRS (default 200)
 * stop/continue pairs, writes "ping" into it. Checked: each fire comes >= 100 ms after the loop
 * time the timer was (re)started from (no early fire from a lost timeout: libuv's guarantee; the
 * interval between two callbacks can be shorter when a stop lands between the loop's clock update
 * and a callback, as in libuv) and the whole run is not much longer than the stops explain; the
 * pending read completes with exactly "ping" (a request parked in the ring survives the storm);
 * uv_run returns (bounded by alarm). As in libuv 1.50, a pool thread's read(2) interrupted by the
 * signal reports UV_EINTR (uv__fs_work does not retry reads): the test then reads again, as a
 * libuv user must, and counts it. Usage: t_stopidle [PAIRS] */
#include "common.h"

#include <signal.h>
#include <sys/wait.h>

static uv_loop_t loop;
static uv_timer_t timer;
static uv_fs_t rreq;
static char rbuf[64];
static int fires, read_done, read_eintr, min_interval_ms = 1 << 30, max_interval_ms;
static int min_since_start_ms = 1 << 30;
static uint64_t last, started_at;
static volatile sig_atomic_t conts;

static void on_cont(int sig) {
  (void)sig;
  conts++;
}

static void timer_cb(uv_timer_t* t) {
  uint64_t now = uv_hrtime() / 1000000;
  int d = (int)(now - last);
  last = now;
  if ((int)(now - started_at) < min_since_start_ms) min_since_start_ms = (int)(now - started_at);
  started_at = uv_now(t->loop); /* a repeating timer restarts from the loop's time */
  if (d < min_interval_ms) min_interval_ms = d;
  if (d > max_interval_ms) max_interval_ms = d;
  if (++fires == 10) uv_close((uv_handle_t*)t, NULL);
}

static int pipe_rd;

static void read_cb(uv_fs_t* r) {
  if (r->result == UV_EINTR) {
    uv_buf_t b = uv_buf_init(rbuf, sizeof rbuf);
    read_eintr++;
    uv_fs_req_cleanup(r);
    CHECK_EQ(uv_fs_read(&loop, r, pipe_rd, &b, 1, -1, read_cb), 0);
    return;
  }
  CHECK_EQ(r->result, 4);
  CHECK(memcmp(rbuf, "ping", 4) == 0);
  uv_fs_req_cleanup(r);
  read_done = 1;
}

int main(int argc, char** argv) {
  int pairs = argc > 1 ? atoi(argv[1]) : 200, i, st, p[2];
  pid_t pid;
  double t0;
  CHECK(pipe(p) == 0);
  fflush(stdout);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    struct sigaction sa;
    uv_buf_t b = uv_buf_init(rbuf, sizeof rbuf);
    double start;
    alarm(30);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cont; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGCONT, &sa, NULL) == 0);
    close(p[1]);
    pipe_rd = p[0];
    CHECK_EQ(uv_loop_init(&loop), 0);
    CHECK_EQ(uv_timer_init(&loop, &timer), 0);
    last = uv_hrtime() / 1000000;
    started_at = uv_now(&loop);
    CHECK_EQ(uv_timer_start(&timer, timer_cb, 100, 100), 0);
    CHECK_EQ(uv_fs_read(&loop, &rreq, p[0], &b, 1, -1, read_cb), 0);
    start = now_s();
    CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_EQ(fires, 10);
    CHECK(read_done);
    CHECK_EQ(uv_loop_close(&loop), 0);
    printf("worker: timer_fires=%d interval_ms=%d..%d after_start_ms>=%d pipe_read=ping "
           "(after %d UV_EINTR) sigcont_handled=%d run=%.2fs\n", fires, min_interval_ms,
           max_interval_ms, min_since_start_ms, read_eintr, (int)conts, now_s() - start);
    fflush(stdout);
    if (min_since_start_ms < 100) {
      fprintf(stderr, "a 100 ms timer fired %d ms after the loop time it started from\n",
              min_since_start_ms);
      _exit(1);
    }
    _exit(0);
  }
  close(p[0]);
  t0 = now_s();
  usleep(20000);
  for (i = 0; i < pairs; i++) {
    CHECK(kill(pid, SIGSTOP) == 0);
    CHECK(waitpid(pid, &st, WUNTRACED) == pid);
    if (!WIFSTOPPED(st)) break;
    usleep(500);
    CHECK(kill(pid, SIGCONT) == 0);
    CHECK(waitpid(pid, &st, WCONTINUED) == pid);
    if (!WIFCONTINUED(st)) break;
    usleep(2000);
  }
  if (i < pairs) {
    fprintf(stderr, "worker ended during the storm after %d pairs (status 0x%x)\n", i, st);
    return 1;
  }
  CHECK(write(p[1], "ping", 4) == 4);
  CHECK(waitpid(pid, &st, 0) == pid);
  printf("parent: pairs=%d storm=%.2fs\n", pairs, now_s() - t0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "worker failed: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit status",
            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    return 1;
  }
  return 0;
}
