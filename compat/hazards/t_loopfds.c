/* Runs a loop with timers, a chain of async fs ops and a pipe, and reports how many io_uring
 * descriptors the process held while the loop was alive and after uv_loop_close.
 * Output: "ring_fds_alive=N ring_fds_after_close=M"; exits 0 only if all the work completed
 * correctly (the caller checks N and M against the backend it expects).
 * With the argument "seccomp", first installs a seccomp filter that answers io_uring_setup
 * with EPERM (and checks that it does) before the loop is created; further arguments are then a
 * command (e.g. "uvring doctor") exec'd under the same filter after the report. */
#include "common.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define HZ_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HZ_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "unsupported architecture"
#endif

static void install_seccomp(void) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HZ_AUDIT_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
  char params[120]; /* struct io_uring_params */
  long r;
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0);
  /* The filter is in force: a direct io_uring_setup now fails with EPERM. */
  memset(params, 0, sizeof params);
  errno = 0;
  r = syscall(__NR_io_uring_setup, 4, params);
  CHECK(r == -1 && errno == EPERM);
}

static uv_loop_t loop;
static uv_timer_t timer;
static uv_pipe_t prd, pwr;
static uv_fs_t freq;
static uv_write_t wreq;
static char* dir;
static char fpath[256];
static char wbuf[8192], rbuf[8192], fbuf[4096];
static size_t pipe_got;
static int timer_fires, fs_steps, fs_done, pipe_done, finished;
static int min_alive = 1 << 30, max_alive = -1;
static uv_file fd;

static void sample(void) {
  int n = ring_fds();
  if (n < min_alive) min_alive = n;
  if (n > max_alive) max_alive = n;
}

static void fs_cb(uv_fs_t* req);
static void maybe_finish(void);

static void fs_next(void) {
  uv_buf_t b;
  int r = 0;
  sample();
  switch (fs_steps++) {
    case 0:
      r = uv_fs_open(&loop, &freq, fpath, O_CREAT | O_RDWR | O_TRUNC, 0644, fs_cb);
      break;
    case 1:
      memset(fbuf, 'x', sizeof fbuf);
      b = uv_buf_init(fbuf, sizeof fbuf);
      r = uv_fs_write(&loop, &freq, fd, &b, 1, 0, fs_cb);
      break;
    case 2:
      memset(fbuf, 0, sizeof fbuf);
      b = uv_buf_init(fbuf, sizeof fbuf);
      r = uv_fs_read(&loop, &freq, fd, &b, 1, 0, fs_cb);
      break;
    case 3: r = uv_fs_fstat(&loop, &freq, fd, fs_cb); break;
    case 4: r = uv_fs_close(&loop, &freq, fd, fs_cb); break;
    case 5: r = uv_fs_stat(&loop, &freq, fpath, fs_cb); break;
    case 6: r = uv_fs_unlink(&loop, &freq, fpath, fs_cb); break;
    default: fs_done = 1; maybe_finish(); return;
  }
  CHECK_EQ(r, 0);
}

static void fs_cb(uv_fs_t* req) {
  int i;
  switch (fs_steps - 1) {
    case 0: CHECK(req->result >= 0); fd = (uv_file)req->result; break;
    case 1: CHECK_EQ(req->result, sizeof fbuf); break;
    case 2:
      CHECK_EQ(req->result, sizeof fbuf);
      for (i = 0; i < (int)sizeof fbuf; i++) CHECK(fbuf[i] == 'x');
      break;
    case 3:
    case 5:
      CHECK_EQ(req->result, 0);
      CHECK_EQ(req->statbuf.st_size, sizeof fbuf);
      break;
    default: CHECK_EQ(req->result, 0); break;
  }
  uv_fs_req_cleanup(req);
  fs_next();
}

static void on_close(uv_handle_t* h) { (void)h; }

static void maybe_finish(void) {
  if (finished || !(fs_done && pipe_done && timer_fires >= 3)) return;
  finished = 1;
  sample();
  uv_close((uv_handle_t*)&timer, on_close);
  uv_close((uv_handle_t*)&prd, on_close);
  uv_close((uv_handle_t*)&pwr, on_close);
}

static void timer_cb(uv_timer_t* t) {
  (void)t;
  sample();
  if (++timer_fires == 3) uv_timer_stop(&timer);
  maybe_finish();
}

static void alloc_cb(uv_handle_t* h, size_t sz, uv_buf_t* b) {
  (void)h;
  (void)sz;
  *b = uv_buf_init(rbuf + pipe_got, sizeof rbuf - pipe_got);
}

static void read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
  (void)b;
  sample();
  CHECK(n >= 0);
  pipe_got += n;
  if (pipe_got == sizeof wbuf) {
    CHECK(memcmp(rbuf, wbuf, sizeof wbuf) == 0);
    uv_read_stop(s);
    pipe_done = 1;
    maybe_finish();
  }
}

static void write_cb(uv_write_t* req, int status) {
  (void)req;
  CHECK_EQ(status, 0);
}

int main(int argc, char** argv) {
  uv_file fds[2];
  uv_buf_t b;
  int i, after;
  if (argc > 1 && strcmp(argv[1], "seccomp") == 0) install_seccomp();
  dir = make_tmpdir();
  snprintf(fpath, sizeof fpath, "%s/file", dir);
  CHECK_EQ(uv_loop_init(&loop), 0);

  CHECK_EQ(uv_timer_init(&loop, &timer), 0);
  CHECK_EQ(uv_timer_start(&timer, timer_cb, 5, 5), 0);

  CHECK_EQ(uv_pipe(fds, 0, 0), 0);
  CHECK_EQ(uv_pipe_init(&loop, &prd, 0), 0);
  CHECK_EQ(uv_pipe_init(&loop, &pwr, 0), 0);
  CHECK_EQ(uv_pipe_open(&prd, fds[0]), 0);
  CHECK_EQ(uv_pipe_open(&pwr, fds[1]), 0);
  for (i = 0; i < (int)sizeof wbuf; i++) wbuf[i] = (char)(i * 7);
  CHECK_EQ(uv_read_start((uv_stream_t*)&prd, alloc_cb, read_cb), 0);
  b = uv_buf_init(wbuf, sizeof wbuf);
  CHECK_EQ(uv_write(&wreq, (uv_stream_t*)&pwr, &b, 1, write_cb), 0);

  fs_next();
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK(fs_done && pipe_done && timer_fires == 3);
  CHECK_EQ(uv_loop_close(&loop), 0);
  after = ring_fds();
  rmdir(dir);
  if (min_alive != max_alive) {
    fprintf(stderr, "ring fd count changed while the loop was alive: %d..%d\n", min_alive,
            max_alive);
    return 1;
  }
  printf("ring_fds_alive=%d ring_fds_after_close=%d\n", max_alive, after);
  fflush(stdout);
  if (argc > 2) {
    execv(argv[2], argv + 2);
    perror("execv");
    return 1;
  }
  return 0;
}
