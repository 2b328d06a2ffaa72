/* compat/kernels: the io_uring operations a kernel lacks fall back, and still give the right answer.
 * Usage: t_fallback DIR   (DIR: an empty, writable folder; run with UV_USE_IO_URING=1)
 * From inside a loop turn (where uvring sends file operations to the ring), one after another:
 * uv_fs_mkdir, uv_fs_symlink, uv_fs_link of a file, then uv_fs_stat / uv_fs_lstat of the file,
 * the hard link, the symlink and a missing name. Each result is checked against what the kernel
 * says through plain system calls (mkdir made a folder, the link shares the inode, the symlink
 * points where it should, stat's size/mode/inode/nlink equal lstat(2)'s, ENOENT for the missing).
 * Prints one "ok <op>" line per operation and "fallback: all N operations right"; exits 1 on any
 * mismatch. Which path each took (ring, pool, the loop thread's cached stat) is shown by the
 * caller with strace: this program only checks that the answers are right. */
#include "common.h"

static uv_loop_t loop;
static uv_fs_t req;
static uv_timer_t timer;
static char dir[512], file[600], sub[600], hard[600], soft[600], missing[600];
static int step, done_ops;

static void next(void);

static void check_stat(const char* path, const uv_stat_t* s, int follow) {
  struct stat st;
  CHECK((follow ? stat(path, &st) : lstat(path, &st)) == 0);
  CHECK_EQ(s->st_size, st.st_size);
  CHECK_EQ(s->st_mode, st.st_mode);
  CHECK_EQ(s->st_ino, st.st_ino);
  CHECK_EQ(s->st_nlink, st.st_nlink);
  CHECK_EQ(s->st_dev, st.st_dev);
}

static void on_fs(uv_fs_t* r) {
  struct stat st, st2;
  char target[600];
  ssize_t n;
  switch (step) {
    case 0:
      CHECK_EQ(r->result, 0);
      CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));
      CHECK_EQ(st.st_mode & 07777, 0750);
      printf("ok mkdir\n");
      break;
    case 1:
      CHECK_EQ(r->result, 0);
      n = readlink(soft, target, sizeof target - 1);
      CHECK(n > 0);
      target[n] = '\0';
      CHECK(strcmp(target, file) == 0);
      printf("ok symlink\n");
      break;
    case 2:
      CHECK_EQ(r->result, 0);
      CHECK(stat(file, &st) == 0 && stat(hard, &st2) == 0);
      CHECK_EQ(st.st_ino, st2.st_ino);
      CHECK_EQ(st.st_nlink, 2);
      printf("ok link\n");
      break;
    case 3:
      CHECK_EQ(r->result, 0);
      check_stat(file, &r->statbuf, 1);
      CHECK_EQ(r->statbuf.st_size, 12345);
      printf("ok stat file (size %lld, nlink %lld)\n", (long long)r->statbuf.st_size,
             (long long)r->statbuf.st_nlink);
      break;
    case 4:
      CHECK_EQ(r->result, 0);
      check_stat(hard, &r->statbuf, 1);
      printf("ok stat hard link\n");
      break;
    case 5:
      CHECK_EQ(r->result, 0);
      check_stat(soft, &r->statbuf, 1);
      CHECK(S_ISREG(r->statbuf.st_mode));
      printf("ok stat through symlink\n");
      break;
    case 6:
      CHECK_EQ(r->result, 0);
      check_stat(soft, &r->statbuf, 0);
      CHECK(S_ISLNK(r->statbuf.st_mode));
      printf("ok lstat symlink\n");
      break;
    case 7:
      CHECK_EQ(r->result, UV_ENOENT);
      printf("ok stat missing: ENOENT\n");
      break;
    case 8:
      CHECK_EQ(r->result, 0);
      check_stat(sub, &r->statbuf, 1);
      CHECK(S_ISDIR(r->statbuf.st_mode));
      printf("ok stat folder\n");
      break;
  }
  uv_fs_req_cleanup(r);
  done_ops++;
  step++;
  next();
}

static void next(void) {
  switch (step) {
    case 0: CHECK_EQ(uv_fs_mkdir(&loop, &req, sub, 0750, on_fs), 0); break;
    case 1: CHECK_EQ(uv_fs_symlink(&loop, &req, file, soft, 0, on_fs), 0); break;
    case 2: CHECK_EQ(uv_fs_link(&loop, &req, file, hard, on_fs), 0); break;
    case 3: CHECK_EQ(uv_fs_stat(&loop, &req, file, on_fs), 0); break;
    case 4: CHECK_EQ(uv_fs_stat(&loop, &req, hard, on_fs), 0); break;
    case 5: CHECK_EQ(uv_fs_stat(&loop, &req, soft, on_fs), 0); break;
    case 6: CHECK_EQ(uv_fs_lstat(&loop, &req, soft, on_fs), 0); break;
    case 7: CHECK_EQ(uv_fs_stat(&loop, &req, missing, on_fs), 0); break;
    case 8: CHECK_EQ(uv_fs_stat(&loop, &req, sub, on_fs), 0); break;
    default: break;
  }
}

static void on_timer(uv_timer_t* t) {
  (void)t;
  next(); /* inside a loop turn: the requests may go to the ring */
}

int main(int argc, char** argv) {
  int fd;
  char buf[12345];
  CHECK(argc == 2);
  snprintf(dir, sizeof dir, "%s", argv[1]);
  snprintf(file, sizeof file, "%s/file", dir);
  snprintf(sub, sizeof sub, "%s/sub", dir);
  snprintf(hard, sizeof hard, "%s/hard", dir);
  snprintf(soft, sizeof soft, "%s/soft", dir);
  snprintf(missing, sizeof missing, "%s/missing", dir);
  memset(buf, 'x', sizeof buf);
  fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  CHECK(fd >= 0);
  CHECK_EQ(write(fd, buf, sizeof buf), (long long)sizeof buf);
  CHECK(close(fd) == 0);
  CHECK_EQ(uv_loop_init(&loop), 0);
  CHECK_EQ(uv_timer_init(&loop, &timer), 0);
  CHECK_EQ(uv_timer_start(&timer, on_timer, 0, 0), 0);
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ(step, 9);
  uv_close((uv_handle_t*)&timer, NULL);
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ(uv_loop_close(&loop), 0);
  printf("fallback: all %d operations right\n", done_ops);
  return 0;
}
