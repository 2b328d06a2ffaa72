/* Control for test 6 (no libuv): shows whether the hazard exists on this kernel. A raw io_uring
 * ring (SQPOLL with the argument "sqpoll", else a plain one; "plain-async" forces every request
 * to an io-wq worker with IOSQE_ASYNC) is created as root and used once;
 * the process then drops to nobody and submits IORING_OP_OPENAT of the root-only file given as
 * argument on that same ring. Prints "raw_ring_open_after_setuid=<result>" (an fd >= 0 means
 * the ring opened it with root's credentials: the hazard uvring must defend against). */
#include "common.h"

#include <grp.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static int ring_fd;
static unsigned *sq_tail, *sq_mask, *sq_array, *sq_flags, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe* sqes;
static struct io_uring_cqe* cqes;
static int sqpoll, force_async;

static int run_openat(const char* path) {
  unsigned tail = *sq_tail, idx = tail & *sq_mask, head;
  struct io_uring_sqe* sqe = &sqes[idx];
  double t0 = now_s();
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_OPENAT;
  if (force_async) sqe->flags |= IOSQE_ASYNC;
  sqe->fd = AT_FDCWD;
  sqe->addr = (unsigned long)path;
  sqe->open_flags = O_RDONLY;
  sqe->user_data = 1;
  sq_array[idx] = idx;
  __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
  for (;;) {
    unsigned flags = IORING_ENTER_GETEVENTS;
    int to_submit = sqpoll ? 0 : 1;
    if (sqpoll && (__atomic_load_n(sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP))
      flags |= IORING_ENTER_SQ_WAKEUP;
    if (syscall(__NR_io_uring_enter, ring_fd, to_submit, 1, flags, NULL, 0) < 0 && errno != EINTR)
      CHECK(0);
    head = *cq_head;
    if (head != __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE)) {
      int res = cqes[head & *cq_mask].res;
      __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
      return res;
    }
    CHECK(now_s() - t0 < 5);
  }
}

int main(int argc, char** argv) {
  struct io_uring_params p;
  char *sq, *cq;
  int r1, r2;
  if (argc < 2) return 2;
  sqpoll = argc > 2 && strcmp(argv[2], "sqpoll") == 0;
  force_async = argc > 2 && strcmp(argv[2], "plain-async") == 0;
  memset(&p, 0, sizeof p);
  if (sqpoll) {
    p.flags = IORING_SETUP_SQPOLL;
    p.sq_thread_idle = 100;
  }
  ring_fd = (int)syscall(__NR_io_uring_setup, 8, &p);
  CHECK(ring_fd >= 0);
  sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
  cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
            PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
  sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
  CHECK(sq != MAP_FAILED && cq != MAP_FAILED && sqes != MAP_FAILED);
  sq_tail = (unsigned*)(sq + p.sq_off.tail);
  sq_mask = (unsigned*)(sq + p.sq_off.ring_mask);
  sq_array = (unsigned*)(sq + p.sq_off.array);
  sq_flags = (unsigned*)(sq + p.sq_off.flags);
  cq_head = (unsigned*)(cq + p.cq_off.head);
  cq_tail = (unsigned*)(cq + p.cq_off.tail);
  cq_mask = (unsigned*)(cq + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe*)(cq + p.cq_off.cqes);

  r1 = run_openat(argv[1]); /* as root: the ring has been used */
  CHECK(r1 >= 0);
  CHECK(setgroups(0, NULL) == 0);
  CHECK(setgid(65534) == 0);
  CHECK(setuid(65534) == 0);
  CHECK(open(argv[1], O_RDONLY) == -1 && errno == EACCES); /* a plain open is denied */
  r2 = run_openat(argv[1]);
  printf("raw_ring_open_after_setuid=%d\n", r2);
  return 0;
}
