/* SIGSTOP/SIGCONT storm during async file I/O (EINTR from io_uring_enter must be retried and
 * nothing lost). A worker child runs a loop doing 4 KiB uv_fs_write/uv_fs_read on a 2 MiB temp
 * file with 64 requests in flight, in generations: write every block with generation g's
 * pattern, then read every block back and compare. The parent sends PAIRS (default 1000)
 * SIGSTOP/SIGCONT pairs, waiting (waitpid WUNTRACED/WCONTINUED) until the worker has really
 * stopped and continued each time. The worker keeps going until it has done at least OPS
 * (default 100000) operations AND the parent has finished its pairs, so every pair lands during
 * the I/O. Checked: every request's callback ran exactly once with a full 4 KiB result, every
 * byte read back is the byte written, the final file content is the last generation's, and the
 * worker finishes (no lost completion leaves uv_run waiting forever: 60 s bound).
 * The worker has a SIGCONT handler installed without SA_RESTART (as an editor handling job
 * control would), so each continue makes a blocked io_uring_enter/epoll_wait return EINTR
 * rather than being restarted by the kernel.
 * Usage: t_stopcont [OPS] [PAIRS] */
#include "common.h"

#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NBLK 512
#define BLK 4096
#define INFLIGHT 64

struct shared {
  volatile int started, sender_done;
  volatile long ops, callbacks, gens, bytes_verified;
  volatile double io_time;
  volatile long conts;
};

static struct shared* sh;
static volatile sig_atomic_t conts;

static void on_cont(int sig) {
  (void)sig;
  conts++;
}
static uv_loop_t loop;
static uv_file fd;
static long target_ops, submitted, completed;
static unsigned gen;
static int writing, next_blk, inflight, stopping;

struct slot {
  uv_fs_t req;
  unsigned blk, gen;
  int is_write, busy;
  uint64_t buf[BLK / 8];
};
static struct slot slots[INFLIGHT];

static void fill(uint64_t* w, unsigned blk, unsigned g) {
  uint64_t x = ((uint64_t)blk << 32 | g) * 0x9E3779B97F4A7C15ull;
  int j;
  for (j = 0; j < BLK / 8; j++) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    w[j] = x + j;
  }
}

static void cb(uv_fs_t* req);

static int submit(struct slot* s) {
  uv_buf_t b;
  if (next_blk >= NBLK) return 0;
  s->blk = next_blk++;
  s->gen = gen;
  s->is_write = writing;
  s->busy = 1;
  s->req.data = s;
  b = uv_buf_init((char*)s->buf, BLK);
  if (writing) {
    fill(s->buf, s->blk, s->gen);
    CHECK_EQ(uv_fs_write(&loop, &s->req, fd, &b, 1, (int64_t)s->blk * BLK, cb), 0);
  } else {
    memset(s->buf, 0, BLK);
    CHECK_EQ(uv_fs_read(&loop, &s->req, fd, &b, 1, (int64_t)s->blk * BLK, cb), 0);
  }
  submitted++;
  inflight++;
  return 1;
}

static void start_phase(void) {
  int i;
  next_blk = 0;
  for (i = 0; i < INFLIGHT; i++) submit(&slots[i]);
}

static void cb(uv_fs_t* req) {
  struct slot* s = req->data;
  static uint64_t expect[BLK / 8];
  CHECK(s->busy); /* a callback for a request that is not in flight: duplicate */
  s->busy = 0;
  if (req->result != BLK) {
    fprintf(stderr, "%s of block %u: result %ld\n", s->is_write ? "write" : "read", s->blk,
            (long)req->result);
    exit(1);
  }
  if (!s->is_write) {
    fill(expect, s->blk, s->gen);
    if (memcmp(expect, s->buf, BLK) != 0) {
      fprintf(stderr, "block %u of generation %u read back wrong\n", s->blk, s->gen);
      exit(1);
    }
    sh->bytes_verified += BLK;
  }
  uv_fs_req_cleanup(req);
  completed++;
  inflight--;
  sh->ops = completed;
  sh->callbacks = completed;
  if (submit(s) || inflight > 0) return;
  /* Phase over: every block of this generation written (or read back). */
  if (writing) {
    writing = 0;
  } else {
    sh->gens = gen + 1;
    if (completed >= target_ops && sh->sender_done) {
      stopping = 1;
      return;
    }
    gen++;
    writing = 1;
  }
  start_phase();
}

static int worker(const char* path) {
  double t0;
  int i;
  static uint64_t got[BLK / 8], expect[BLK / 8];
  struct sigaction sa;
  alarm(60);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_cont; /* no SA_RESTART */
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGCONT, &sa, NULL) == 0);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  CHECK_EQ(uv_loop_init(&loop), 0);
  writing = 1;
  sh->started = 1;
  t0 = now_s();
  start_phase();
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  sh->io_time = now_s() - t0;
  sh->conts = conts;
  CHECK(stopping);
  CHECK_EQ(inflight, 0);
  CHECK_EQ(completed, submitted);
  CHECK_EQ(uv_loop_close(&loop), 0);
  /* The file holds the last generation, every block. */
  for (i = 0; i < NBLK; i++) {
    CHECK(pread(fd, got, BLK, (off_t)i * BLK) == BLK);
    fill(expect, i, gen);
    CHECK(memcmp(got, expect, BLK) == 0);
  }
  close(fd);
  return 0;
}

int main(int argc, char** argv) {
  long pairs = argc > 2 ? atol(argv[2]) : 1000, i;
  char path[256], *dir;
  pid_t pid;
  int st;
  double t0, t1;
  target_ops = argc > 1 ? atol(argv[1]) : 100000;
  dir = make_tmpdir();
  snprintf(path, sizeof path, "%s/data", dir);
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(sh != MAP_FAILED);
  fflush(stdout);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(worker(path));

  while (!sh->started) usleep(100);
  t0 = now_s();
  for (i = 0; i < pairs; i++) {
    CHECK(kill(pid, SIGSTOP) == 0);
    CHECK(waitpid(pid, &st, WUNTRACED) == pid);
    if (!WIFSTOPPED(st)) break; /* exited: reported below */
    CHECK(kill(pid, SIGCONT) == 0);
    CHECK(waitpid(pid, &st, WCONTINUED) == pid);
    if (!WIFCONTINUED(st)) break;
    usleep(50 + (i * 37) % 400); /* let it run a varying while */
  }
  t1 = now_s();
  sh->sender_done = 1;
  if (i < pairs) {
    fprintf(stderr, "worker ended during the storm after %ld pairs (status 0x%x)\n", i, st);
    rm_rf(dir);
    return 1;
  }
  CHECK(waitpid(pid, &st, 0) == pid);
  rm_rf(dir);
  printf("pairs=%ld storm=%.2fs ops=%ld callbacks=%ld generations=%ld bytes_verified=%ld "
         "io_time=%.2fs sigcont_handled=%ld\n", pairs, t1 - t0, sh->ops, sh->callbacks, sh->gens,
         sh->bytes_verified, sh->io_time, sh->conts);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "worker failed: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit status",
            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    return 1;
  }
  if (sh->ops < target_ops) return 1;
  return 0;
}
