//! The worker threads behind uv_queue_work and every blocking request.
//!
//! One pool per process, as in libuv: started lazily on the first
//! submission, sized by UV_THREADPOOL_SIZE (default 4, at most 1024).
//! Slow I/O (getaddrinfo and the like) may occupy at most half the workers so
//! that it cannot starve fast work.

use crate::abi::uv__work;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WorkKind {
    Cpu,
    FastIo,
    SlowIo,
}

struct Item {
    w: *mut uv__work,
    kind: WorkKind,
}

// SAFETY: `w` is only a handle passed between threads; the request that
// holds it is kept alive by its owner until its done callback, and only one
// thread (the worker that took the item, or uv_cancel) touches it at a time.
unsafe impl Send for Item {}

struct Queue {
    items: VecDeque<Item>,
    slow_running: usize,
    /// Workers asleep on the condition variable: only they need a signal.
    idle: usize,
    /// Signals sent to idle workers that have not woken yet: a burst of
    /// submissions wakes as many workers as it needs, not one per item.
    signalled: usize,
    exit: bool,
}

impl Queue {
    /// Whether an idle worker is still unsignalled; if so it counts as
    /// signalled from now on and the caller must notify the condvar.
    fn claim_signal(&mut self) -> bool {
        let free = self.idle > self.signalled;
        if free {
            self.signalled += 1;
        }
        free
    }
}

pub struct Pool {
    queue: Mutex<Queue>,
    cond: Condvar,
    nthreads: usize,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// How many workers were started (read on every submission).
    running: std::sync::atomic::AtomicUsize,
    /// The pool retired before this one (see RETIRED).
    retired_next: AtomicPtr<Pool>,
}

static POOL: AtomicPtr<Pool> = AtomicPtr::new(std::ptr::null_mut());
/// Pools retired by uv_library_shutdown or a fork, chained through
/// `retired_next`: never freed (a late submitter may still hold one), but
/// kept reachable, so leak checkers see retired pools, not lost ones. A
/// lock-free push: the fork child may not take a lock.
static RETIRED: AtomicPtr<Pool> = AtomicPtr::new(std::ptr::null_mut());

fn retire(p: *mut Pool) {
    if p.is_null() {
        return;
    }
    let mut head = RETIRED.load(Ordering::Acquire);
    loop {
        // SAFETY: `p` is a pool that was published in POOL and is never freed.
        unsafe { (*p).retired_next.store(head, Ordering::Relaxed) };
        match RETIRED.compare_exchange_weak(head, p, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(h) => head = h,
        }
    }
}
static ATFORK: std::sync::Once = std::sync::Once::new();

extern "C" fn forget_pool_in_child() {
    // The parent's workers do not exist in the child; its queue lock may be
    // held by one of them. Leak the old pool and start afresh on demand.
    retire(POOL.swap(std::ptr::null_mut(), Ordering::SeqCst));
}

fn pool_size() -> usize {
    let n = std::env::var("UV_THREADPOOL_SIZE")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(4);
    n.clamp(1, 1024) as usize
}

fn get() -> &'static Pool {
    // SAFETY: registers a plain extern "C" fn with no arguments, once.
    ATFORK.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(forget_pool_in_child));
    });
    let p = POOL.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: a pool published in POOL is never freed (see RETIRED).
        return unsafe { &*p };
    }
    let fresh = Box::into_raw(Box::new(Pool {
        queue: Mutex::new(Queue {
            items: VecDeque::new(),
            slow_running: 0,
            idle: 0,
            signalled: 0,
            exit: false,
        }),
        cond: Condvar::new(),
        nthreads: pool_size(),
        threads: Mutex::new(Vec::new()),
        running: std::sync::atomic::AtomicUsize::new(0),
        retired_next: AtomicPtr::new(std::ptr::null_mut()),
    }));
    match POOL.compare_exchange(
        std::ptr::null_mut(),
        fresh,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => {
            // SAFETY: `fresh` is now published in POOL, hence never freed.
            let pool: &'static Pool = unsafe { &*fresh };
            pool.start();
            pool
        }
        Err(existing) => {
            // SAFETY: the exchange failed, so `fresh` was never published:
            // this thread still owns the Box it came from.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: `existing` was published in POOL, hence never freed.
            unsafe { &*existing }
        }
    }
}

