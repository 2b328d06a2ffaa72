//! uv_loop_*: the loop, its phases (uv_run), its clock, its configuration,
//! metrics, and the wake-up path that threads use to reach it.
//!
//! What libuv keeps in private fields of uv_loop_t that are not part of the
//! ABI others read lives in `LoopInner`, boxed behind `internal_fields`.

use crate::abi::*;
use crate::backend::{Backend, Event};
use crate::{handle, loop_watcher, queue, timer, watcher};
use libc::{c_int, c_void, size_t};
use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const UV_RUN_DEFAULT: c_int = 0;
pub const UV_RUN_ONCE: c_int = 1;
pub const UV_RUN_NOWAIT: c_int = 2;

pub const UV_LOOP_BLOCK_SIGNAL: c_int = 0;
pub const UV_METRICS_IDLE_TIME: c_int = 1;
pub const UV_LOOP_USE_IO_URING_SQPOLL: c_int = 2;

/// The part of a loop that other threads touch.
pub struct LoopShared {
    done: Mutex<Vec<(usize, c_int)>>,
    wake_fd: AtomicI32,
    /// A wake-up is written and not yet consumed: further ones are free.
    wake_pending: AtomicBool,
    /// Threads between loading `wake_fd` and writing to it: the descriptor
    /// a rebuild replaces is closed only once none is left.
    wakers: AtomicU32,
}

