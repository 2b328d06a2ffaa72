/* uv_backend_fd is the loop's epoll set in every mode, as in libuv 1.50, and programs use it
 * as one (uvloop, embedders that drive uv_run from their own loop):
 *   1. it is an epoll descriptor;
 *   2. EPOLL_CTL_MOD of a descriptor whose poll watcher is active succeeds on it, and fails
 *      with ENOENT once uv_poll_stop has run (uvloop checks exactly this);
 *   3. an outer loop that only blocks in epoll_wait on it (timeout from uv_backend_timeout)
 *      and then calls uv_run(UV_RUN_NOWAIT) drives rounds of file operations, started from
 *      callbacks (so that in io_uring mode they run in the ring; fsyncs among them, which the
 *      kernel completes from an io-wq worker), to completion: the epoll fd must become readable
 *      when they complete.
 * Prints "backend_fd=epoll enoent=1 fs_done=N blocking_wakeups=K ring_fds=R" and exits 0. */
#include "common.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#define ROUNDS 4
#define PER_ROUND 48

static uv_loop_t loop;
static uv_fs_t reqs[PER_ROUND];
static char bufs[PER_ROUND][4096];
static uv_buf_t iov[PER_ROUND];
static int file_fd;
static char path[512];
static int outstanding, round_no, fs_done;

static void start_round(void);

static void on_fs(uv_fs_t* req) {
  if (req->fs_type == UV_FS_FSYNC) {
    CHECK_EQ(req->result, 0);
  } else if (req->fs_type == UV_FS_STAT) {
    CHECK_EQ(req->result, 0);
    CHECK_EQ(req->statbuf.st_size, 4096);
  } else {
    CHECK_EQ(req->result, 4096);
    CHECK_EQ(((char*)req->data)[100], 'x');
  }
  uv_fs_req_cleanup(req);
  fs_done++;
  if (--outstanding == 0 && ++round_no < ROUNDS) start_round();
}

static void start_round(void) {
  int i;
  for (i = 0; i < PER_ROUND; i++) {
    memset(bufs[i], 0, sizeof bufs[i]);
    reqs[i].data = bufs[i];
    iov[i] = uv_buf_init(bufs[i], sizeof bufs[i]);
    if (i % 8 == 7) /* the kernel runs an fsync on an io-wq worker: a completion from afar */
      CHECK_EQ(uv_fs_fsync(&loop, &reqs[i], file_fd, on_fs), 0);
    else if (i % 2)
      CHECK_EQ(uv_fs_stat(&loop, &reqs[i], path, on_fs), 0);
    else
      CHECK_EQ(uv_fs_read(&loop, &reqs[i], file_fd, &iov[i], 1, 0, on_fs), 0);
    outstanding++;
  }
}

static void on_timer(uv_timer_t* t) {
  (void)t;
  start_round(); /* inside uv_run: io_uring mode puts these in the ring */
}

static int is_epoll_fd(int fd) {
  char p[64], link[128];
  ssize_t n;
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  n = readlink(p, link, sizeof link - 1);
  if (n < 0) return 0;
  link[n] = '\0';
  return strcmp(link, "anon_inode:[eventpoll]") == 0;
}

int main(void) {
  int sv[2], bfd, enoent, blocking_wakeups = 0, rings, i;
  struct epoll_event ev;
  uv_poll_t poll;
  uv_timer_t timer;
  char data[4096];

  alarm(30); /* a lost wake-up would hang the outer loop */
  CHECK_EQ(uv_loop_init(&loop), 0);
  bfd = uv_backend_fd(&loop);
  CHECK(bfd >= 0);
  CHECK(is_epoll_fd(bfd));

  /* 2. the poll watcher's descriptor in the epoll set, then out of it */
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  CHECK_EQ(uv_poll_init(&loop, &poll, sv[0]), 0);
  CHECK_EQ(uv_poll_start(&poll, UV_READABLE, NULL), 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  CHECK_EQ(epoll_ctl(bfd, EPOLL_CTL_MOD, sv[0], &ev), 0);
  CHECK_EQ(uv_poll_stop(&poll), 0);
  errno = 0;
  enoent = epoll_ctl(bfd, EPOLL_CTL_MOD, sv[0], &ev) == -1 && errno == ENOENT;
  CHECK(enoent);
  uv_close((uv_handle_t*)&poll, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);

  /* 3. an outer loop on the epoll fd */
  snprintf(path, sizeof path, "%s/backendfd.%d", getenv("HAZARD_TMP") ? getenv("HAZARD_TMP") : "/tmp",
           (int)getpid());
  file_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  CHECK(file_fd >= 0);
  memset(data, 'x', sizeof data);
  CHECK_EQ(write(file_fd, data, sizeof data), (long long)sizeof data);
  CHECK_EQ(uv_timer_init(&loop, &timer), 0);
  CHECK_EQ(uv_timer_start(&timer, on_timer, 0, 0), 0);
  while (uv_loop_alive(&loop)) {
    struct epoll_event got[8];
    int timeout = uv_backend_timeout(&loop);
    int n = epoll_wait(bfd, got, 8, timeout);
    if (n < 0) {
      CHECK(errno == EINTR); /* task work of the ring may interrupt a wait */
      continue;
    }
    if (timeout == -1 && n > 0) blocking_wakeups++;
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  CHECK_EQ(fs_done, ROUNDS * PER_ROUND);
  CHECK(blocking_wakeups >= 1);
  rings = ring_fd_list(NULL, 0);
  uv_close((uv_handle_t*)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_EQ(uv_loop_close(&loop), 0);
  close(file_fd);
  unlink(path);
  for (i = 0; i < 2; i++) close(sv[i]);
  printf("backend_fd=epoll enoent=%d fs_done=%d blocking_wakeups=%s ring_fds=%d\n", enoent,
         fs_done, blocking_wakeups >= 1 ? "yes" : "no", rings);
  return 0;
}
