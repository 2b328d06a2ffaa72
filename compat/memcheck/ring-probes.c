/* compat/memcheck/ring-probes.c — deliberate memory bugs (and one correct program) around
 * asynchronous file reads and stats, to show what memcheck catches on each backend:
 * with UV_USE_IO_URING=1 the kernel does the I/O through the ring, with =0 a pool thread calls
 * preadv/statx. Run by probes.sh under valgrind; each mode prints what it did.
 *
 *   ring-probes small-read FILE   reads 64 bytes into a 4-byte malloc'd block, then the callback
 *                                 looks at all 64 (a too-small buffer)
 *   ring-probes use-after-free FILE  the callback frees the buffer, then reads it
 *   ring-probes free-early FILE   frees the buffer before the read has completed (the kernel or
 *                                 the pool thread writes into freed memory); the callback does
 *                                 not touch it
 *   ring-probes correct-read FILE a correct read into a malloc'd (undefined) block; the callback
 *                                 branches on the bytes read
 *   ring-probes correct-stat FILE a correct uv_fs_stat; the callback branches on the result
 *   ring-probes uninit-write FILE writes 64 bytes of a fresh malloc'd (undefined) block to
 *                                 /dev/null (FILE unused)
 *
 * Every request is made from a timer callback, inside a loop turn: uvring (like libuv 1.50)
 * hands a request made outside a turn to a pool thread even in io_uring mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uv.h"

static char* buf;
static const char* mode;
static int sum;

static void on_read(uv_fs_t* req) {
  int i;
  if (req->result < 0) {
    fprintf(stderr, "read: %s\n", uv_strerror((int) req->result));
    exit(2);
  }
  if (strcmp(mode, "use-after-free") == 0) {
    free(buf);
    for (i = 0; i < 8; i++) sum += buf[i]; /* BUG: reads freed memory */
  } else if (strcmp(mode, "small-read") == 0) {
    for (i = 0; i < 64; i++) sum += buf[i]; /* BUG: 60 bytes past the 4-byte block */
    free(buf);
  } else if (strcmp(mode, "correct-read") == 0) {
    for (i = 0; i < (int) req->result; i++)
      if (buf[i] == 'x') sum++; /* correct: the bytes were read */
    free(buf);
  }
  /* free-early: the buffer is already gone; nothing touches it here. */
  printf("%s: read %zd bytes, sum %d\n", mode, (ssize_t) req->result, sum);
  uv_fs_req_cleanup(req);
}

static void on_stat(uv_fs_t* req) {
  if (req->result < 0) {
    fprintf(stderr, "stat: %s\n", uv_strerror((int) req->result));
    exit(2);
  }
  /* correct: every field of a successful stat is defined */
  if (req->statbuf.st_size == 64 && req->statbuf.st_mode != 0 && req->statbuf.st_nlink > 0 &&
      req->statbuf.st_mtim.tv_sec > 0 && req->statbuf.st_ino != 0)
    sum = 1;
  printf("%s: size %llu, ok %d\n", mode, (unsigned long long) req->statbuf.st_size, sum);
  uv_fs_req_cleanup(req);
}

static void on_write(uv_fs_t* req) {
  printf("%s: wrote %zd bytes\n", mode, (ssize_t) req->result);
  free(buf);
  uv_fs_req_cleanup(req);
}

static const char* path;
static uv_fs_t req;
static uv_file fd;

static void start(uv_timer_t* timer) {
  uv_loop_t* loop = timer->loop;
  uv_buf_t b;
  uv_close((uv_handle_t*) timer, NULL);
  if (strcmp(mode, "correct-stat") == 0) {
    if (uv_fs_stat(loop, &req, path, on_stat) != 0) exit(2);
    return;
  }
  if (strcmp(mode, "uninit-write") == 0) {
    buf = malloc(64); /* BUG: its bytes are never set */
    b = uv_buf_init(buf, 64);
    if (uv_fs_write(loop, &req, fd, &b, 1, -1, on_write) != 0) exit(2);
    return;
  }
  buf = malloc(strcmp(mode, "small-read") == 0 ? 4 : 64);
  b = uv_buf_init(buf, 64);
  if (uv_fs_read(loop, &req, fd, &b, 1, 0, on_read) != 0) exit(2);
  if (strcmp(mode, "free-early") == 0) free(buf); /* BUG: the read is still in flight */
}

int main(int argc, char** argv) {
  uv_loop_t* loop = uv_default_loop();
  uv_fs_t open_req;
  uv_timer_t timer;
  int writing;

  if (argc != 3) {
    fprintf(stderr, "usage: ring-probes MODE FILE\n");
    return 2;
  }
  mode = argv[1];
  path = argv[2];
  writing = strcmp(mode, "uninit-write") == 0;
  fd = uv_fs_open(NULL, &open_req, writing ? "/dev/null" : path,
                  writing ? UV_FS_O_WRONLY : UV_FS_O_RDONLY, 0, NULL); /* synchronous */
  uv_fs_req_cleanup(&open_req);
  if (fd < 0) {
    fprintf(stderr, "open %s: %s\n", path, uv_strerror(fd));
    return 2;
  }
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, start, 0, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_fs_close(NULL, &open_req, fd, NULL);
  uv_fs_req_cleanup(&open_req);
  return uv_loop_close(loop) == 0 ? 0 : 3;
}
