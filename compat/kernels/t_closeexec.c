/* compat/kernels: an executable written and closed with async uv_fs_* calls (from inside a loop
 * turn, so the close may go to the ring) can be exec'd at once: no ETXTBSY. libuv keeps
 * IORING_OP_CLOSE off before Linux 6.1 because a ring's close could complete before the file
 * was really released there. Usage: t_closeexec DIR ROUNDS (run with UV_USE_IO_URING=1).
 * Prints "rounds=N etxtbsy=K other_errors=E"; exits 1 when K or E is not 0. */
#include "common.h"
#include <sys/wait.h>

static uv_loop_t loop;
static uv_fs_t req;
static uv_timer_t timer;
static char path[600], dir[512];
static const char script[] = "#!/bin/sh\nexit 0\n";
static int round_, rounds, step, etxtbsy, other;
static uv_buf_t buf;
static uv_file fd;

static void next(void);

static void try_exec(void) {
  pid_t pid;
  int st;
  char* argv[] = {path, NULL};
  /* exec from a child: the parent's descriptor table must not matter (the file is closed). */
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    execv(path, argv);
    _exit(errno == ETXTBSY ? 42 : 43);
  }
  CHECK(waitpid(pid, &st, 0) == pid);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 42) etxtbsy++;
  else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) other++;
}

static void on_fs(uv_fs_t* r) {
  long long res = r->result;
  uv_fs_req_cleanup(r);
  switch (step) {
    case 0:
      CHECK(res >= 0);
      fd = (uv_file)res;
      step = 1;
      CHECK_EQ(uv_fs_write(&loop, &req, fd, &buf, 1, 0, on_fs), 0);
      return;
    case 1:
      CHECK_EQ(res, (long long)sizeof script - 1);
      step = 2;
      CHECK_EQ(uv_fs_close(&loop, &req, fd, on_fs), 0);
      return;
    case 2: CHECK_EQ(res, 0);
      try_exec();
      unlink(path);
      step = 0;
      if (++round_ < rounds) next();
      return;
  }
}

static void next(void) {
  snprintf(path, sizeof path, "%s/exe-%d", dir, round_);
  CHECK_EQ(uv_fs_open(&loop, &req, path, O_CREAT | O_WRONLY | O_TRUNC, 0755, on_fs), 0);
}

static void on_timer(uv_timer_t* t) {
  (void)t;
  next();
}

int main(int argc, char** argv) {
  CHECK(argc == 3);
  rounds = atoi(argv[2]);
  snprintf(dir, sizeof dir, "%s", argv[1]);
  buf = uv_buf_init((char*)script, sizeof script - 1);
  CHECK_EQ(uv_loop_init(&loop), 0);
  CHECK_EQ(uv_timer_init(&loop, &timer), 0);
  CHECK_EQ(uv_timer_start(&timer, on_timer, 0, 0), 0);
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  uv_close((uv_handle_t*)&timer, NULL);
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ(uv_loop_close(&loop), 0);
  printf("rounds=%d etxtbsy=%d other_errors=%d\n", round_, etxtbsy, other);
  return etxtbsy || other ? 1 : 0;
}