impl Pool {
    /// Starts workers up to the pool's size; returns how many are running.
    /// A thread that cannot be created (RLIMIT_NPROC, a container's pids
    /// limit) is reported on stderr, once per process.
    fn start(&'static self) -> usize {
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        while threads.len() < self.nthreads {
            // libuv gives its workers 8 MiB stacks; deep user work relies on it.
            let t = std::thread::Builder::new()
                .name("libuv-worker".to_string())
                .stack_size(8 << 20)
                .spawn(move || self.worker());
            match t {
                Ok(t) => threads.push(t),
                Err(e) => {
                    static TOLD: std::sync::Once = std::sync::Once::new();
                    let running = threads.len();
                    TOLD.call_once(|| {
                        eprintln!(
                            "uvring: cannot start a thread-pool worker ({e}): {running} of {} \
                             running{}",
                            self.nthreads,
                            if running == 0 {
                                "; pool work runs on the thread that submits it until one starts"
                            } else {
                                ""
                            }
                        )
                    });
                    break;
                }
            }
        }
        self.running.store(threads.len(), Ordering::Release);
        threads.len()
    }

    /// No worker could be started so far: try again, at most once a second.
    fn has_workers(&'static self) -> bool {
        static LAST_TRY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if self.running.load(Ordering::Acquire) > 0 {
            return true;
        }
        let now = crate::time::uv_hrtime();
        let last = LAST_TRY.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 1_000_000_000 {
            return false;
        }
        LAST_TRY.store(now, Ordering::Relaxed);
        self.start() > 0
    }

    fn slow_limit(&self) -> usize {
        self.nthreads.div_ceil(2)
    }

    fn take(&self, q: &mut Queue) -> Option<Item> {
        let limit = self.slow_limit();
        let idx = q
            .items
            .iter()
            .position(|it| it.kind != WorkKind::SlowIo || q.slow_running < limit)?;
        let it = q.items.remove(idx)?;
        if it.kind == WorkKind::SlowIo {
            q.slow_running += 1;
        }
        Some(it)
    }

    fn worker(&self) {
        loop {
            let item = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if q.exit {
                        return;
                    }
                    if let Some(it) = self.take(&mut q) {
                        break it;
                    }
                    q.idle += 1;
                    q = self.cond.wait(q).unwrap_or_else(|e| e.into_inner());
                    q.idle -= 1;
                    q.signalled = q.signalled.saturating_sub(1);
                }
            };
            // SAFETY: the item was taken off the queue under the lock, so
            // uv_cancel can no longer reach it and this worker alone uses `w`
            // until post_done; its owner keeps it alive until done runs.
            unsafe {
                if let Some(work) = (*item.w).work {
                    work(item.w);
                }
                crate::loop_::post_done(item.w, 0);
            }
            if item.kind == WorkKind::SlowIo {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                q.slow_running -= 1;
                let wake = !q.items.is_empty() && q.claim_signal();
                drop(q);
                if wake {
                    self.cond.notify_one();
                }
            }
        }
    }
}

/// Queues `w` for a worker; its `done` runs later on the loop thread.
/// Without any worker (none could be started: see `Pool::start`), the work
/// runs now on this thread, and its done callback still comes from the loop:
/// slower, but nothing waits forever for a thread that never comes.
///
/// # Safety
/// `w` was set up by `work::submit` (loop, work and done filled in) and
/// stays alive and untouched by its owner until its done callback has run.
pub unsafe fn submit(w: *mut uv__work, kind: WorkKind) {
    let pool = get();
    if !pool.has_workers() {
        // SAFETY: the caller's contract; `w` is not queued, so nothing else
        // sees it before post_done.
        unsafe {
            if let Some(work) = (*w).work {
                work(w);
            }
            crate::loop_::post_done(w, 0);
        }
        return;
    }
    let mut q = pool.queue.lock().unwrap_or_else(|e| e.into_inner());
    q.items.push_back(Item { w, kind });
    // A busy worker finds the item when it looks again; no system call.
    let wake = q.claim_signal();
    drop(q);
    if wake {
        pool.cond.notify_one();
    }
}

/// Removes `w` from the queue if no worker has taken it yet. `w` is only
/// compared, never dereferenced, so any pointer is accepted.
pub fn cancel(w: *mut uv__work) -> bool {
    let p = POOL.load(Ordering::Acquire);
    if p.is_null() {
        return false;
    }
    // SAFETY: a pool published in POOL is never freed (see RETIRED).
    let mut q = unsafe { &*p }
        .queue
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    match q.items.iter().position(|it| std::ptr::eq(it.w, w)) {
        Some(i) => {
            q.items.remove(i);
            true
        }
        None => false,
    }
}

/// Stops and joins the workers (uv_library_shutdown).
pub fn shutdown() {
    let p = POOL.swap(std::ptr::null_mut(), Ordering::AcqRel);
    if p.is_null() {
        return;
    }
    // SAFETY: `p` was published in POOL; pools are never freed.
    let pool = unsafe { &*p };
    pool.queue.lock().unwrap_or_else(|e| e.into_inner()).exit = true;
    pool.cond.notify_all();
    let threads = std::mem::take(&mut *pool.threads.lock().unwrap_or_else(|e| e.into_inner()));
    for t in threads {
        let _ = t.join();
    }
    // Not freed on purpose: a late submitter may still hold the reference.
    retire(p);
}
