/* uvring: the work item embedded in requests that run on the thread pool.
 * Private; its layout is part of the ABI because requests embed it. */
#ifndef UV_THREADPOOL_H_
#define UV_THREADPOOL_H_

struct uv__work {
  void (*work)(struct uv__work *w);
  void (*done)(struct uv__work *w, int status);
  struct uv_loop_s* loop;
  struct uv__queue wq;
};

#endif /* UV_THREADPOOL_H_ */
