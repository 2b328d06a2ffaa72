/* Many small uv_write requests queued on a TCP connection whose reader is
 * late (a slow consumer): the time the loop takes to hand all of them to the
 * kernel once the reader starts.
 *
 * usage: queuedwrites tcp|pipe N SIZE SNDBUF
 * tcp: a uv_tcp_t connected on loopback (SNDBUF: its SO_SNDBUF, 0 = the
 * kernel's autotuning); pipe: a uv_pipe_t on the write end of a pipe(2) of
 * the kernel's default size (SNDBUF unused).
 * prints: requests per second, from the last uv_write call to the last write
 * callback. The reader is a plain thread (no libuv), so only the writer's
 * side uses the library under test. Loopback only: run it in a private
 * network namespace (bench/stream/run.sh does). */
#include <uv.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long n_reqs;
static size_t req_size;
static int sndbuf;
static int listen_fd = -1;
static int pipe_rd = -1;
static atomic_int go;
static long callbacks;
static uint64_t queued_at;
static uint64_t finished_at;
static uv_write_t* reqs;
static char* payload;

#define CHECK(x)                                                             \
  do {                                                                       \
    if (!(x)) {                                                              \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #x);                \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

static void* reader(void* arg) {
  (void) arg;
  int fd = pipe_rd >= 0 ? pipe_rd : accept(listen_fd, NULL, NULL);
  CHECK(fd >= 0);
  while (!atomic_load(&go))
    usleep(1000);
  long long want = (long long) n_reqs * req_size;
  long long got = 0;
  static char buf[1 << 16];
  while (got < want) {
    ssize_t r = read(fd, buf, sizeof buf);
    CHECK(r > 0);
    got += r;
  }
  close(fd);
  return NULL;
}

static void write_cb(uv_write_t* req, int status) {
  CHECK(status == 0);
  if (++callbacks == n_reqs) {
    finished_at = uv_hrtime();
    uv_close((uv_handle_t*) req->handle, NULL);
  }
}

static void write_all(uv_stream_t* stream) {
  uv_buf_t buf = uv_buf_init(payload, (unsigned int) req_size);
  for (long i = 0; i < n_reqs; i++)
    CHECK(uv_write(&reqs[i], stream, &buf, 1, write_cb) == 0);
  queued_at = uv_hrtime();
  atomic_store(&go, 1);
}

static void connect_cb(uv_connect_t* req, int status) {
  CHECK(status == 0);
  write_all(req->handle);
}

int main(int argc, char** argv) {
  CHECK(argc == 5);
  int use_pipe = strcmp(argv[1], "pipe") == 0;
  CHECK(use_pipe || strcmp(argv[1], "tcp") == 0);
  n_reqs = atol(argv[2]);
  req_size = (size_t) atol(argv[3]);
  sndbuf = atoi(argv[4]);
  CHECK(n_reqs > 0 && req_size > 0);
  reqs = calloc((size_t) n_reqs, sizeof *reqs);
  payload = malloc(req_size);
  CHECK(reqs != NULL && payload != NULL);
  memset(payload, 'x', req_size);
  uv_loop_t* loop = uv_default_loop();
  pthread_t t;

  if (use_pipe) {
    int fds[2];
    uv_pipe_t p;
    CHECK(pipe(fds) == 0);
    pipe_rd = fds[0];
    CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
    CHECK(uv_pipe_init(loop, &p, 0) == 0);
    CHECK(uv_pipe_open(&p, fds[1]) == 0);
    write_all((uv_stream_t*) &p);
    CHECK(uv_run(loop, UV_RUN_DEFAULT) == 0);
  } else {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(listen_fd >= 0);
    CHECK(bind(listen_fd, (struct sockaddr*) &addr, sizeof addr) == 0);
    CHECK(listen(listen_fd, 1) == 0);
    socklen_t len = sizeof addr;
    CHECK(getsockname(listen_fd, (struct sockaddr*) &addr, &len) == 0);
    CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
    uv_tcp_t tcp;
    uv_connect_t creq;
    CHECK(uv_tcp_init(loop, &tcp) == 0);
    /* A socket's own buffer: set before connect so autotuning is off. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    if (sndbuf > 0)
      CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == 0);
    CHECK(uv_tcp_open(&tcp, fd) == 0);
    CHECK(uv_tcp_connect(&creq, &tcp, (struct sockaddr*) &addr, connect_cb) == 0);
    CHECK(uv_run(loop, UV_RUN_DEFAULT) == 0);
  }
  CHECK(callbacks == n_reqs);
  CHECK(pthread_join(t, NULL) == 0);
  printf("%.0f\n", n_reqs / ((finished_at - queued_at) / 1e9));
  return 0;
}
