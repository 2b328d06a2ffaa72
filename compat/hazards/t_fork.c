/* fork: the parent uses its loop (async fs through the ring, a timer, a pipe), then forks. The
 * child calls uv_loop_fork and runs timers + a chain of async fs ops + a pipe on the same loop;
 * it must not hold the parent's ring any more (kcmp(KCMP_FILE) against the parent's ring
 * descriptors), and in io_uring mode must have a ring of its own. Meanwhile the parent runs the
 * same work again on its loop, which must be untouched. */
#include "common.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static uv_loop_t loop;
static char fpath[256];

/* ---- one round of work on the loop: timer x3, fs chain, pipe echo ---- */
static uv_timer_t timer;
static uv_pipe_t prd, pwr;
static uv_fs_t freq;
static uv_write_t wreq;
static char wbuf[4096], rbuf[4096], fbuf[4096];
static size_t got;
static int fires, step, fs_done, pipe_done, finished;
static uv_file fd;
static char tag;

static void fs_cb(uv_fs_t* r);
static void maybe_finish(void) {
  if (finished || !(fs_done && pipe_done && fires >= 3)) return;
  finished = 1;
  uv_close((uv_handle_t*)&timer, NULL);
  uv_close((uv_handle_t*)&prd, NULL);
  uv_close((uv_handle_t*)&pwr, NULL);
}
static void fs_next(void) {
  uv_buf_t b = uv_buf_init(fbuf, sizeof fbuf);
  int rc = 0;
  switch (step++) {
    case 0: rc = uv_fs_open(&loop, &freq, fpath, O_CREAT | O_RDWR | O_TRUNC, 0644, fs_cb); break;
    case 1:
      memset(fbuf, tag, sizeof fbuf);
      rc = uv_fs_write(&loop, &freq, fd, &b, 1, 0, fs_cb);
      break;
    case 2:
      memset(fbuf, 0, sizeof fbuf);
      rc = uv_fs_read(&loop, &freq, fd, &b, 1, 0, fs_cb);
      break;
    case 3: rc = uv_fs_close(&loop, &freq, fd, fs_cb); break;
    case 4: rc = uv_fs_stat(&loop, &freq, fpath, fs_cb); break;
    default: fs_done = 1; maybe_finish(); return;
  }
  CHECK_EQ(rc, 0);
}
static void fs_cb(uv_fs_t* r) {
  int i;
  switch (step - 1) {
    case 0: CHECK(r->result >= 0); fd = (uv_file)r->result; break;
    case 1: CHECK_EQ(r->result, sizeof fbuf); break;
    case 2:
      CHECK_EQ(r->result, sizeof fbuf);
      for (i = 0; i < (int)sizeof fbuf; i++) CHECK(fbuf[i] == tag);
      break;
    case 4: CHECK_EQ(r->result, 0); CHECK_EQ(r->statbuf.st_size, sizeof fbuf); break;
    default: CHECK_EQ(r->result, 0);
  }
  uv_fs_req_cleanup(r);
  fs_next();
}
static void timer_cb(uv_timer_t* t) {
  if (++fires == 3) uv_timer_stop(t);
  maybe_finish();
}
static void alloc_cb(uv_handle_t* h, size_t sz, uv_buf_t* b) {
  (void)h;
  (void)sz;
  *b = uv_buf_init(rbuf + got, sizeof rbuf - got);
}
static void read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
  (void)b;
  CHECK(n >= 0);
  got += n;
  if (got == sizeof wbuf) {
    CHECK(memcmp(rbuf, wbuf, sizeof wbuf) == 0);
    uv_read_stop(s);
    pipe_done = 1;
    maybe_finish();
  }
}
static void write_cb(uv_write_t* w, int status) {
  (void)w;
  CHECK_EQ(status, 0);
}

static double work_round(char t, const char* dir, const char* who) {
  uv_file fds[2];
  uv_buf_t b;
  int i;
  double t0 = now_s();
  tag = t;
  got = fires = step = fs_done = pipe_done = finished = 0;
  snprintf(fpath, sizeof fpath, "%s/%s", dir, who);
  CHECK_EQ(uv_timer_init(&loop, &timer), 0);
  CHECK_EQ(uv_timer_start(&timer, timer_cb, 2, 2), 0);
  CHECK_EQ(uv_pipe(fds, 0, 0), 0);
  CHECK_EQ(uv_pipe_init(&loop, &prd, 0), 0);
  CHECK_EQ(uv_pipe_init(&loop, &pwr, 0), 0);
  CHECK_EQ(uv_pipe_open(&prd, fds[0]), 0);
  CHECK_EQ(uv_pipe_open(&pwr, fds[1]), 0);
  for (i = 0; i < (int)sizeof wbuf; i++) wbuf[i] = (char)(i ^ t);
  CHECK_EQ(uv_read_start((uv_stream_t*)&prd, alloc_cb, read_cb), 0);
  b = uv_buf_init(wbuf, sizeof wbuf);
  CHECK_EQ(uv_write(&wreq, (uv_stream_t*)&pwr, &b, 1, write_cb), 0);
  fs_next();
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK(finished);
  return now_s() - t0;
}

int main(void) {
  char* dir = make_tmpdir();
  int parent_rings[16], nparent, nchild, child_rings[16], i, j, st, kcmp_ok = 1;
  pid_t pid, ppid = getpid();
  double tp;

  CHECK_EQ(uv_loop_init(&loop), 0);
  work_round('P', dir, "parent0");
  nparent = ring_fd_list(parent_rings, 16);
  CHECK(nparent <= 16);
  fflush(stdout);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    double tc;
    /* Before uv_loop_fork the child does share the parent's ring (proves the kcmp check). */
    for (j = 0; j < nparent; j++) {
      CHECK(syscall(SYS_kcmp, getpid(), ppid, KCMP_FILE, parent_rings[j], parent_rings[j]) == 0);
    }
    CHECK_EQ(uv_loop_fork(&loop), 0);
    nchild = ring_fd_list(child_rings, 16);
    CHECK(nchild <= 16);
    /* No descriptor of the child may be the parent's ring. */
    for (i = 0; i < nchild; i++) {
      for (j = 0; j < nparent; j++) {
        long r = syscall(SYS_kcmp, getpid(), ppid, KCMP_FILE, child_rings[i], parent_rings[j]);
        if (r < 0) {
          kcmp_ok = 0;
          continue;
        }
        if (r == 0) {
          fprintf(stderr, "child fd %d is the parent's ring (parent fd %d) after uv_loop_fork\n",
                  child_rings[i], parent_rings[j]);
          _exit(1);
        }
      }
    }
    /* In io_uring mode the child's loop must have a ring of its own. */
    if (nparent > 0) CHECK_EQ(nchild, nparent);
    tc = work_round('C', dir, "child");
    tc += work_round('D', dir, "child2");
    CHECK_EQ(uv_loop_close(&loop), 0);
    printf("child: ring_fds=%d shared_with_parent=%s work=%.3fs\n", nchild,
           kcmp_ok ? "0" : "unknown (kcmp failed)", tc);
    fflush(stdout);
    _exit(0);
  }
  tp = work_round('Q', dir, "parent1");
  CHECK(waitpid(pid, &st, 0) == pid);
  tp += work_round('R', dir, "parent2"); /* after the child is gone, too */
  CHECK_EQ(ring_fds(), nparent);
  CHECK_EQ(uv_loop_close(&loop), 0);
  rm_rf(dir);
  printf("parent: ring_fds=%d work_after_fork=%.3fs child_status=%d\n", nparent, tp,
         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
