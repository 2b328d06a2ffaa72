/* A loop under qemu-user, which answers io_uring_setup with ENOSYS, must fall back to epoll
 * quietly: with UV_USE_IO_URING=1 and UVRING_DEBUG=1, asynchronous file requests (the ones the
 * ring would take), a timer and a work item all complete with the right results, and the one
 * line on stderr is the backend choice. compat/arm64/fallback.sh builds it for aarch64 and
 * checks that line. Exit status 0 when every step did what it should. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static const char text[] = "uvring on aarch64 under qemu-user\n";
static char path[64];
static char rbuf[64];
static uv_file fd = -1;
static int steps;
static int timer_fired;
static int work_done;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
      _exit(1);                                                             \
    }                                                                       \
  } while (0)

static void on_close(uv_fs_t *req) {
  CHECK(req->result == 0);
  uv_fs_req_cleanup(req);
  steps++;
}

static void on_read(uv_fs_t *req) {
  CHECK(req->result == (ssize_t)strlen(text));
  CHECK(memcmp(rbuf, text, strlen(text)) == 0);
  uv_fs_req_cleanup(req);
  steps++;
  CHECK(uv_fs_close(req->loop, req, fd, on_close) == 0);
}

static void on_write(uv_fs_t *req) {
  uv_buf_t b = uv_buf_init(rbuf, sizeof(rbuf));
  CHECK(req->result == (ssize_t)strlen(text));
  uv_fs_req_cleanup(req);
  steps++;
  CHECK(uv_fs_read(req->loop, req, fd, &b, 1, 0, on_read) == 0);
}

static void on_open(uv_fs_t *req) {
  uv_buf_t b = uv_buf_init((char *)text, strlen(text));
  CHECK(req->result >= 0);
  fd = (uv_file)req->result;
  uv_fs_req_cleanup(req);
  steps++;
  CHECK(uv_fs_write(req->loop, req, fd, &b, 1, 0, on_write) == 0);
}

static void on_timer(uv_timer_t *t) {
  timer_fired++;
  uv_close((uv_handle_t *)t, NULL);
}

static void work(uv_work_t *w) { (void)w; }
static void after_work(uv_work_t *w, int status) {
  (void)w;
  CHECK(status == 0);
  work_done++;
}

int main(void) {
  uv_loop_t loop;
  uv_fs_t req, unlink_req;
  uv_timer_t timer;
  uv_work_t w;

  snprintf(path, sizeof(path), "/tmp/uvring-arm64-fallback.%d", (int)getpid());
  CHECK(uv_loop_init(&loop) == 0);
  CHECK(uv_fs_open(&loop, &req, path, UV_FS_O_CREAT | UV_FS_O_RDWR | UV_FS_O_TRUNC, 0600,
                   on_open) == 0);
  CHECK(uv_timer_init(&loop, &timer) == 0);
  CHECK(uv_timer_start(&timer, on_timer, 10, 0) == 0);
  CHECK(uv_queue_work(&loop, &w, work, after_work) == 0);
  CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  CHECK(steps == 4 && timer_fired == 1 && work_done == 1);
  CHECK(uv_fs_unlink(NULL, &unlink_req, path, NULL) == 0);
  uv_fs_req_cleanup(&unlink_req);
  CHECK(uv_loop_close(&loop) == 0);
  printf("ok: open/write/read/close, a timer and a work item on the loop\n");
  return 0;
}
