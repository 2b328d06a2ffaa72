/* A small libuv program for the install test: a timer, an asynchronous stat and the version,
 * and the file the uv_* code was loaded from (dladdr), so the test can tell which library ran. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static int timer_fired;
static int stat_done;

static void on_timer(uv_timer_t *t) {
  timer_fired = 1;
  uv_close((uv_handle_t *)t, NULL);
}

static void on_stat(uv_fs_t *req) {
  stat_done = req->result == 0 && (req->statbuf.st_mode & S_IFDIR);
  uv_fs_req_cleanup(req);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  uv_timer_t timer;
  uv_fs_t req;
  Dl_info info;
  (void)argc;
  if (uv_loop_init(&loop) != 0) return 2;
  uv_timer_init(&loop, &timer);
  uv_timer_start(&timer, on_timer, 10, 0);
  if (uv_fs_stat(&loop, &req, "/", on_stat) != 0) return 3;
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) return 4;
  if (!timer_fired || !stat_done) return 5;
  if (strcmp(uv_version_string(), "1.50.0") != 0) return 6;
  if (!dladdr((void *)uv_version_string, &info)) return 7;
  printf("%s: libuv %s, timer and fs_stat ok, uv_* from %s\n", argv[0], uv_version_string(),
         info.dli_fname);
  return 0;
}
