/* CVE-2024-22017: a root process uses its ring (async uv_fs_stat, open, read, close of a
 * root-only file), then drops to nobody (setgroups, setgid, setuid 65534). An async uv_fs_open
 * of the root-only 0600 file must then fail with UV_EACCES, and a world-readable file in the same
 * 0755 folder must still open and read correctly (the loop keeps working). Must run as root.
 * With the argument "sqpoll", the loop is configured with UV_LOOP_USE_IO_URING_SQPOLL first (run
 * with UV_USE_IO_URING=1): the SQPOLL thread submits with the credentials of the ring's creator,
 * which is the case of the CVE. */
#include "common.h"

#include <grp.h>

static uv_loop_t loop;
static char secret[256], public_[256];
static int step, done;
static uv_fs_t req;
static uv_file fd;
static char buf[64];
static int rings_at_drop, sqp_at_drop;

static void cb(uv_fs_t* r);

static void next(void) {
  uv_buf_t b = uv_buf_init(buf, sizeof buf);
  int rc = 0;
  switch (step++) {
    /* As root, through the ring. */
    case 0: rc = uv_fs_stat(&loop, &req, secret, cb); break;
    case 1: rc = uv_fs_open(&loop, &req, secret, O_RDONLY, 0, cb); break;
    case 2: rc = uv_fs_read(&loop, &req, fd, &b, 1, 0, cb); break;
    case 3: rc = uv_fs_close(&loop, &req, fd, cb); break;
    /* Drop privileges: groups first, then gid, then uid. */
    case 4:
      rings_at_drop = ring_fds();
      sqp_at_drop = threads_named("iou-sqp-");
      CHECK(setgroups(0, NULL) == 0);
      CHECK(setgid(65534) == 0);
      CHECK(setuid(65534) == 0);
      CHECK(geteuid() == 65534 && getegid() == 65534);
      rc = uv_fs_open(&loop, &req, secret, O_RDONLY, 0, cb);
      break;
    case 5: rc = uv_fs_stat(&loop, &req, secret, cb); break; /* stat needs no read access */
    case 6: rc = uv_fs_open(&loop, &req, public_, O_RDONLY, 0, cb); break;
    case 7: rc = uv_fs_read(&loop, &req, fd, &b, 1, 0, cb); break;
    case 8: rc = uv_fs_close(&loop, &req, fd, cb); break;
    case 9: rc = uv_fs_open(&loop, &req, secret, O_RDONLY, 0, cb); break; /* still denied */
    default: done = 1; return;
  }
  CHECK_EQ(rc, 0);
}

static void cb(uv_fs_t* r) {
  int s = step - 1;
  switch (s) {
    case 0:
    case 5:
      CHECK_EQ(r->result, 0);
      CHECK_EQ(r->statbuf.st_mode & 07777, 0600);
      CHECK_EQ(r->statbuf.st_uid, 0);
      break;
    case 1:
    case 6:
      CHECK(r->result >= 0);
      fd = (uv_file)r->result;
      break;
    case 2:
      CHECK_EQ(r->result, 7);
      CHECK(memcmp(buf, "secret\n", 7) == 0);
      break;
    case 7:
      CHECK_EQ(r->result, 7);
      CHECK(memcmp(buf, "public\n", 7) == 0);
      break;
    case 3:
    case 8: CHECK_EQ(r->result, 0); break;
    case 4:
    case 9:
      if (r->result != UV_EACCES) {
        fprintf(stderr, "async open of the root-only file after setuid(65534): result %ld (%s), "
                "expected UV_EACCES\n", (long)r->result,
                r->result < 0 ? uv_err_name((int)r->result) : "opened!");
        exit(1);
      }
      break;
  }
  uv_fs_req_cleanup(r);
  next();
}

static void write_file(const char* path, const char* text, mode_t mode) {
  int f = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
  CHECK(f >= 0);
  CHECK(write(f, text, strlen(text)) == (ssize_t)strlen(text));
  CHECK(fchmod(f, mode) == 0);
  close(f);
}

int main(int argc, char** argv) {
  char* dir;
  int rings_after;
  if (geteuid() != 0) {
    printf("SKIP (not root)\n");
    return 77;
  }
  dir = make_tmpdir();
  snprintf(secret, sizeof secret, "%s/secret", dir);
  snprintf(public_, sizeof public_, "%s/public", dir);
  write_file(secret, "secret\n", 0600);
  write_file(public_, "public\n", 0644);

  CHECK_EQ(uv_loop_init(&loop), 0);
  if (argc > 1 && strcmp(argv[1], "sqpoll") == 0) {
    CHECK_EQ(uv_loop_configure(&loop, UV_LOOP_USE_IO_URING_SQPOLL), 0);
  }
  next();
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK(done);
  rings_after = ring_fds();
  CHECK_EQ(uv_loop_close(&loop), 0);
  printf("ring_fds_at_setuid=%d sqpoll_threads_at_setuid=%d ring_fds_at_end=%d "
         "open_after_setuid=EACCES public_file=ok\n", rings_at_drop, sqp_at_drop, rings_after);
  /* We are nobody now: the caller removes the folder. */
  return 0;
}