impl LoopShared {
    fn wake(&self) {
        if self.wake_pending.swap(true, Ordering::SeqCst) {
            return;
        }
        let one: u64 = 1;
        self.wakers.fetch_add(1, Ordering::SeqCst);
        let fd = self.wake_fd.load(Ordering::SeqCst);
        // EAGAIN means the counter is saturated: the loop wakes anyway.
        // SAFETY: `one` is 8 readable bytes; `fd` stays open while `wakers`
        // counts us (rebuild_backend waits, LoopShared's Drop needs `&mut`).
        crate::sys::retry_eintr(|| unsafe {
            libc::write(fd, &one as *const u64 as *const c_void, 8)
        });
        self.wakers.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
pub struct Metrics {
    pub loop_count: u64,
    pub events: u64,
    pub events_waiting: u64,
    pub idle_time: AtomicU64,
    pub entry_time: AtomicU64,
}

pub struct LoopInner {
    /// First field, read by worker threads without touching the rest.
    shared: *const LoopShared,
    pub backend: Backend,
    /// File requests this loop's ring is running (their buffers and state).
    pub fs_ring: crate::fs::uring::InFlight,
    /// Active timers by (due time, start order).
    pub timers: BTreeMap<(u64, u64), *mut uv_timer_t>,
    pub metrics: Metrics,
    pub idle_time_enabled: bool,
    pub block_sigprof: bool,
    pub sqpoll_requested: bool,
    /// Timeout of the wait in progress, for the events_waiting metric.
    pub current_timeout: c_int,
    /// Descriptor watchers by fd (libuv keeps this in `loop->watchers`).
    pub watchers: Vec<*mut uv__io_t>,
    /// The events being dispatched, so that closing a descriptor mid-batch
    /// can void its entries (see watcher::invalidate_fd).
    pub batch: *mut [Event],
    /// Spare event buffer, reused across turns.
    events: Vec<Event>,
    /// How many uv_run calls are on the stack for this loop.
    pub running: u32,
    /// The async handle called back last (null once it closes): the one
    /// whose sender is likeliest to be mid-send when the loop would sleep.
    pub last_async: *mut uv_async_t,
    /// An async callback ran since the last look for events.
    pub async_called: bool,
}

impl Drop for LoopShared {
    fn drop(&mut self) {
        // SAFETY: the last owner is going: no thread can write to the
        // eventfd any more, and nothing else closes this number.
        unsafe { libc::close(*self.wake_fd.get_mut()) };
    }
}

impl Drop for LoopInner {
    fn drop(&mut self) {
        // A worker finishing post_done may hold the shared part a moment longer.
        // SAFETY: `shared` is the count uv_loop_init gave up with into_raw;
        // this is the one place that takes it back.
        drop(unsafe { Arc::from_raw(self.shared) });
    }
}

/// The backend decision of an initialised loop, with its reason.
///
/// # Safety
/// `loop_` must be a live, initialised loop (not closed).
pub unsafe fn backend_choice(loop_: *mut uv_loop_t) -> crate::backend::policy::Choice {
    // SAFETY: an initialised loop's `internal_fields` is its live LoopInner
    // (the contract); the choice is cloned out.
    unsafe { (*inner(loop_)).backend.choice().clone() }
}

/// The loop's private state. The pointer is valid from uv_loop_init to
/// uv_loop_close; dereference it only on the loop's thread, and re-read it
/// after any user callback rather than hold a reference across one.
///
/// # Safety
/// `loop_` must point at a readable uv_loop_t.
pub unsafe fn inner(loop_: *mut uv_loop_t) -> *mut LoopInner {
    // SAFETY: `loop_` is readable (the contract).
    unsafe { (*loop_).internal_fields as *mut LoopInner }
}

/// # Safety
/// `loop_` must be a live, initialised loop, not closed before this returns.
/// Any thread may call it: it reads only `internal_fields` and the first
/// field of LoopInner, which no one writes while the loop is open.
unsafe fn shared_of(loop_: *mut uv_loop_t) -> *const LoopShared {
    // SAFETY: the loop is open (the contract), so `internal_fields` is its
    // LoopInner; only the `shared` field is read, without a reference to the
    // rest, which the loop thread may be writing.
    unsafe {
        let inner = (*loop_).internal_fields as *const LoopInner;
        std::ptr::addr_of!((*inner).shared).read()
    }
}

/// Wakes the loop's wait from any thread.
///
/// # Safety
/// `loop_` must be a live, initialised loop that stays open until this
/// returns (uv_async_send: the handle's open, and close waits for senders).
pub unsafe fn wake(loop_: *mut uv_loop_t) {
    // SAFETY: the loop stays open until we return (the contract), so does
    // the LoopShared its LoopInner owns a count of.
    unsafe { (*shared_of(loop_)).wake() };
}

/// Called by a worker (or uv_cancel): `w` is finished with `status`; its
/// done callback runs on the loop thread.
///
/// # Safety
/// `w` must be a live uv__work of a request counted on its open loop
/// (req::register), whose done callback has not run; any thread.
pub unsafe fn post_done(w: *mut uv__work, status: c_int) {
    // SAFETY: `w` is live and its request keeps the loop open until `w` is
    // pushed below (the contract), so the loop's LoopInner still holds its
    // count of LoopShared while we take ours.
    let shared = unsafe {
        let shared = shared_of((*w).loop_);
        // Once pushed, `w` is the loop's: it may run the done callback, and the
        // user may close and free the loop, before wake() below is done. Our own
        // count keeps the shared part and its eventfd alive until then.
        Arc::increment_strong_count(shared);
        Arc::from_raw(shared)
    };
    shared
        .done
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((w as usize, status));
    shared.wake();
}

fn new_eventfd() -> Result<c_int, c_int> {
    // SAFETY: eventfd takes no pointers; the new descriptor is ours.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(-crate::sys::errno());
    }
    Ok(fd)
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_init(loop_: *mut uv_loop_t) -> c_int {
    if loop_.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `loop_` is memory for a uv_loop_t that the caller owns and
    // does not use as a live loop (uv.h: uv_loop_init); `data` is the one
    // field it may have set before.
    unsafe {
        let data = (*loop_).data;
        std::ptr::write_bytes(loop_ as *mut u8, 0, std::mem::size_of::<uv_loop_t>());
        (*loop_).data = data;
        for q in [
            &mut (*loop_).handle_queue,
            &mut (*loop_).pending_queue,
            &mut (*loop_).watcher_queue,
            &mut (*loop_).wq,
            &mut (*loop_).process_handles,
            &mut (*loop_).prepare_handles,
            &mut (*loop_).check_handles,
            &mut (*loop_).idle_handles,
            &mut (*loop_).async_handles,
        ] {
            queue::init(q);
        }
        (*loop_).signal_pipefd = [-1, -1];
        (*loop_).emfile_fd = -1;
        (*loop_).async_wfd = -1;
        (*loop_).inotify_fd = -1;
        (*loop_).signal_io_watcher.fd = -1;
        (*loop_).inotify_read_watcher.fd = -1;
    }

    let wake_fd = match new_eventfd() {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    let backend = match Backend::new(wake_fd, false) {
        Ok(b) => b,
        Err(e) => {
            // SAFETY: `wake_fd` is ours and nothing else refers to it yet.
            unsafe { libc::close(wake_fd) };
            return e;
        }
    };
    // SAFETY: `loop_` is the caller's loop memory, being initialised.
    unsafe {
        (*loop_).backend_fd = backend.fd();
        (*loop_).async_io_watcher.fd = wake_fd;
    }
    let shared = Arc::new(LoopShared {
        done: Mutex::new(Vec::new()),
        wake_fd: AtomicI32::new(wake_fd),
        wake_pending: AtomicBool::new(false),
        wakers: AtomicU32::new(0),
    });
    let inner = Box::new(LoopInner {
        shared: Arc::into_raw(shared),
        backend,
        fs_ring: Default::default(),
        timers: BTreeMap::new(),
        metrics: Metrics::default(),
        idle_time_enabled: false,
        block_sigprof: false,
        sqpoll_requested: false,
        current_timeout: 0,
        watchers: Vec::new(),
        batch: std::ptr::slice_from_raw_parts_mut(std::ptr::null_mut(), 0),
        events: Vec::new(),
        running: 0,
        last_async: std::ptr::null_mut(),
        async_called: false,
    });
    // SAFETY: `loop_` is the caller's loop memory, now initialised; the
    // LoopInner belongs to it until uv_loop_close's Box::from_raw.
    unsafe {
        (*loop_).internal_fields = Box::into_raw(inner) as *mut c_void;
        uv_update_time(loop_);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_close(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: `loop_` is NULL or a loop the caller initialised and no longer
    // runs (uv.h: uv_loop_close). The handles still listed are live (they
    // leave the list when their close completes); the LoopInner came from
    // Box::into_raw in uv_loop_init and `internal_fields` is cleared as it is
    // dropped, so it is taken back once.
    unsafe {
        if loop_.is_null() || (*loop_).internal_fields.is_null() {
            return -libc::EINVAL;
        }
        if (*loop_).active_reqs > 0 {
            return -libc::EBUSY;
        }
        let head: *mut uv__queue = &mut (*loop_).handle_queue;
        let mut q = (*head).next;
        while q != head {
            let h = crate::container_of!(q, uv_handle_t, handle_queue);
            if (*h).flags & handle::INTERNAL == 0 {
                return -libc::EBUSY;
            }
            q = (*q).next;
        }
        crate::signal::loop_close(loop_);
        crate::fs_event::loop_close(loop_);
        if (*loop_).emfile_fd != -1 {
            // The reserve descriptor streams keep for EMFILE.
            libc::close((*loop_).emfile_fd);
            (*loop_).emfile_fd = -1;
        }
        drop(Box::from_raw(inner(loop_)));
        (*loop_).internal_fields = std::ptr::null_mut();
        (*loop_).backend_fd = -1;
        (*loop_).async_io_watcher.fd = -1;
    }
    let _ = DEFAULT_LOOP_PTR.compare_exchange(
        loop_,
        std::ptr::null_mut(),
        Ordering::AcqRel,
        Ordering::Acquire,
    );
    0
}

struct LoopStorage(std::cell::UnsafeCell<MaybeUninit<uv_loop_t>>);
// SAFETY: the storage is reached only through uv_default_loop (creation) and
// then as a loop; like every loop it is used from one thread at a time, and
// uv_default_loop, as libuv's, is not to be raced with itself.
unsafe impl Sync for LoopStorage {}

static DEFAULT_LOOP: LoopStorage = LoopStorage(std::cell::UnsafeCell::new(MaybeUninit::zeroed()));
static DEFAULT_LOOP_PTR: AtomicPtr<uv_loop_t> = AtomicPtr::new(std::ptr::null_mut());

#[no_mangle]
pub unsafe extern "C" fn uv_default_loop() -> *mut uv_loop_t {
    let p = DEFAULT_LOOP_PTR.load(Ordering::Acquire);
    if !p.is_null() {
        return p;
    }
    let storage: *mut uv_loop_t = DEFAULT_LOOP.0.get().cast();
    // SAFETY: `storage` is static memory for a uv_loop_t, not a live loop
    // (DEFAULT_LOOP_PTR is NULL: never initialised, or closed).
    if unsafe { uv_loop_init(storage) } != 0 {
        return std::ptr::null_mut();
    }
    DEFAULT_LOOP_PTR.store(storage, Ordering::Release);
    storage
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_new() -> *mut uv_loop_t {
    // SAFETY: malloc has no precondition.
    let l = unsafe { crate::alloc::malloc(std::mem::size_of::<uv_loop_t>()) } as *mut uv_loop_t;
    if l.is_null() {
        return l;
    }
    // SAFETY: `l` is a fresh block of uv_loop_t's size from alloc::malloc
    // (malloc's alignment suits it), freed with alloc::free if init fails.
    unsafe {
        (*l).data = std::ptr::null_mut();
        if uv_loop_init(l) != 0 {
            crate::alloc::free(l as *mut c_void);
            return std::ptr::null_mut();
        }
    }
    l
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_delete(loop_: *mut uv_loop_t) {
    let is_default = std::ptr::eq(loop_, DEFAULT_LOOP.0.get().cast());
    // SAFETY: `loop_` is the default loop or one from uv_loop_new (uv.h:
    // uv_loop_delete), so the latter came from alloc::malloc.
    unsafe {
        let _ = uv_loop_close(loop_);
        if !is_default {
            crate::alloc::free(loop_ as *mut c_void);
        }
    }
}

#[no_mangle]
pub extern "C" fn uv_loop_size() -> size_t {
    std::mem::size_of::<uv_loop_t>()
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_get_data(loop_: *const uv_loop_t) -> *mut c_void {
    // SAFETY: `loop_` is a loop of the caller's (uv.h).
    unsafe { (*loop_).data }
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_set_data(loop_: *mut uv_loop_t, data: *mut c_void) {
    // SAFETY: `loop_` is a loop of the caller's (uv.h).
    unsafe { (*loop_).data = data };
}

/// # Safety
/// `loop_` must be a live, initialised loop, read on its thread.
unsafe fn alive(loop_: *mut uv_loop_t) -> bool {
    // SAFETY: `loop_` and its lists are live (the contract); read only.
    unsafe {
        (*loop_).active_handles > 0
            || (*loop_).active_reqs > 0
            || !queue::is_empty(&(*loop_).pending_queue)
            || !(*loop_).closing_handles.is_null()
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_alive(loop_: *const uv_loop_t) -> c_int {
    // SAFETY: `loop_` is a live loop the caller initialised (uv.h); `alive`
    // only reads through the pointer.
    unsafe { alive(loop_ as *mut uv_loop_t) as c_int }
}

#[no_mangle]
pub unsafe extern "C" fn uv_stop(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is a live loop of the caller's, on its thread (uv.h).
    unsafe { (*loop_).stop_flag = 1 };
}

#[no_mangle]
pub unsafe extern "C" fn uv_now(loop_: *const uv_loop_t) -> u64 {
    // SAFETY: `loop_` is a live loop of the caller's (uv.h).
    unsafe { (*loop_).time }
}

#[no_mangle]
pub unsafe extern "C" fn uv_update_time(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is a live loop of the caller's, on its thread (uv.h).
    unsafe { (*loop_).time = crate::time::fast_ns() / 1_000_000 };
}

#[no_mangle]
pub unsafe extern "C" fn uv_backend_fd(loop_: *const uv_loop_t) -> c_int {
    // SAFETY: `loop_` is a live loop of the caller's (uv.h).
    unsafe { (*loop_).backend_fd }
}

/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn backend_timeout(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: `loop_`, its lists and its timer set are live (the contract).
    unsafe {
        if (*loop_).stop_flag == 0
            && ((*loop_).active_handles > 0 || (*loop_).active_reqs > 0)
            && queue::is_empty(&(*loop_).pending_queue)
            && queue::is_empty(&(*loop_).idle_handles)
            && (*loop_).closing_handles.is_null()
        {
            return timer::next_timeout(loop_);
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_backend_timeout(loop_: *const uv_loop_t) -> c_int {
    let loop_ = loop_ as *mut uv_loop_t;
    // SAFETY: `loop_` is a live loop the caller initialised, on its thread
    // (uv.h); nothing below writes through it.
    unsafe {
        if !queue::is_empty(&(*loop_).watcher_queue) {
            return 0;
        }
        backend_timeout(loop_)
    }
}

/// libuv declares this variadic; on x86_64 and aarch64 Linux a variadic
/// integer argument travels exactly like a fixed one, so the optional
/// argument is read as a third parameter (Rust cannot define C variadics).
#[no_mangle]
pub unsafe extern "C" fn uv_loop_configure(
    loop_: *mut uv_loop_t,
    option: c_int,
    arg: c_int,
) -> c_int {
    // SAFETY: `loop_` is a live loop the caller initialised, on its thread
    // (uv.h: uv_loop_configure), so its LoopInner is live.
    unsafe {
        let inner = inner(loop_);
        match option {
            UV_METRICS_IDLE_TIME => {
                (*inner).idle_time_enabled = true;
                0
            }
            UV_LOOP_BLOCK_SIGNAL => {
                if arg != libc::SIGPROF {
                    return -libc::EINVAL;
                }
                (*inner).block_sigprof = true;
                0
            }
            UV_LOOP_USE_IO_URING_SQPOLL => {
                (*inner).sqpoll_requested = true;
                // Only a forced io_uring loop gets a polling kernel thread.
                if (*inner).backend.sqpoll_grantable() {
                    return rebuild_backend(loop_, false);
                }
                0
            }
            _ => -libc::ENOSYS,
        }
    }
}

/// Replaces the loop's backend and wake-up descriptor with fresh ones and
/// registers every watcher again: after fork (the child must not share the
/// parent's epoll set or ring, `after_fork`) and when SQPOLL is requested or
/// the credentials changed.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread; with
/// `after_fork`, this must be the only thread of a freshly forked child.
unsafe fn rebuild_backend(loop_: *mut uv_loop_t, after_fork: bool) -> c_int {
    // SAFETY: `loop_` is live (the contract), so is its LoopInner.
    let inner = unsafe { inner(loop_) };
    let wake_fd = match new_eventfd() {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    // SAFETY: `inner` is live (above); the flag is copied out.
    let sqpoll = unsafe { (*inner).sqpoll_requested };
    let backend = match Backend::new(wake_fd, sqpoll) {
        Ok(b) => b,
        Err(e) => {
            // SAFETY: `wake_fd` is ours and nothing else refers to it yet.
            unsafe { libc::close(wake_fd) };
            return e;
        }
    };
    // SAFETY: the LoopInner holds a count of its LoopShared for as long as
    // the loop is open, which it is (the contract).
    let shared = unsafe { &*(*inner).shared };
    let old = shared.wake_fd.swap(wake_fd, Ordering::SeqCst);
    if after_fork {
        // Only this thread survived the fork: a count left by a thread that
        // was inside wake() when the parent forked will never come down.
        shared.wakers.store(0, Ordering::SeqCst);
    } else {
        // A thread that loaded `old` before the swap may still write to it:
        // closing it under that thread could hand its number to a new file
        // that then receives the write. Those writes take microseconds.
        let mut spins = 0u32;
        while shared.wakers.load(Ordering::SeqCst) != 0 {
            spins += 1;
            if spins % 1000 == 0 {
                // SAFETY: sched_yield takes nothing and cannot fail harmfully.
                unsafe { libc::sched_yield() };
            } else {
                std::hint::spin_loop();
            }
        }
    }
    // SAFETY: `old` was the loop's own eventfd; no thread can still write to
    // it: any wake() that loaded it had counted itself in `wakers` before
    // the swap, and the count is back to zero (or we are alone after fork).
    unsafe { libc::close(old) };
    // SAFETY: `loop_` and `inner` are live (the contract); the watcher table
    // holds only live watchers (a watcher leaves it when stopped or closed),
    // and nothing here runs a callback that could change it.
    unsafe {
        (*inner).backend = backend;
        (*loop_).backend_fd = (*inner).backend.fd();
        (*loop_).async_io_watcher.fd = wake_fd;
        let table: Vec<*mut uv__io_t> = (*inner).watchers.clone();
        for w in table {
            if !w.is_null() {
                (*w).events = 0;
                if queue::is_empty(&(*w).watcher_queue) {
                    queue::insert_tail(&mut (*loop_).watcher_queue, &mut (*w).watcher_queue);
                }
            }
        }
    }
    // A wake-up pending on the old descriptor went with it: write one to the
    // new descriptor only if something is really owed (an async send or
    // finished work), or the next uv_run(ONCE) would return for nothing.
    shared.wake_pending.store(false, Ordering::SeqCst);
    // SAFETY: `loop_` is live, on its thread (the contract).
    if unsafe { owes_wakeup(loop_) } {
        shared.wake();
    }
    0
}

/// Whether finished pool work or an async send is waiting for the loop.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn owes_wakeup(loop_: *mut uv_loop_t) -> bool {
    // SAFETY: `loop_` is open (the contract), so its LoopShared is live.
    let shared = unsafe { &*shared_of(loop_) };
    // try_lock: after fork the lock may be held by a thread that is gone.
    match shared.done.try_lock() {
        Ok(done) if done.is_empty() => {}
        _ => return true,
    }
    // SAFETY: the async list of the live loop holds the `queue` nodes of
    // live async handles (close unlinks them); nothing here changes it.
    // `pending` is only ever accessed atomically, as an AtomicI32 (c_int).
    unsafe {
        let head: *mut uv__queue = &mut (*loop_).async_handles;
        let mut q = (*head).next;
        while q != head {
            let h = crate::container_of!(q, uv_async_t, queue);
            // Senders on other threads set `pending` atomically (uv_async_send).
            if AtomicI32::from_ptr(std::ptr::addr_of_mut!((*h).pending)).load(Ordering::SeqCst) != 0
            {
                return true;
            }
            q = (*q).next;
        }
    }
    false
}

#[no_mangle]
pub unsafe extern "C" fn uv_loop_fork(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: `loop_` is NULL or a loop the caller initialised before the
    // fork, and this is the child's only thread (uv.h: uv_loop_fork, called
    // in the child right after fork).
    unsafe {
        if loop_.is_null() || (*loop_).internal_fields.is_null() {
            return -libc::EINVAL;
        }
        let err = rebuild_backend(loop_, true);
        if err != 0 {
            return err;
        }
        let err = crate::signal::loop_fork(loop_);
        if err != 0 {
            return err;
        }
        crate::fs_event::loop_fork(loop_)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_metrics_info(
    loop_: *mut uv_loop_t,
    metrics: *mut uv_metrics_t,
) -> c_int {
    if loop_.is_null() || metrics.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `loop_` is a live loop the caller initialised, on its thread,
    // and `metrics` writable (uv.h: uv_metrics_info). The loop thread is the
    // only writer of the plain counters, so the `&Metrics` is not raced
    // (other threads touch only its atomics).
    unsafe {
        let m = &(*inner(loop_)).metrics;
        std::ptr::write_bytes(metrics, 0, 1);
        (*metrics).loop_count = m.loop_count;
        (*metrics).events = m.events;
        (*metrics).events_waiting = m.events_waiting;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_metrics_idle_time(loop_: *mut uv_loop_t) -> u64 {
    // Callable from any thread: refer to the atomic fields only, never to
    // the whole Metrics, whose plain counters the loop thread writes.
    // SAFETY: `loop_` is a live, initialised loop (uv.h); `internal_fields`
    // does not change while it is open, and only the atomics are referred to.
    let (idle, entry) = unsafe {
        let m = std::ptr::addr_of!((*inner(loop_)).metrics);
        (
            (*m).idle_time.load(Ordering::Acquire),
            (*m).entry_time.load(Ordering::Acquire),
        )
    };
    if entry > 0 {
        idle + crate::time::uv_hrtime().saturating_sub(entry)
    } else {
        idle
    }
}

/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn set_provider_entry_time(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` and its LoopInner are live (the contract).
    unsafe {
        let inner = inner(loop_);
        if (*inner).idle_time_enabled {
            (*inner)
                .metrics
                .entry_time
                .store(crate::time::uv_hrtime(), Ordering::Release);
        }
    }
}

/// Ends an idle period: time spent blocked in the backend counts as idle.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn update_idle_time(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` and its LoopInner are live (the contract); this thread
    // is the only writer of Metrics' plain counters, so the `&Metrics` is
    // not raced.
    let m = unsafe {
        let inner = inner(loop_);
        if !(*inner).idle_time_enabled {
            return;
        }
        &(*inner).metrics
    };
    let entry = m.entry_time.swap(0, Ordering::AcqRel);
    if entry == 0 {
        return;
    }
    let spent = crate::time::uv_hrtime().saturating_sub(entry);
    m.idle_time.fetch_add(spent, Ordering::AcqRel);
}

/// The pending phase: deferred watcher callbacks (write completions and
/// the like) queued by the stream code.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn run_pending(loop_: *mut uv_loop_t) {
    // SAFETY: the pending list of the live loop holds the `pending_queue`
    // nodes of live watchers (stopping or closing a watcher unlinks it, also
    // from drain's private list); `w` is not touched after its callback.
    unsafe {
        queue::drain(std::ptr::addr_of_mut!((*loop_).pending_queue), |q| {
            let w = crate::container_of!(q, uv__io_t, pending_queue);
            if let Some(cb) = (*w).cb {
                cb(loop_, w, libc::POLLOUT as u32);
            }
        });
    }
}

/// Runs the done callbacks of finished pool work; returns how many ran.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn run_work_done(loop_: *mut uv_loop_t) -> u64 {
    let done = {
        // SAFETY: the loop is open (the contract), so its LoopShared is
        // live; the reference ends here, before any callback runs.
        let shared = unsafe { &*shared_of(loop_) };
        std::mem::take(&mut *shared.done.lock().unwrap_or_else(|e| e.into_inner()))
    };
    let n = done.len() as u64;
    for (w, status) in done {
        let w = w as *mut uv__work;
        // SAFETY: `w` was posted by post_done, whose contract keeps it live
        // until its done callback, which runs here, once; `w` is not
        // touched after it.
        unsafe {
            if let Some(cb) = (*w).done {
                cb(w, status);
            }
        }
    }
    n
}

/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn drain_wake_fd(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is live (the contract).
    let fd = unsafe { (*loop_).async_io_watcher.fd };
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is 8 writable bytes; `fd` is the loop's own eventfd.
    crate::sys::retry_eintr(|| unsafe { libc::read(fd, buf.as_mut_ptr() as *mut c_void, 8) });
}

/// A thread has announced a wake-up (and is writing, or has written, the
/// eventfd), or is about to: a sender sets its handle's `pending` first.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn wake_announced(loop_: *mut uv_loop_t) -> bool {
    // SAFETY: `loop_` is live (the contract), so its LoopShared is too.
    unsafe {
        (*shared_of(loop_)).wake_pending.load(Ordering::Relaxed)
            || crate::async_::send_in_flight(loop_)
    }
}

/// How many pause instructions the loop spends looking for a follow-up
/// send before it sleeps, after an async callback: ~0.8 µs at the ~25 ns a
/// pause takes on this machine's EPYC (less on CPUs with a shorter one). A
/// busy sender sends again within that; sleeping instead and being woken by
/// its write costs several µs (tens on a 2-vCPU VM), and a sender that does
/// not follow costs the loop only this spin per callback.
const SEND_SPIN: u32 = 32;

/// Right after an async callback, waits a moment for the next send to be
/// announced (see SEND_SPIN); never on a single CPU, where the sender
/// cannot run while the loop spins.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn send_follows(loop_: *mut uv_loop_t) -> bool {
    static SPIN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let spin =
        *SPIN.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1));
    if !spin {
        return false;
    }
    for _ in 0..SEND_SPIN {
        std::hint::spin_loop();
        // SAFETY: the contract.
        if unsafe { wake_announced(loop_) } {
            return true;
        }
    }
    false
}

/// The wake-up eventfd fired, or `wake_announced` said it is about to:
/// finished work first, then async handles. `drain` reads the eventfd; a
/// write that lands after an undrained wake-up costs one spurious wake-up.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn on_wake(loop_: *mut uv_loop_t, drain: bool) {
    // Drain first, then clear: a sender that saw the flag set has already
    // queued its work (we take it below); one that comes after the clear
    // writes the eventfd again. Clearing first could eat a later write and
    // leave the flag set with nothing to wake the loop. (Clearing without a
    // drain leaves the eventfd's count for a later, harmless wake-up.)
    // SAFETY: `loop_` is live, on its thread (the contract), so its
    // LoopShared is live too.
    unsafe {
        if drain {
            drain_wake_fd(loop_);
        }
        (*shared_of(loop_))
            .wake_pending
            .store(false, Ordering::SeqCst);
    }
    // SAFETY: as the contract; callbacks run, nothing of the loop is held.
    let n = unsafe { run_work_done(loop_) };
    if n > 1 {
        // The wake-up itself is already counted as one event.
        // SAFETY: the LoopInner is re-read after the callbacks above; the
        // loop is still open (uv.h: not to be closed while it runs).
        unsafe {
            let inner = inner(loop_);
            (*inner).metrics.events += n - 1;
            if (*inner).current_timeout == 0 {
                (*inner).metrics.events_waiting += n - 1;
            }
        }
    }
    // SAFETY: `loop_` is live, on its thread (the contract).
    unsafe { crate::async_::dispatch(loop_) };
}

/// Hands queued interest changes to the backend (and replaces a ring made
/// stale by a change of credentials).
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn prepare_backend(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` and its LoopInner are live, on this thread (the
    // contract); no user callback runs here.
    unsafe {
        if (*inner(loop_)).backend.ring_needs_rebuild() {
            // The process changed identity: give it a ring (and io-wq workers)
            // of the new one. Watchers are re-armed by the rebuild.
            rebuild_backend(loop_, false);
        }
        watcher::flush(loop_);
    }
}

/// Waits for events for at most `timeout` ms and dispatches them.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
unsafe fn io_poll(loop_: *mut uv_loop_t, mut timeout: c_int) {
    // SAFETY: `loop_` and its LoopInner are live, on this thread (the
    // contract); the spare buffer is moved out, not borrowed.
    let (mut events, base, idle_time_enabled) = unsafe {
        prepare_backend(loop_);
        (
            std::mem::take(&mut (*inner(loop_)).events),
            (*loop_).time,
            (*inner(loop_)).idle_time_enabled,
        )
    };
    let mut real_timeout = timeout;
    let mut rounds = 48;
    let (mut reset_timeout, mut user_timeout) = (false, 0);
    if idle_time_enabled {
        // First look without blocking, to count events that were waiting.
        reset_timeout = true;
        user_timeout = timeout;
        timeout = 0;
    }
    loop {
        // A wake-up announced but not yet written would let the loop fall
        // asleep just before it lands, and be woken by it: look without
        // blocking, and take it below if it has not landed.
        // Right after an async callback, a busy sender is about to announce
        // its next send: wait for it a moment rather than sleep.
        // SAFETY: `loop_` is live, on this thread (the contract).
        let announced = unsafe {
            let called = std::mem::take(&mut (*inner(loop_)).async_called);
            timeout != 0 && (wake_announced(loop_) || (called && send_follows(loop_)))
        };
        // SAFETY: `loop_` and its LoopInner are live, on this thread (the
        // contract), re-read on every turn since callbacks ran; the wait
        // runs no callback.
        let now = unsafe {
            if timeout != 0 {
                set_provider_entry_time(loop_);
            }
            (*inner(loop_)).current_timeout = timeout;
            let block_sigprof = (*inner(loop_)).block_sigprof;
            events.clear();
            // An interrupted wait (EINTR) is a wait in which nothing happened.
            let wait_for = if announced { 0 } else { timeout };
            let _ = (*inner(loop_))
                .backend
                .wait(&mut events, wait_for, block_sigprof);
            uv_update_time(loop_);
            (*loop_).time
        };
        let got = events.len();
        if got == 0 && announced {
            // SAFETY: `loop_` is live, on its thread (the contract); the
            // LoopInner is re-read after the callbacks.
            unsafe {
                update_idle_time(loop_);
                on_wake(loop_, false);
                (*inner(loop_)).metrics.events += 1;
            }
            break;
        }
        if got == 0 {
            if reset_timeout {
                timeout = user_timeout;
                reset_timeout = false;
            }
            // Timed out, interrupted (EINTR: stopped or traced), the zero-timeout
            // first look, or the ring woke for its own quiet completions (a poll
            // removal, a stale poll, a timeout entry): as libuv, wait again for
            // what is left of the timeout, so UV_RUN_ONCE does not return early.
            if timeout == 0 {
                break;
            }
            if timeout > 0 {
                real_timeout -= (now - base) as c_int;
                if real_timeout <= 0 {
                    break;
                }
                timeout = real_timeout;
            }
            continue;
        }
        // SAFETY: `loop_` is live, on its thread (the contract); `events` is
        // this call's own buffer, which nested uv_run calls cannot reach.
        let nevents = unsafe { dispatch(loop_, &mut events) };
        // SAFETY: the LoopInner is re-read after the callbacks; the loop is
        // still open (uv.h: not to be closed while it runs).
        unsafe {
            let inner = inner(loop_);
            (*inner).metrics.events += nevents;
            if reset_timeout {
                timeout = user_timeout;
                reset_timeout = false;
                (*inner).metrics.events_waiting += nevents;
            }
        }
        if nevents != 0 {
            rounds -= 1;
            if got >= 1024 && rounds != 0 {
                timeout = 0;
                // SAFETY: `loop_` is live, on its thread (the contract).
                unsafe { prepare_backend(loop_) };
                continue;
            }
            break;
        }
        if timeout == 0 {
            break;
        }
        if timeout > 0 {
            // Callbacks may have updated the loop's time: read it again.
            // SAFETY: `loop_` is live, on its thread (the contract).
            real_timeout -= (unsafe { (*loop_).time } - base) as c_int;
            if real_timeout <= 0 {
                break;
            }
            timeout = real_timeout;
        }
        // SAFETY: `loop_` is live, on its thread (the contract).
        unsafe { prepare_backend(loop_) };
    }
    events.clear();
    // SAFETY: the LoopInner is re-read after the callbacks (see above).
    unsafe { (*inner(loop_)).events = events };
}

/// Hands a batch of kernel events to their watchers; returns how many were
/// delivered. Callbacks may close any descriptor, so entries are re-read
/// each time, and the signal watcher runs last as in libuv.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread; `batch`
/// must not be reachable but through this call (watcher::invalidate_fd
/// writes to it through the pointer stored in `LoopInner::batch`).
unsafe fn dispatch(loop_: *mut uv_loop_t, batch: &mut [Event]) -> u64 {
    let batch: *mut [Event] = batch;
    let len = batch.len();
    let base = batch as *mut Event;
    // SAFETY: `loop_` and its LoopInner are live, on this thread (the
    // contract); `saved` is the batch of an enclosing dispatch, if any.
    let (saved, signal_fd) = unsafe {
        let li = inner(loop_);
        let saved = (*li).batch;
        (*li).batch = batch;
        (saved, (*loop_).signal_io_watcher.fd)
    };
    let mut have_signals = false;
    let mut nevents = 0u64;
    for i in 0..len {
        // Re-read each time: a callback may have voided later entries.
        // SAFETY: `i < len`, inside the batch, which outlives this loop and
        // is written meanwhile only through the pointer derived from it.
        let event = unsafe { base.add(i).read() };
        // SAFETY: `loop_` is live, on its thread (the contract); each call
        // may run user callbacks, and nothing of the loop is held across.
        unsafe {
            match event {
                Event::Void => {}
                Event::Wake => {
                    update_idle_time(loop_);
                    on_wake(loop_, true);
                    nevents += 1;
                }
                Event::Done { token, res } => {
                    update_idle_time(loop_);
                    crate::fs::uring::complete(loop_, token, res);
                    nevents += 1;
                }
                Event::Io { fd, .. } if fd == signal_fd && fd >= 0 => {
                    have_signals = true;
                    nevents += 1;
                }
                Event::Io { fd, events } => {
                    update_idle_time(loop_);
                    if watcher::dispatch(loop_, fd, events) {
                        nevents += 1;
                    }
                }
            }
        }
    }
    // SAFETY: as in the loop above; the LoopInner is re-read after the
    // callbacks, and the enclosing batch (if any) is put back.
    unsafe {
        if have_signals {
            update_idle_time(loop_);
            watcher::dispatch(loop_, signal_fd, watcher::POLLIN);
        }
        (*inner(loop_)).batch = saved;
    }
    nevents
}

#[no_mangle]
pub unsafe extern "C" fn uv_run(loop_: *mut uv_loop_t, mode: c_int) -> c_int {
    // SAFETY: `loop_` is NULL or a loop the caller initialised, run on its
    // thread and not closed while it runs (uv.h: uv_run, uv_loop_close).
    // Every phase may run callbacks that re-enter the loop (nested uv_run
    // included), so the loop and its LoopInner are re-read through `loop_`
    // after each phase, never held by reference across one.
    unsafe {
        if loop_.is_null() || (*loop_).internal_fields.is_null() {
            return -libc::EINVAL;
        }
        (*inner(loop_)).running += 1;
        let mut r = alive(loop_);
        if !r {
            uv_update_time(loop_);
        }
        // libuv runs due timers before the first turn in DEFAULT mode.
        if mode == UV_RUN_DEFAULT && r && (*loop_).stop_flag == 0 {
            uv_update_time(loop_);
            timer::run(loop_);
        }
        while r && (*loop_).stop_flag == 0 {
            let can_sleep =
                queue::is_empty(&(*loop_).pending_queue) && queue::is_empty(&(*loop_).idle_handles);
            run_pending(loop_);
            loop_watcher::run_idle(loop_);
            loop_watcher::run_prepare(loop_);
            let mut timeout = 0;
            if (mode == UV_RUN_ONCE && can_sleep) || mode == UV_RUN_DEFAULT {
                timeout = backend_timeout(loop_);
            }
            (*inner(loop_)).metrics.loop_count += 1;
            io_poll(loop_, timeout);
            for _ in 0..8 {
                if queue::is_empty(&(*loop_).pending_queue) {
                    break;
                }
                run_pending(loop_);
            }
            update_idle_time(loop_);
            loop_watcher::run_check(loop_);
            handle::run_closing(loop_);
            uv_update_time(loop_);
            timer::run(loop_);
            r = alive(loop_);
            if mode == UV_RUN_ONCE || mode == UV_RUN_NOWAIT {
                break;
            }
        }
        if (*loop_).stop_flag != 0 {
            (*loop_).stop_flag = 0;
        }
        (*inner(loop_)).running -= 1;
        // An embedder may now poll uv_backend_fd until the next uv_run: file
        // operations still in the ring must make it readable when they complete.
        (*inner(loop_)).backend.park();
        r as c_int
    }
}

#[no_mangle]
pub extern "C" fn uv_library_shutdown() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        crate::pool::shutdown();
        crate::os::process_title_cleanup();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Initialises the loop at `lp` and takes a count of its shared part,
    /// as post_done does; returns that count and the loop's eventfd.
    ///
    /// # Safety
    /// `lp` must be zeroed memory for a loop that outlives the test.
    unsafe fn init_with_worker_count(lp: *mut uv_loop_t) -> (Arc<LoopShared>, c_int) {
        // SAFETY: `lp` is memory for a loop (the contract); once initialised,
        // its LoopInner holds a count, so the shared part is live for ours.
        unsafe {
            assert_eq!(uv_loop_init(lp), 0);
            let shared = shared_of(lp);
            Arc::increment_strong_count(shared);
            (Arc::from_raw(shared), (*lp).async_io_watcher.fd)
        }
    }

    /// A worker still inside post_done holds its own count of the shared
    /// part: the loop may be closed meanwhile, and the worker's wake() must
    /// still find the shared part and its eventfd alive (it used to find them
    /// freed and closed).
    #[test]
    fn worker_count_keeps_wakeup_alive_past_loop_close() {
        let mut storage = MaybeUninit::<uv_loop_t>::zeroed();
        let lp = storage.as_mut_ptr();
        // SAFETY: `lp` is zeroed memory for a loop, alive for the whole test.
        let (worker, fd) = unsafe { init_with_worker_count(lp) };
        // SAFETY: `lp` is an initialised loop with no handle or request.
        assert_eq!(unsafe { uv_loop_close(lp) }, 0);
        // What post_done does last, after the loop may be gone.
        worker.wake();
        let mut count = 0u64;
        // SAFETY: `count` is 8 writable bytes; `fd` is the eventfd the
        // worker's count keeps open.
        let r = unsafe { libc::read(fd, &mut count as *mut u64 as *mut c_void, 8) };
        assert_eq!((r, count), (8, 1));
        drop(worker);
    }

    /// rebuild_backend must not close the old eventfd under a thread that
    /// has loaded it in wake() and not written yet (the number could go to
    /// a new file before that write).
    #[test]
    fn rebuild_waits_for_wakers_before_closing_old_eventfd() {
        let mut storage = MaybeUninit::<uv_loop_t>::zeroed();
        let lp = storage.as_mut_ptr();
        // SAFETY: `lp` is zeroed memory for a loop, alive for the whole test.
        let (shared, old_fd) = unsafe { init_with_worker_count(lp) };
        // A waker between loading the descriptor and writing to it.
        shared.wakers.fetch_add(1, Ordering::SeqCst);
        let waker = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                // SAFETY: F_GETFD only asks the kernel about the number.
                let open = unsafe { libc::fcntl(old_fd, libc::F_GETFD) } != -1;
                shared.wakers.fetch_sub(1, Ordering::SeqCst);
                open
            })
        };
        // SAFETY: `lp` is an initialised loop, used on this thread only.
        assert_eq!(unsafe { rebuild_backend(lp, false) }, 0);
        assert!(waker.join().unwrap(), "old eventfd closed under a waker");
        // SAFETY: as above; nothing is open on the loop.
        assert_eq!(unsafe { uv_loop_close(lp) }, 0);
        drop(shared);
    }

    unsafe extern "C" fn count_async(h: *mut uv_async_t) {
        // SAFETY: `data` is the test's counter, alive for the whole test.
        unsafe { *((*h).h.data as *mut u32) += 1 };
    }

    unsafe extern "C" fn mark_fired(t: *mut uv_timer_t) {
        // SAFETY: `data` is the test's flag, alive for the whole test.
        unsafe { *((*t).h.data as *mut bool) = true };
    }

    /// A send whose sender has set its flags but not yet written the eventfd
    /// is taken before the loop would sleep: UV_RUN_ONCE calls it back at
    /// once, not when the late write wakes it (here: never, so the guard
    /// timer would fire first). The late write then costs a wake-up that
    /// calls nothing back.
    #[test]
    fn announced_send_is_taken_without_sleeping() {
        let mut storage = MaybeUninit::<uv_loop_t>::zeroed();
        let lp = storage.as_mut_ptr();
        let mut hs = [MaybeUninit::<uv_async_t>::zeroed(), MaybeUninit::zeroed()];
        let (a, b) = (hs[0].as_mut_ptr(), hs[1].as_mut_ptr());
        let mut guard = MaybeUninit::<uv_timer_t>::zeroed();
        let guard = guard.as_mut_ptr();
        // Reached only through these pointers (the callbacks write them).
        let calls: *mut [u32; 2] = Box::into_raw(Box::new([0u32; 2]));
        let fired: *mut bool = Box::into_raw(Box::new(false));
        // SAFETY: the loop, handles, timer and the counters they point at
        // live for the whole test; everything runs on this thread but for
        // the flags a sender would set, set here by hand.
        unsafe {
            assert_eq!(uv_loop_init(lp), 0);
            use crate::async_::pending;
            let fd = (*lp).async_io_watcher.fd;
            for (i, h) in [a, b].into_iter().enumerate() {
                assert_eq!(crate::async_::uv_async_init(lp, h, Some(count_async)), 0);
                (*h).h.data = std::ptr::addr_of_mut!((*calls)[i]).cast();
            }
            assert_eq!(timer::uv_timer_init(lp, guard), 0);
            (*guard).h.data = fired.cast();
            handle::uv_unref(guard.cast());
            // A whole send makes `a` the handle last called back.
            assert_eq!(crate::async_::uv_async_send(a), 0);
            uv_run(lp, UV_RUN_ONCE);
            assert_eq!(*calls, [1, 0]);
            let once = |what: &str, want: [u32; 2]| {
                *fired = false;
                assert_eq!(timer::uv_timer_start(guard, Some(mark_fired), 2000, 0), 0);
                handle::uv_ref(guard.cast());
                let t0 = std::time::Instant::now();
                uv_run(lp, UV_RUN_ONCE);
                handle::uv_unref(guard.cast());
                assert!(!*fired, "{what}: slept {:?}, until the guard", t0.elapsed());
                assert_eq!(*calls, want, "{what}");
            };
            // `a`'s sender has set `pending` only.
            pending(a).store(1, Ordering::SeqCst);
            once("pending of the last handle", [2, 0]);
            // `b`'s sender has set `pending` and the loop's flag too.
            pending(b).store(1, Ordering::SeqCst);
            (*shared_of(lp)).wake_pending.store(true, Ordering::SeqCst);
            once("the loop's flag", [2, 1]);
            assert!(!(*shared_of(lp)).wake_pending.load(Ordering::SeqCst));
            // The two late writes land: one wake-up, no callback.
            for _ in 0..2 {
                let one = 1u64;
                assert_eq!(libc::write(fd, (&one as *const u64).cast(), 8), 8);
            }
            once("the late writes", [2, 1]);
            let mut left = 0u64;
            assert_eq!(libc::read(fd, (&mut left as *mut u64).cast(), 8), -1);
            // Closing the last handle called back forgets it.
            handle::uv_close(b.cast(), None);
            handle::uv_close(a.cast(), None);
            handle::uv_close(guard.cast(), None);
            uv_run(lp, UV_RUN_DEFAULT);
            assert!((*inner(lp)).last_async.is_null());
            assert_eq!(uv_loop_close(lp), 0);
            drop(Box::from_raw(calls));
            drop(Box::from_raw(fired));
        }
    }

    /// Data of the UV_RUN_ONCE test, reached through the handles' `data`.
    struct OnceTest {
        pipe_rd: c_int,
        read: uv_fs_t,
        byte: [u8; 1],
        read_res: Option<isize>,
        fired: bool,
    }

    unsafe extern "C" fn start_read(t: *mut uv_timer_t) {
        // SAFETY: `data` is the test's OnceTest, alive for the whole test.
        unsafe {
            let d = (*t).h.data as *mut OnceTest;
            let buf = crate::misc::uv_buf_init((*d).byte.as_mut_ptr().cast(), 1);
            let r = crate::fs::uv_fs_read(
                (*t).h.loop_,
                std::ptr::addr_of_mut!((*d).read),
                (*d).pipe_rd,
                &buf,
                1,
                -1,
                Some(read_done),
            );
            assert_eq!(r, 0);
        }
    }

    unsafe extern "C" fn read_done(req: *mut uv_fs_t) {
        // SAFETY: `data` is the test's OnceTest, alive for the whole test.
        unsafe {
            let d = (*req).r.data as *mut OnceTest;
            (*d).read_res = Some((*req).result);
        }
    }

    unsafe extern "C" fn fired(t: *mut uv_timer_t) {
        // SAFETY: `data` is the test's OnceTest, alive for the whole test.
        unsafe { (*((*t).h.data as *mut OnceTest)).fired = true };
    }

    /// UV_RUN_ONCE waits until something happens: a ring that wakes only for
    /// its own completions (here the removal of its poll of the epoll set,
    /// made when uv_run returned with a read in flight) must not end the
    /// wait before the timer is due (it used to, returning at once).
    #[test]
    fn run_once_waits_past_the_rings_own_completions() {
        let mut storage = MaybeUninit::<uv_loop_t>::zeroed();
        let lp = storage.as_mut_ptr();
        let mut fds = [0; 2];
        // SAFETY: `lp` is zeroed memory for a loop, alive for the whole test;
        // `fds` has room for two descriptors.
        unsafe {
            assert_eq!(uv_loop_init(lp), 0);
            assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        }
        // SAFETY: the loop is initialised; this is its thread.
        if unsafe { (*inner(lp)).backend.ring().is_none() } {
            eprintln!("skipped: this loop has no io_uring (UV_USE_IO_URING=0 or none here)");
            // SAFETY: nothing is open on the loop; the pipe is the test's.
            unsafe {
                assert_eq!(uv_loop_close(lp), 0);
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
            return;
        }
        let mut d = Box::new(OnceTest {
            pipe_rd: fds[0],
            // SAFETY: uv_fs_t is plain C data; zeroed is a valid value.
            read: unsafe { std::mem::zeroed() },
            byte: [0],
            read_res: None,
            fired: false,
        });
        let dp: *mut OnceTest = &mut *d;
        let mut starter = MaybeUninit::<uv_timer_t>::zeroed();
        let mut timer = MaybeUninit::<uv_timer_t>::zeroed();
        let (starter, timer) = (starter.as_mut_ptr(), timer.as_mut_ptr());
        // SAFETY: the loop and both timers live for the whole test, `dp` too;
        // the read is issued from a loop turn (a timer), so the ring takes it.
        unsafe {
            (*dp).read.r.data = dp.cast();
            assert_eq!(timer::uv_timer_init(lp, starter), 0);
            assert_eq!(timer::uv_timer_init(lp, timer), 0);
            (*starter).h.data = dp.cast();
            (*timer).h.data = dp.cast();
            assert_eq!(timer::uv_timer_start(starter, Some(start_read), 0, 0), 0);
            uv_run(lp, UV_RUN_NOWAIT);
            assert!(
                (*inner(lp))
                    .backend
                    .ring()
                    .is_some_and(|r| r.in_flight() == 1),
                "the read is not in the ring"
            );
            // The first wait arms the ring's poll of the epoll set; returning,
            // uv_run removes it, and the second wait finds that removal done.
            for round in 0..2 {
                (*dp).fired = false;
                assert_eq!(timer::uv_timer_start(timer, Some(fired), 100, 0), 0);
                let t0 = std::time::Instant::now();
                uv_run(lp, UV_RUN_ONCE);
                let took = t0.elapsed();
                assert!(
                    (*dp).fired,
                    "UV_RUN_ONCE {round} returned after {took:?}, before its timer"
                );
                assert!((*dp).read_res.is_none());
            }
            // End the read, then everything.
            assert_eq!(libc::write(fds[1], b"x".as_ptr().cast(), 1), 1);
            assert_eq!(uv_run(lp, UV_RUN_DEFAULT), 0);
            assert_eq!((*dp).read_res, Some(1));
            crate::fs::uv_fs_req_cleanup(std::ptr::addr_of_mut!((*dp).read));
            handle::uv_close(starter.cast(), None);
            handle::uv_close(timer.cast(), None);
            uv_run(lp, UV_RUN_DEFAULT);
            assert_eq!(uv_loop_close(lp), 0);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
