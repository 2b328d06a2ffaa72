//! Threads and synchronisation: uv_thread_*, uv_mutex_*, uv_rwlock_*,
//! uv_cond_*, uv_sem_*, uv_barrier_*, uv_once, uv_key_*.
//!
//! On Linux/glibc libuv's types are the pthread types themselves, so a C
//! program may mix them with pthread calls; every function here is a thin,
//! checked wrapper over the pthread call. Where libuv's function returns
//! `void`, a pthread failure means the object is corrupt or misused and
//! libuv aborts: so do we (abort, never unwind).

use crate::abi::*;
use crate::sys::{errno, retry_eintr};
use libc::{c_char, c_int, c_uint, c_void, size_t};

pub type uv_thread_t = libc::pthread_t;
pub type uv_mutex_t = libc::pthread_mutex_t;
pub type uv_rwlock_t = libc::pthread_rwlock_t;
pub type uv_cond_t = libc::pthread_cond_t;
pub type uv_sem_t = libc::sem_t;
pub type uv_barrier_t = libc::pthread_barrier_t;
pub type uv_once_t = libc::pthread_once_t;
pub type uv_key_t = libc::pthread_key_t;
pub type uv_thread_cb = unsafe extern "C" fn(arg: *mut c_void);

pub const UV_THREAD_NO_FLAGS: c_uint = 0;
pub const UV_THREAD_HAS_STACK_SIZE: c_uint = 1;

pub const UV_THREAD_PRIORITY_HIGHEST: c_int = 2;
pub const UV_THREAD_PRIORITY_ABOVE_NORMAL: c_int = 1;
pub const UV_THREAD_PRIORITY_NORMAL: c_int = 0;
pub const UV_THREAD_PRIORITY_BELOW_NORMAL: c_int = -1;
pub const UV_THREAD_PRIORITY_LOWEST: c_int = -2;

/// Linux thread names are at most 15 bytes plus the NUL.
pub const UV_PTHREAD_MAX_NAMELEN_NP: usize = 16;

const UV_EINVAL: c_int = -libc::EINVAL;
const UV_EBUSY: c_int = -libc::EBUSY;
const UV_EAGAIN: c_int = -libc::EAGAIN;
const UV_ETIMEDOUT: c_int = -libc::ETIMEDOUT;

/// A pthread call failed where libuv's contract has no way to report it.
#[cold]
fn fatal() -> ! {
    // SAFETY: abort never returns and runs no Rust code.
    unsafe { libc::abort() }
}

/// pthread functions return the error number itself (not -1 plus errno).
fn pthread_result(r: c_int) -> c_int {
    -r
}

fn set_errno(v: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot, writable.
    unsafe { *libc::__errno_location() = v }
}

// ---------------------------------------------------------------------------
// Stack sizes

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

/// The smallest stack we hand to pthread: 8 KiB (enough to take a signal on),
/// or the C library's minimum if that is larger.
fn min_stack_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let dynamic = unsafe { libc::sysconf(libc::_SC_THREAD_STACK_MIN) };
    let dynamic = if dynamic > 0 { dynamic as usize } else { 0 };
    8192.max(libc::PTHREAD_STACK_MIN).max(dynamic)
}

/// glibc's own default thread stack size.
fn default_stack_size() -> usize {
    if cfg!(any(target_arch = "powerpc", target_arch = "powerpc64")) {
        4 << 20
    } else {
        2 << 20
    }
}

/// The stack size new threads get when none is asked for: RLIMIT_STACK (as
/// the main thread gets), page-aligned, unless it is unlimited or too small.
pub fn thread_stack_size() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid out-parameter.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut lim) } != 0 {
        // Some aarch64 glibc versions fail here; not worth failing for.
        return default_stack_size();
    }
    if lim.rlim_cur == libc::RLIM_INFINITY {
        return default_stack_size();
    }
    let page = page_size() as u64;
    let cur = lim.rlim_cur - lim.rlim_cur % page;
    match usize::try_from(cur) {
        Ok(cur) if cur >= min_stack_size() => cur,
        _ => default_stack_size(),
    }
}

/// The stack size for an explicit request: rounded up to whole pages and
/// raised to the minimum; 0 means the default.
fn requested_stack_size(requested: usize) -> usize {
    if requested == 0 {
        return thread_stack_size();
    }
    let page = page_size();
    let rounded = requested
        .checked_add(page - 1)
        .map(|v| v & !(page - 1))
        // A request near usize::MAX cannot be met anyway; let pthread say so.
        .unwrap_or(usize::MAX & !(page - 1));
    rounded.max(min_stack_size())
}

// ---------------------------------------------------------------------------
// Threads

/// The entry point as pthread_create takes it.
type PthreadStart = extern "C" fn(*mut c_void) -> *mut c_void;

#[no_mangle]
pub unsafe extern "C" fn uv_thread_create(
    tid: *mut uv_thread_t,
    entry: Option<uv_thread_cb>,
    arg: *mut c_void,
) -> c_int {
    let params = uv_thread_options_t {
        flags: UV_THREAD_NO_FLAGS,
        stack_size: 0,
    };
    // SAFETY: `params` is a local; the rest is the caller's, as uv.h has it
    // for uv_thread_create.
    unsafe { uv_thread_create_ex(tid, &params, entry, arg) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_thread_create_ex(
    tid: *mut uv_thread_t,
    params: *const uv_thread_options_t,
    entry: Option<uv_thread_cb>,
    arg: *mut c_void,
) -> c_int {
    let Some(entry) = entry else {
        return UV_EINVAL;
    };
    if tid.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `params` is null or a readable
    // uv_thread_options_t.
    let requested = match unsafe { params.as_ref() } {
        Some(p) if p.flags & UV_THREAD_HAS_STACK_SIZE != 0 => p.stack_size,
        _ => 0,
    };
    let stack_size = requested_stack_size(requested);

    // The user's entry point goes to pthread_create as it is, as libuv passes
    // it: a trampoline would need its two words in a malloc'd block, and the
    // free() of it on the new thread made glibc build and tear down a malloc
    // cache for every thread (bench/libuv/instructions.sh thread_create: 2,885
    // instructions per thread in user space, now 1,658; libuv's 1,550).
    // SAFETY: both are pointers to C functions taking one pointer; they differ
    // only in the return, which the C ABIs of Linux return in a register: the
    // thread's result is then whatever that register holds, and uv_thread_join
    // never reads it. No Rust code calls through the transmuted pointer.
    let start = unsafe { std::mem::transmute::<uv_thread_cb, PthreadStart>(entry) };
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `attr` is local storage that pthread_attr_init initialises;
    // from there on it is used initialised, and destroyed once on each path.
    // `tid` is non-null and, by uv.h's contract, writable.
    unsafe {
        let r = libc::pthread_attr_init(attr.as_mut_ptr());
        if r != 0 {
            return pthread_result(r);
        }
        let r = libc::pthread_attr_setstacksize(attr.as_mut_ptr(), stack_size);
        if r != 0 {
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            return pthread_result(r);
        }
        let r = libc::pthread_create(tid, attr.as_ptr(), start, arg);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        pthread_result(r)
    }
}

#[no_mangle]
pub extern "C" fn uv_thread_self() -> uv_thread_t {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

#[no_mangle]
pub unsafe extern "C" fn uv_thread_equal(t1: *const uv_thread_t, t2: *const uv_thread_t) -> c_int {
    // SAFETY: uv.h's contract: non-null ids are readable uv_thread_t's;
    // pthread_equal only compares them.
    unsafe {
        match (t1.as_ref(), t2.as_ref()) {
            (Some(a), Some(b)) => libc::pthread_equal(*a, *b),
            _ => 0,
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_thread_join(tid: *mut uv_thread_t) -> c_int {
    // SAFETY: uv.h's contract: a non-null `tid` is a thread the caller
    // created and has neither joined nor detached; no result is stored.
    unsafe {
        match tid.as_ref() {
            Some(t) => pthread_result(libc::pthread_join(*t, std::ptr::null_mut())),
            None => UV_EINVAL,
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_thread_detach(tid: *mut uv_thread_t) -> c_int {
    // SAFETY: uv.h's contract: a non-null `tid` is a thread the caller
    // created and has neither joined nor detached.
    unsafe {
        match tid.as_ref() {
            Some(t) => pthread_result(libc::pthread_detach(*t)),
            None => UV_EINVAL,
        }
    }
}

/// Sets the calling thread's name; longer names are cut to 15 bytes.
#[no_mangle]
pub unsafe extern "C" fn uv_thread_setname(name: *const c_char) -> c_int {
    if name.is_null() {
        return UV_EINVAL;
    }
    let mut buf = [0 as c_char; UV_PTHREAD_MAX_NAMELEN_NP];
    // SAFETY: uv.h's contract: `name` is a NUL-terminated string; strnlen
    // reads at most 15 bytes of it, and `len` <= 15 bytes go into the 16 of
    // `buf`, whose last stays NUL.
    unsafe {
        let len = libc::strnlen(name, UV_PTHREAD_MAX_NAMELEN_NP - 1);
        std::ptr::copy_nonoverlapping(name, buf.as_mut_ptr(), len);
    }
    // SAFETY: `buf` is NUL-terminated and at most 16 bytes, Linux's limit.
    pthread_result(unsafe { libc::pthread_setname_np(libc::pthread_self(), buf.as_ptr()) })
}

/// Copies the thread's name into `name`, cut to `size - 1` bytes and always
/// NUL-terminated; the rest of the buffer is zero-filled.
#[no_mangle]
pub unsafe extern "C" fn uv_thread_getname(
    tid: *mut uv_thread_t,
    name: *mut c_char,
    size: size_t,
) -> c_int {
    if name.is_null() || size == 0 || tid.is_null() {
        return UV_EINVAL;
    }
    let mut buf = [0 as c_char; UV_PTHREAD_MAX_NAMELEN_NP];
    // SAFETY: uv.h's contract: `tid` (non-null) is a live thread's id;
    // `buf` is local, of the length passed.
    let r = unsafe { libc::pthread_getname_np(*tid, buf.as_mut_ptr(), buf.len()) };
    if r != 0 {
        return pthread_result(r);
    }
    // buf is NUL-terminated by pthread_getname_np (and zero-initialised).
    let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len() - 1);
    let n = len.min(size - 1);
    // SAFETY: uv.h's contract: `name` (non-null) has `size` writable bytes;
    // n < size bytes are copied and the remaining size - n zeroed.
    unsafe {
        std::ptr::copy_nonoverlapping(buf.as_ptr(), name, n);
        std::ptr::write_bytes(name.add(n), 0, size - n);
    }
    0
}

#[no_mangle]
pub extern "C" fn uv_cpumask_size() -> c_int {
    libc::CPU_SETSIZE
}

fn cpumask_len(mask_size: size_t) -> Result<usize, c_int> {
    let n = usize::try_from(uv_cpumask_size()).map_err(|_| UV_EINVAL)?;
    if mask_size < n {
        return Err(UV_EINVAL);
    }
    Ok(n)
}

/// Pins the thread to the CPUs whose bytes are non-zero in `cpumask`;
/// `oldmask`, when given, receives the previous set first.
#[no_mangle]
pub unsafe extern "C" fn uv_thread_setaffinity(
    tid: *mut uv_thread_t,
    cpumask: *mut c_char,
    oldmask: *mut c_char,
    mask_size: size_t,
) -> c_int {
    let n = match cpumask_len(mask_size) {
        Ok(n) => n,
        Err(e) => return e,
    };
    if tid.is_null() || cpumask.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `tid` (non-null) is a live thread's id, and
    // `cpumask` and a non-null `oldmask` hold `mask_size` >= n bytes
    // (cpumask_len checked); a zeroed cpu_set_t is the empty set, and every
    // cpu index is < n = CPU_SETSIZE, inside it.
    unsafe {
        if !oldmask.is_null() {
            let r = uv_thread_getaffinity(tid, oldmask, mask_size);
            if r < 0 {
                return r;
            }
        }
        let mask = std::slice::from_raw_parts(cpumask as *const c_char, n);
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for (cpu, _) in mask.iter().enumerate().filter(|(_, &b)| b != 0) {
            libc::CPU_SET(cpu, &mut set);
        }
        pthread_result(libc::pthread_setaffinity_np(
            *tid,
            std::mem::size_of::<libc::cpu_set_t>(),
            &set,
        ))
    }
}

/// Fills `cpumask` with 1 for each CPU the thread may run on, 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn uv_thread_getaffinity(
    tid: *mut uv_thread_t,
    cpumask: *mut c_char,
    mask_size: size_t,
) -> c_int {
    let n = match cpumask_len(mask_size) {
        Ok(n) => n,
        Err(e) => return e,
    };
    if tid.is_null() || cpumask.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `tid` (non-null) is a live thread's id and
    // `cpumask` (non-null) holds `mask_size` >= n writable bytes; `set` is a
    // local of the size passed, and every cpu index is < n = CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let r =
            libc::pthread_getaffinity_np(*tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set);
        if r != 0 {
            return pthread_result(r);
        }
        let mask = std::slice::from_raw_parts_mut(cpumask, n);
        for (cpu, byte) in mask.iter_mut().enumerate() {
            *byte = libc::CPU_ISSET(cpu, &set) as c_char;
        }
    }
    0
}

#[no_mangle]
pub extern "C" fn uv_thread_getcpu() -> c_int {
    // SAFETY: sched_getcpu has no preconditions.
    let cpu = unsafe { libc::sched_getcpu() };
    if cpu < 0 {
        return -errno();
    }
    cpu
}

fn valid_priority(priority: c_int) -> bool {
    (UV_THREAD_PRIORITY_LOWEST..=UV_THREAD_PRIORITY_HIGHEST).contains(&priority)
}

/// The calling thread's nice value (Linux keeps one per thread).
fn own_nice() -> Result<c_int, c_int> {
    // SAFETY: gettid/getpriority have no memory preconditions. getpriority
    // can legitimately return -1, so errno is cleared to tell it apart.
    unsafe {
        let tid = libc::gettid();
        set_errno(0);
        let r = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
        if r == -1 && errno() != 0 {
            return Err(-errno());
        }
        Ok(r)
    }
}

/// Whether `tid` is the calling thread.
fn is_self(tid: uv_thread_t) -> bool {
    // SAFETY: pthread_equal only compares two ids; pthread_self has no
    // preconditions.
    unsafe { libc::pthread_equal(tid, libc::pthread_self()) != 0 }
}

/// For SCHED_OTHER (the default) the real-time priority is always 0, so for
/// the calling thread the nice value is reported instead, as libuv does.
#[no_mangle]
pub unsafe extern "C" fn uv_thread_getpriority(tid: uv_thread_t, priority: *mut c_int) -> c_int {
    if priority.is_null() {
        return UV_EINVAL;
    }
    let mut policy: c_int = 0;
    // SAFETY: sched_param is plain data; all-zero is a valid value.
    let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
    // SAFETY: uv.h's contract: `tid` is a live thread's id; `policy` and
    // `param` are locals the call writes.
    let r = unsafe { libc::pthread_getschedparam(tid, &mut policy, &mut param) };
    if r != 0 {
        return pthread_result(r);
    }
    let value = if policy == libc::SCHED_OTHER && is_self(tid) {
        match own_nice() {
            Ok(nice) => nice,
            Err(e) => return e,
        }
    } else {
        param.sched_priority
    };
    // SAFETY: uv.h's contract: `priority` (non-null) is a writable int.
    unsafe { *priority = value };
    0
}

/// Maps libuv's five levels onto the thread's scheduling policy's range; for
/// the calling thread under SCHED_OTHER it sets the nice value instead
/// (HIGHEST = -4 ... LOWEST = +4).
#[no_mangle]
pub unsafe extern "C" fn uv_thread_setpriority(tid: uv_thread_t, priority: c_int) -> c_int {
    if !valid_priority(priority) {
        return UV_EINVAL;
    }
    let mut policy: c_int = 0;
    // SAFETY: sched_param is plain data; all-zero is a valid value.
    let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
    // SAFETY: uv.h's contract: `tid` is a live thread's id; `policy` and
    // `param` are locals the call writes.
    let r = unsafe { libc::pthread_getschedparam(tid, &mut policy, &mut param) };
    if r != 0 {
        return pthread_result(r);
    }

    if policy == libc::SCHED_OTHER && is_self(tid) {
        let nice = -priority * 2;
        // SAFETY: no pointers: the calling thread's own id and a nice value.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) } != 0
        {
            return -errno();
        }
        return 0;
    }

    // SAFETY: no pointers; an unknown policy only fails.
    let (min, max) = unsafe {
        (
            libc::sched_get_priority_min(policy),
            libc::sched_get_priority_max(policy),
        )
    };
    if min == -1 || max == -1 {
        return -errno();
    }
    let range = max - min;
    let prio = match priority {
        UV_THREAD_PRIORITY_HIGHEST => max,
        UV_THREAD_PRIORITY_ABOVE_NORMAL => min + range * 3 / 4,
        UV_THREAD_PRIORITY_NORMAL => min + range / 2,
        UV_THREAD_PRIORITY_BELOW_NORMAL => min + range / 4,
        _ => min,
    };
    if param.sched_priority != prio {
        param.sched_priority = prio;
        // SAFETY: as for pthread_getschedparam; `param` is read only.
        let r = unsafe { libc::pthread_setschedparam(tid, policy, &param) };
        if r != 0 {
            return pthread_result(r);
        }
    }
    0
}

// ---------------------------------------------------------------------------
// Mutexes

/// Initialises `mutex` as a default mutex, or of pthread type `kind`.
///
/// # Safety
/// `mutex` is null (refused) or points to writable storage for a
/// pthread_mutex_t that no thread is using.
unsafe fn mutex_init_kind(mutex: *mut uv_mutex_t, kind: Option<c_int>) -> c_int {
    if mutex.is_null() {
        return UV_EINVAL;
    }
    let Some(kind) = kind else {
        // SAFETY: the contract: `mutex` is ours to initialise.
        return pthread_result(unsafe { libc::pthread_mutex_init(mutex, std::ptr::null()) });
    };
    let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    // SAFETY: `attr` is local storage that pthread_mutexattr_init
    // initialises, then used initialised and destroyed once; `mutex` is
    // ours to initialise (the contract).
    unsafe {
        let r = libc::pthread_mutexattr_init(attr.as_mut_ptr());
        if r != 0 {
            return pthread_result(r);
        }
        let mut r = libc::pthread_mutexattr_settype(attr.as_mut_ptr(), kind);
        if r == 0 {
            r = libc::pthread_mutex_init(mutex, attr.as_ptr());
        }
        libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
        pthread_result(r)
    }
}

/// A plain (non-recursive, non-error-checking) mutex, as libuv's release
/// builds make: misuse that merely works with pthreads keeps working.
#[no_mangle]
pub unsafe extern "C" fn uv_mutex_init(mutex: *mut uv_mutex_t) -> c_int {
    // SAFETY: uv.h's contract: `mutex` is storage for a mutex not in use.
    unsafe { mutex_init_kind(mutex, None) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_mutex_init_recursive(mutex: *mut uv_mutex_t) -> c_int {
    // SAFETY: uv.h's contract: `mutex` is storage for a mutex not in use.
    unsafe { mutex_init_kind(mutex, Some(libc::PTHREAD_MUTEX_RECURSIVE)) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_mutex_destroy(mutex: *mut uv_mutex_t) {
    // SAFETY: uv.h's contract: a non-null `mutex` was initialised by uv_mutex_init(_recursive).
    if mutex.is_null() || unsafe { libc::pthread_mutex_destroy(mutex) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_mutex_lock(mutex: *mut uv_mutex_t) {
    // SAFETY: uv.h's contract: a non-null `mutex` was initialised by uv_mutex_init(_recursive).
    if mutex.is_null() || unsafe { libc::pthread_mutex_lock(mutex) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_mutex_trylock(mutex: *mut uv_mutex_t) -> c_int {
    if mutex.is_null() {
        fatal();
    }
    // SAFETY: uv.h's contract: `mutex` was initialised by uv_mutex_init(_recursive).
    match unsafe { libc::pthread_mutex_trylock(mutex) } {
        0 => 0,
        // EAGAIN: a recursive mutex's count is exhausted; still "busy".
        libc::EBUSY | libc::EAGAIN => UV_EBUSY,
        _ => fatal(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_mutex_unlock(mutex: *mut uv_mutex_t) {
    // SAFETY: uv.h's contract: a non-null `mutex` was initialised by uv_mutex_init(_recursive).
    if mutex.is_null() || unsafe { libc::pthread_mutex_unlock(mutex) } != 0 {
        fatal();
    }
}

// ---------------------------------------------------------------------------
// Read-write locks

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_init(rwlock: *mut uv_rwlock_t) -> c_int {
    if rwlock.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `rwlock` is storage for a lock not in use.
    pthread_result(unsafe { libc::pthread_rwlock_init(rwlock, std::ptr::null()) })
}

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_destroy(rwlock: *mut uv_rwlock_t) {
    // SAFETY: uv.h's contract: a non-null `rwlock` was initialised by uv_rwlock_init.
    if rwlock.is_null() || unsafe { libc::pthread_rwlock_destroy(rwlock) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_rdlock(rwlock: *mut uv_rwlock_t) {
    // SAFETY: uv.h's contract: a non-null `rwlock` was initialised by uv_rwlock_init.
    if rwlock.is_null() || unsafe { libc::pthread_rwlock_rdlock(rwlock) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_tryrdlock(rwlock: *mut uv_rwlock_t) -> c_int {
    if rwlock.is_null() {
        fatal();
    }
    // SAFETY: uv.h's contract: `rwlock` was initialised by uv_rwlock_init.
    match unsafe { libc::pthread_rwlock_tryrdlock(rwlock) } {
        0 => 0,
        // EAGAIN: too many readers; for the caller that is just "busy".
        libc::EBUSY | libc::EAGAIN => UV_EBUSY,
        _ => fatal(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_rdunlock(rwlock: *mut uv_rwlock_t) {
    // SAFETY: uv.h's contract: a non-null `rwlock` was initialised by uv_rwlock_init.
    if rwlock.is_null() || unsafe { libc::pthread_rwlock_unlock(rwlock) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_wrlock(rwlock: *mut uv_rwlock_t) {
    // SAFETY: uv.h's contract: a non-null `rwlock` was initialised by uv_rwlock_init.
    if rwlock.is_null() || unsafe { libc::pthread_rwlock_wrlock(rwlock) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_trywrlock(rwlock: *mut uv_rwlock_t) -> c_int {
    if rwlock.is_null() {
        fatal();
    }
    // SAFETY: uv.h's contract: `rwlock` was initialised by uv_rwlock_init.
    match unsafe { libc::pthread_rwlock_trywrlock(rwlock) } {
        0 => 0,
        libc::EBUSY | libc::EAGAIN => UV_EBUSY,
        _ => fatal(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_rwlock_wrunlock(rwlock: *mut uv_rwlock_t) {
    // SAFETY: uv.h's contract: a non-null `rwlock` was initialised by uv_rwlock_init.
    if rwlock.is_null() || unsafe { libc::pthread_rwlock_unlock(rwlock) } != 0 {
        fatal();
    }
}

// ---------------------------------------------------------------------------
// Condition variables

/// Condition variables time out against CLOCK_MONOTONIC, so that
/// uv_cond_timedwait is immune to wall-clock changes.
#[no_mangle]
pub unsafe extern "C" fn uv_cond_init(cond: *mut uv_cond_t) -> c_int {
    if cond.is_null() {
        return UV_EINVAL;
    }
    let mut attr = std::mem::MaybeUninit::<libc::pthread_condattr_t>::uninit();
    // SAFETY: `attr` is local storage that pthread_condattr_init
    // initialises, then used initialised and destroyed once; by uv.h's
    // contract `cond` is storage for a condition variable not in use.
    unsafe {
        let r = libc::pthread_condattr_init(attr.as_mut_ptr());
        if r != 0 {
            return pthread_result(r);
        }
        let mut r = libc::pthread_condattr_setclock(attr.as_mut_ptr(), libc::CLOCK_MONOTONIC);
        if r == 0 {
            r = libc::pthread_cond_init(cond, attr.as_ptr());
        }
        libc::pthread_condattr_destroy(attr.as_mut_ptr());
        pthread_result(r)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_cond_destroy(cond: *mut uv_cond_t) {
    // SAFETY: uv.h's contract: a non-null `cond` was initialised by uv_cond_init.
    if cond.is_null() || unsafe { libc::pthread_cond_destroy(cond) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_cond_signal(cond: *mut uv_cond_t) {
    // SAFETY: uv.h's contract: a non-null `cond` was initialised by uv_cond_init.
    if cond.is_null() || unsafe { libc::pthread_cond_signal(cond) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_cond_broadcast(cond: *mut uv_cond_t) {
    // SAFETY: uv.h's contract: a non-null `cond` was initialised by uv_cond_init.
    if cond.is_null() || unsafe { libc::pthread_cond_broadcast(cond) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_cond_wait(cond: *mut uv_cond_t, mutex: *mut uv_mutex_t) {
    // SAFETY: uv.h's contract: non-null `cond` and `mutex` were initialised
    // by uv_cond_init and uv_mutex_init, and the caller holds `mutex`.
    if cond.is_null() || mutex.is_null() || unsafe { libc::pthread_cond_wait(cond, mutex) } != 0 {
        fatal();
    }
}

/// Waits at most `timeout` nanoseconds; UV_ETIMEDOUT when it runs out.
#[no_mangle]
pub unsafe extern "C" fn uv_cond_timedwait(
    cond: *mut uv_cond_t,
    mutex: *mut uv_mutex_t,
    timeout: u64,
) -> c_int {
    if cond.is_null() || mutex.is_null() {
        fatal();
    }
    // Saturate rather than wrap: a huge timeout means "practically forever",
    // not "already expired".
    let deadline = crate::time::uv_hrtime().saturating_add(timeout);
    let ts = libc::timespec {
        tv_sec: (deadline / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: uv.h's contract: `cond` and `mutex` (non-null) were
    // initialised by uv_cond_init and uv_mutex_init, and the caller holds
    // `mutex`; `ts` is a local.
    match unsafe { libc::pthread_cond_timedwait(cond, mutex, &ts) } {
        0 => 0,
        libc::ETIMEDOUT => UV_ETIMEDOUT,
        _ => fatal(),
    }
}

// ---------------------------------------------------------------------------
// Semaphores

#[no_mangle]
pub unsafe extern "C" fn uv_sem_init(sem: *mut uv_sem_t, value: c_uint) -> c_int {
    if sem.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `sem` is storage for a semaphore not in use.
    if unsafe { libc::sem_init(sem, 0, value) } != 0 {
        return -errno();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_sem_destroy(sem: *mut uv_sem_t) {
    // SAFETY: uv.h's contract: a non-null `sem` was initialised by uv_sem_init.
    if sem.is_null() || unsafe { libc::sem_destroy(sem) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_sem_post(sem: *mut uv_sem_t) {
    // SAFETY: uv.h's contract: a non-null `sem` was initialised by uv_sem_init.
    if sem.is_null() || unsafe { libc::sem_post(sem) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_sem_wait(sem: *mut uv_sem_t) {
    if sem.is_null() {
        fatal();
    }
    // A signal handler interrupting the wait (EINTR) means: keep waiting.
    // SAFETY: uv.h's contract: `sem` was initialised by uv_sem_init.
    if retry_eintr(|| unsafe { libc::sem_wait(sem) }) != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_sem_trywait(sem: *mut uv_sem_t) -> c_int {
    if sem.is_null() {
        fatal();
    }
    loop {
        // SAFETY: uv.h's contract: `sem` was initialised by uv_sem_init.
        if unsafe { libc::sem_trywait(sem) } == 0 {
            return 0;
        }
        match errno() {
            libc::EINTR => continue,
            libc::EAGAIN => return UV_EAGAIN,
            _ => fatal(),
        }
    }
}

// ---------------------------------------------------------------------------
// Barriers

#[no_mangle]
pub unsafe extern "C" fn uv_barrier_init(barrier: *mut uv_barrier_t, count: c_uint) -> c_int {
    if barrier.is_null() || count == 0 {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `barrier` is storage for a barrier not in use.
    pthread_result(unsafe { libc::pthread_barrier_init(barrier, std::ptr::null(), count) })
}

/// Blocks until `count` threads have arrived; returns 1 in exactly one of
/// them (which may then destroy the barrier) and 0 in the others.
#[no_mangle]
pub unsafe extern "C" fn uv_barrier_wait(barrier: *mut uv_barrier_t) -> c_int {
    if barrier.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `barrier` was initialised by uv_barrier_init.
    match unsafe { libc::pthread_barrier_wait(barrier) } {
        0 => 0,
        libc::PTHREAD_BARRIER_SERIAL_THREAD => 1,
        _ => fatal(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_barrier_destroy(barrier: *mut uv_barrier_t) {
    // SAFETY: uv.h's contract: a non-null `barrier` was initialised by uv_barrier_init.
    if barrier.is_null() || unsafe { libc::pthread_barrier_destroy(barrier) } != 0 {
        fatal();
    }
}

// ---------------------------------------------------------------------------
// Once and thread-local keys

/// Runs `callback` exactly once per `guard`, however many threads race here.
#[no_mangle]
pub unsafe extern "C" fn uv_once(guard: *mut uv_once_t, callback: Option<unsafe extern "C" fn()>) {
    // Without a callback there is nothing to run (libuv would crash).
    let Some(callback) = callback else {
        return;
    };
    if guard.is_null() {
        fatal();
    }
    // SAFETY: pthread_once calls a plain C function with no arguments;
    // only the Rust-side `unsafe` qualifier differs between the two types.
    let callback: extern "C" fn() = unsafe { std::mem::transmute(callback) };
    // SAFETY: uv.h's contract: `guard` is a uv_once_t set to UV_ONCE_INIT.
    if unsafe { libc::pthread_once(guard, callback) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_key_create(key: *mut uv_key_t) -> c_int {
    if key.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h's contract: `key` is a writable uv_key_t.
    pthread_result(unsafe { libc::pthread_key_create(key, None) })
}

#[no_mangle]
pub unsafe extern "C" fn uv_key_delete(key: *mut uv_key_t) {
    // SAFETY: uv.h's contract: a non-null `key` was made by uv_key_create.
    if key.is_null() || unsafe { libc::pthread_key_delete(*key) } != 0 {
        fatal();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_key_get(key: *mut uv_key_t) -> *mut c_void {
    // SAFETY: uv.h's contract: a non-null `key` was made by uv_key_create.
    unsafe {
        match key.as_ref() {
            Some(k) => libc::pthread_getspecific(*k),
            None => std::ptr::null_mut(),
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_key_set(key: *mut uv_key_t, value: *mut c_void) {
    // SAFETY: uv.h's contract: a non-null `key` was made by uv_key_create;
    // `value` is only stored.
    if key.is_null() || unsafe { libc::pthread_setspecific(*key, value) } != 0 {
        fatal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::mem::MaybeUninit;
    use std::ptr::addr_of_mut;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    // Nothing asserts on the threads these tests start: the entry points are
    // extern "C", so a panic there would abort the whole test binary. The
    // threads return (or record) what they saw, and the test asserts on it
    // after the join; a panic that happens anyway is caught on the thread
    // and raised again by `join`, as a normal test failure.

    /// A raw pointer that closures may carry to another thread; the tests
    /// keep the pointee alive until every thread is joined.
    struct P<T>(*mut T);
    // SAFETY: only the address crosses threads; every test keeps the pointee
    // alive until the threads are joined, and the pointees used from several
    // threads at once are pthread objects (or atomics) made for it.
    unsafe impl<T> Send for P<T> {}
    impl<T> Clone for P<T> {
        fn clone(&self) -> Self {
            *self
        }
    }
    impl<T> Copy for P<T> {}
    impl<T> P<T> {
        fn get(self) -> *mut T {
            self.0
        }
    }

    type Job = Box<dyn FnOnce() + Send>;

    /// # Safety
    /// `arg` is a `Box<Job>` from `Box::into_raw`, handed to this thread alone.
    unsafe extern "C" fn run_job(arg: *mut c_void) {
        // SAFETY: the contract: the box is this thread's to take.
        let job = unsafe { Box::from_raw(arg as *mut Job) };
        job();
    }

    /// A thread started by `spawn`: `join` returns what its closure returned.
    struct Spawned<R> {
        tid: uv_thread_t,
        out: P<Option<std::thread::Result<R>>>,
    }

    /// Starts `f` on a thread made by uv_thread_create_ex. A panic in `f` is
    /// caught there (it must not reach the extern "C" entry point) and
    /// raised again by `join`.
    fn spawn_opts<R: Send + 'static>(
        opts: Option<uv_thread_options_t>,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Spawned<R> {
        let out = P(Box::into_raw(Box::new(None)));
        let job: Box<Job> = Box::new(Box::new(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            // SAFETY: `out` is a live box that only `join` reads, after this
            // thread has ended.
            unsafe { *out.get() = Some(r) };
        }));
        let mut tid: uv_thread_t = 0;
        let opts_ptr = opts.as_ref().map_or(std::ptr::null(), |o| o as *const _);
        // SAFETY: `tid` and `opts` are locals; the job box goes to the new
        // thread, which run_job gives it to.
        let r = unsafe {
            uv_thread_create_ex(
                &mut tid,
                opts_ptr,
                Some(run_job),
                Box::into_raw(job) as *mut c_void,
            )
        };
        assert_eq!(r, 0);
        Spawned { tid, out }
    }

    fn spawn<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Spawned<R> {
        spawn_opts(None, f)
    }

    /// Waits for the thread; returns what its closure returned, or raises
    /// its panic here.
    fn join<R>(t: Spawned<R>) -> R {
        let mut tid = t.tid;
        // SAFETY: `tid` is a thread spawn made and nobody joined yet.
        assert_eq!(unsafe { uv_thread_join(&mut tid) }, 0);
        // SAFETY: the thread has ended: the box is ours again, taken once.
        let out = unsafe { Box::from_raw(t.out.get()) };
        match out.expect("the thread ran its job") {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    fn boxed<T>() -> P<T> {
        // SAFETY: only used for the pthread types, integers and atomics,
        // for which all-zero bytes are a valid (not yet initialised) value.
        P(Box::into_raw(Box::new(unsafe {
            MaybeUninit::<T>::zeroed().assume_init()
        })))
    }

    fn unbox<T>(p: P<T>) {
        // SAFETY: `p` came from `boxed` and every thread using it is joined.
        drop(unsafe { Box::from_raw(p.get()) });
    }

    static CALLED: AtomicUsize = AtomicUsize::new(0);
    /// The argument plain_entry got.
    static SEEN_ARG: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn plain_entry(arg: *mut c_void) {
        SEEN_ARG.store(arg as usize, Ordering::SeqCst);
        CALLED.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn create_join_detach() {
        let mut tid: uv_thread_t = 0;
        // SAFETY: `tid` is a local; plain_entry never dereferences its argument.
        unsafe {
            assert_eq!(
                uv_thread_create(&mut tid, Some(plain_entry), 42 as *mut c_void),
                0
            );
            assert_eq!(uv_thread_join(&mut tid), 0);
        }
        assert_eq!(CALLED.load(Ordering::SeqCst), 1);
        assert_eq!(SEEN_ARG.load(Ordering::SeqCst), 42);
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                uv_thread_create(&mut tid, None, std::ptr::null_mut()),
                UV_EINVAL
            );
            assert_eq!(
                uv_thread_create(&mut tid, Some(plain_entry), 42 as *mut c_void),
                0
            );
            assert_eq!(uv_thread_detach(&mut tid), 0);
        }
    }

    #[test]
    fn self_and_equal() {
        let main = uv_thread_self();
        let t = spawn(|| uv_thread_self());
        let tid = t.tid;
        let other = join(t);
        // SAFETY: the three ids are locals.
        unsafe {
            assert_ne!(uv_thread_equal(&main, &main), 0);
            assert_eq!(uv_thread_equal(&main, &other), 0);
            assert_ne!(uv_thread_equal(&tid, &other), 0);
        }
    }

    /// The calling thread's stack size, or the failing pthread call's error.
    fn own_stack_size() -> Result<usize, c_int> {
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        // SAFETY: pthread_getattr_np initialises `attr` when it returns 0;
        // only then is it read, and destroyed once.
        unsafe {
            let r = libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr());
            if r != 0 {
                return Err(r);
            }
            let mut size = 0;
            let r = libc::pthread_attr_getstacksize(attr.as_ptr(), &mut size);
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            if r != 0 {
                return Err(r);
            }
            Ok(size)
        }
    }

    #[test]
    fn stack_sizes() {
        let page = page_size();
        assert_eq!(requested_stack_size(42), min_stack_size().max(page));
        assert_eq!(requested_stack_size(1234567) % page, 0);
        assert!(requested_stack_size(1234567) >= 1234567);
        assert_eq!(requested_stack_size(0), thread_stack_size());
        assert!(requested_stack_size(usize::MAX) > 0);

        for want in [
            0usize,
            42,
            1 << 20,
            8 << 20,
            1234567,
            libc::PTHREAD_STACK_MIN - 42,
        ] {
            let opts = uv_thread_options_t {
                flags: UV_THREAD_HAS_STACK_SIZE,
                stack_size: want,
            };
            let got = join(spawn_opts(Some(opts), own_stack_size));
            let expected = if want == 0 { thread_stack_size() } else { want };
            assert!(got.unwrap() >= expected, "asked {want}");
        }
        // Without options: RLIMIT_STACK, like the main thread.
        let got = join(spawn(own_stack_size));
        assert!(got.unwrap() >= thread_stack_size());
    }

    /// uv_thread_getname into a `size`-byte buffer, or its error.
    fn name_of(mut tid: uv_thread_t, size: usize) -> Result<String, c_int> {
        let mut buf = vec![0x55 as c_char; size];
        // SAFETY: `buf` has the `size` bytes passed.
        let r = unsafe { uv_thread_getname(&mut tid, buf.as_mut_ptr(), size) };
        if r != 0 {
            return Err(r);
        }
        // SAFETY: on success the name is NUL-terminated within `buf`.
        Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned())
    }

    #[test]
    fn names() {
        let (ready, done) = (boxed::<uv_sem_t>(), boxed::<uv_sem_t>());
        // SAFETY: both semaphores are boxed, alive until unboxed at the end.
        unsafe {
            assert_eq!(uv_sem_init(ready.get(), 0), 0);
            assert_eq!(uv_sem_init(done.get(), 0), 0);
        }
        let t = spawn(move || {
            let ok = |s: &str| Ok(s.to_string());
            // SAFETY: the names are static C strings; the semaphores outlive
            // this thread.
            unsafe {
                let seen = [
                    (uv_thread_setname(c"aaaaaaaaaaaaaaaa".as_ptr()), "set 16 a"),
                    (
                        (name_of(uv_thread_self(), 16) != ok("aaaaaaaaaaaaaaa")) as c_int,
                        "cut to 15",
                    ),
                    (
                        (name_of(uv_thread_self(), 3) != ok("aa")) as c_int,
                        "cut to size - 1",
                    ),
                    (
                        (name_of(uv_thread_self(), 64) != ok("aaaaaaaaaaaaaaa")) as c_int,
                        "large buffer",
                    ),
                    (uv_thread_setname(c"~½¬{½".as_ptr()), "set non-ASCII"),
                    (
                        (name_of(uv_thread_self(), 16) != ok("~½¬{½")) as c_int,
                        "non-ASCII kept",
                    ),
                    (uv_thread_setname(c"worker-thread".as_ptr()), "set worker"),
                ];
                uv_sem_post(ready.get());
                uv_sem_wait(done.get());
                seen
            }
        });
        // SAFETY: as above; `t.tid` is a live thread until joined.
        unsafe {
            uv_sem_wait(ready.get());
            assert_eq!(name_of(t.tid, 16), Ok("worker-thread".to_string()));
            uv_sem_post(done.get());
        }
        for (r, what) in join(t) {
            assert_eq!(r, 0, "{what}");
        }
        // SAFETY: the thread is joined; the buffers are locals of the sizes
        // passed (or refused before use).
        unsafe {
            uv_sem_destroy(ready.get());
            uv_sem_destroy(done.get());
            assert_eq!(uv_thread_setname(std::ptr::null()), UV_EINVAL);
            let mut me = uv_thread_self();
            let mut b = [0 as c_char; 4];
            assert_eq!(uv_thread_getname(&mut me, b.as_mut_ptr(), 0), UV_EINVAL);
            assert_eq!(
                uv_thread_getname(&mut me, std::ptr::null_mut(), 4),
                UV_EINVAL
            );
        }
        unbox(ready);
        unbox(done);
    }

    #[test]
    fn affinity() {
        let n = uv_cpumask_size() as usize;
        assert_eq!(n, 1024);
        /// What the thread saw, in order.
        struct Seen {
            short: c_int,
            get: c_int,
            mask: Vec<c_char>,
            cpu: c_int,
            only: Vec<c_char>,
            set: c_int,
            old: Vec<c_char>,
            get_now: c_int,
            now: Vec<c_char>,
            cpu_now: c_int,
            restore: c_int,
        }
        let t = spawn(move || {
            let mut me = uv_thread_self();
            let mut mask = vec![0 as c_char; n];
            let mut only = vec![0 as c_char; n];
            let mut old = vec![0 as c_char; n];
            let mut now = vec![0 as c_char; n];
            // SAFETY: every mask is a local of `n` bytes, the size passed
            // (n - 1 is refused before the mask is touched).
            unsafe {
                let short = uv_thread_getaffinity(&mut me, mask.as_mut_ptr(), n - 1);
                let get = uv_thread_getaffinity(&mut me, mask.as_mut_ptr(), n);
                let cpu = uv_thread_getcpu();
                if let Some(b) = usize::try_from(cpu).ok().and_then(|c| only.get_mut(c)) {
                    *b = 1;
                }
                let set = uv_thread_setaffinity(&mut me, only.as_mut_ptr(), old.as_mut_ptr(), n);
                let get_now = uv_thread_getaffinity(&mut me, now.as_mut_ptr(), n);
                let cpu_now = uv_thread_getcpu();
                let restore =
                    uv_thread_setaffinity(&mut me, mask.as_mut_ptr(), std::ptr::null_mut(), n);
                Seen {
                    short,
                    get,
                    mask,
                    cpu,
                    only,
                    set,
                    old,
                    get_now,
                    now,
                    cpu_now,
                    restore,
                }
            }
        });
        let s = join(t);
        assert_eq!(s.short, UV_EINVAL);
        assert_eq!(s.get, 0);
        assert!(s.mask.iter().all(|&b| b == 0 || b == 1));
        assert!(s.cpu >= 0 && s.mask[s.cpu as usize] == 1, "cpu {}", s.cpu);
        assert_eq!((s.set, s.get_now, s.restore), (0, 0, 0));
        assert_eq!(s.old, s.mask);
        assert_eq!(s.now, s.only);
        assert_eq!(s.cpu_now, s.cpu);
    }

    #[test]
    fn priority() {
        // SAFETY: null is refused before use; no other pointer.
        unsafe {
            assert_eq!(uv_thread_getpriority(0, std::ptr::null_mut()), UV_EINVAL);
            assert_eq!(uv_thread_setpriority(uv_thread_self(), 3), UV_EINVAL);
            assert_eq!(uv_thread_setpriority(uv_thread_self(), -3), UV_EINVAL);
        }
        let sem = boxed::<uv_sem_t>();
        // SAFETY: the semaphore is boxed and outlives the thread.
        unsafe { assert_eq!(uv_sem_init(sem.get(), 0), 0) };
        // SAFETY: as above.
        let t = spawn(move || unsafe { uv_sem_wait(sem.get()) });
        // SAFETY: `t.tid` is alive: it waits for the post below; `p` is local.
        unsafe {
            let mut p = 99;
            assert_eq!(uv_thread_getpriority(t.tid, &mut p), 0);
            // Another thread under SCHED_OTHER: its real-time priority, 0.
            assert_eq!(p, 0);
            assert_eq!(uv_thread_setpriority(t.tid, UV_THREAD_PRIORITY_LOWEST), 0);
            assert_eq!(uv_thread_getpriority(t.tid, &mut p), 0);
            assert_eq!(p, libc::sched_get_priority_min(libc::SCHED_OTHER));
            uv_sem_post(sem.get());
        }
        join(t);
        // The calling thread: the nice value (lowering needs no privilege).
        let t = spawn(|| {
            let me = uv_thread_self();
            let mut p = 99;
            // SAFETY: `p` is a local.
            let get = unsafe { uv_thread_getpriority(me, &mut p) };
            let before = p;
            let mut policy = -1;
            // SAFETY: sched_param is plain data, all-zero valid; `policy` and
            // `param` are locals the call writes.
            unsafe {
                let mut param: libc::sched_param = std::mem::zeroed();
                libc::pthread_getschedparam(me, &mut policy, &mut param);
            }
            // Only under SCHED_OTHER is the nice value used. LOWEST is nice
            // 4: reaching it lowers the priority (no privilege needed) unless
            // the test already runs at a lower one.
            let lowered = (get == 0 && policy == libc::SCHED_OTHER && p <= 4).then(|| {
                // SAFETY: `p` is a local.
                unsafe {
                    let set = uv_thread_setpriority(me, UV_THREAD_PRIORITY_LOWEST);
                    let get = uv_thread_getpriority(me, &mut p);
                    (set, get, p)
                }
            });
            (get, policy, before, lowered)
        });
        let (get, policy, before, lowered) = join(t);
        assert_eq!(get, 0);
        match lowered {
            Some(seen) => assert_eq!(seen, (0, 0, 4)),
            None if policy != libc::SCHED_OTHER => eprintln!(
                "SKIPPED thread priorities (nice values): the tests run under scheduling \
                 policy {policy}, not SCHED_OTHER (e.g. under chrt -i), where the nice value \
                 is not what uv_thread_getpriority reports"
            ),
            None => eprintln!(
                "SKIPPED thread priorities: the tests run at nice {before}, below LOWEST (4)"
            ),
        }
        // SAFETY: both threads are joined; destroyed once.
        unsafe { uv_sem_destroy(sem.get()) };
        unbox(sem);
    }

    #[test]
    fn mutex_contention() {
        struct Shared {
            mutex: uv_mutex_t,
            counter: usize,
        }
        let s = boxed::<Shared>();
        // SAFETY: `s` is boxed and outlives every thread. The mutex is only
        // ever reached through raw pointers (addr_of_mut!), never a shared
        // `&mut`, as several threads use it at once.
        unsafe { assert_eq!(uv_mutex_init(addr_of_mut!((*s.get()).mutex)), 0) };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                // SAFETY: as above; `counter` is only touched under the mutex.
                spawn(move || unsafe {
                    let sh = s.get();
                    for _ in 0..20_000 {
                        uv_mutex_lock(addr_of_mut!((*sh).mutex));
                        // A non-atomic read-modify-write: only exclusion
                        // keeps it from losing updates.
                        let v = std::ptr::read_volatile(addr_of_mut!((*sh).counter));
                        std::ptr::write_volatile(addr_of_mut!((*sh).counter), v + 1);
                        uv_mutex_unlock(addr_of_mut!((*sh).mutex));
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(join);
        // SAFETY: as above; every thread that counted is joined.
        unsafe {
            let m = addr_of_mut!((*s.get()).mutex);
            assert_eq!((*s.get()).counter, 80_000);
            // Held by another thread: trylock reports busy.
            uv_mutex_lock(m);
            let busy = join(spawn(move || {
                uv_mutex_trylock(addr_of_mut!((*s.get()).mutex))
            }));
            assert_eq!(busy, UV_EBUSY);
            uv_mutex_unlock(m);
            assert_eq!(uv_mutex_trylock(m), 0);
            uv_mutex_unlock(m);
            uv_mutex_destroy(m);
        }
        unbox(s);
    }

    #[test]
    fn mutex_recursive() {
        let m = boxed::<uv_mutex_t>();
        // SAFETY: `m` is boxed and outlives the thread; null is refused.
        unsafe {
            assert_eq!(uv_mutex_init_recursive(m.get()), 0);
            uv_mutex_lock(m.get());
            uv_mutex_lock(m.get());
            assert_eq!(uv_mutex_trylock(m.get()), 0);
            let busy = join(spawn(move || uv_mutex_trylock(m.get())));
            assert_eq!(busy, UV_EBUSY);
            uv_mutex_unlock(m.get());
            uv_mutex_unlock(m.get());
            uv_mutex_unlock(m.get());
            uv_mutex_destroy(m.get());
            assert_eq!(uv_mutex_init(std::ptr::null_mut()), UV_EINVAL);
        }
        unbox(m);
    }

    #[test]
    fn rwlock() {
        let l = boxed::<uv_rwlock_t>();
        // SAFETY: `l` is boxed and outlives the threads.
        unsafe {
            assert_eq!(uv_rwlock_init(l.get()), 0);
            // Write-held: others can take neither.
            assert_eq!(uv_rwlock_trywrlock(l.get()), 0);
            let r = join(spawn(move || {
                [uv_rwlock_tryrdlock(l.get()), uv_rwlock_trywrlock(l.get())]
            }));
            assert_eq!(r, [UV_EBUSY, UV_EBUSY]);
            uv_rwlock_wrunlock(l.get());
            // Read-held: others can read but not write.
            uv_rwlock_rdlock(l.get());
            let r = join(spawn(move || {
                let rd = uv_rwlock_tryrdlock(l.get());
                if rd == 0 {
                    uv_rwlock_rdunlock(l.get());
                }
                [rd, uv_rwlock_trywrlock(l.get())]
            }));
            assert_eq!(r, [0, UV_EBUSY]);
            uv_rwlock_rdunlock(l.get());
            uv_rwlock_wrlock(l.get());
            uv_rwlock_wrunlock(l.get());
            uv_rwlock_destroy(l.get());
        }
        unbox(l);
    }

    #[test]
    fn cond_timedwait_times_out_and_wakes() {
        struct Shared {
            mutex: uv_mutex_t,
            cond: uv_cond_t,
            flag: bool,
        }
        let s = boxed::<Shared>();
        // SAFETY: `s` is boxed and outlives the threads; the mutex and cond
        // are reached through raw pointers only, `flag` only under the mutex.
        unsafe {
            let sh = s.get();
            let (m, c) = (addr_of_mut!((*sh).mutex), addr_of_mut!((*sh).cond));
            assert_eq!(uv_mutex_init(m), 0);
            assert_eq!(uv_cond_init(c), 0);

            uv_mutex_lock(m);
            let start = Instant::now();
            let r = uv_cond_timedwait(c, m, 100_000_000);
            assert_eq!(r, UV_ETIMEDOUT);
            assert!(start.elapsed() >= Duration::from_millis(100));
            assert!(start.elapsed() < Duration::from_secs(5));
            uv_mutex_unlock(m);

            // Signalled well before the (long) deadline.
            uv_mutex_lock(m);
            let t = spawn(move || {
                let sh = s.get();
                uv_mutex_lock(addr_of_mut!((*sh).mutex));
                (*sh).flag = true;
                uv_cond_signal(addr_of_mut!((*sh).cond));
                uv_mutex_unlock(addr_of_mut!((*sh).mutex));
            });
            let start = Instant::now();
            // (`flag` changes under the mutex, which the wait gives up.)
            while !std::ptr::read_volatile(addr_of_mut!((*sh).flag)) {
                let r = uv_cond_timedwait(c, m, 10_000_000_000);
                assert_eq!(r, 0);
            }
            assert!(start.elapsed() < Duration::from_secs(5));
            uv_mutex_unlock(m);
            join(t);

            // A timeout so large it would wrap must not expire at once.
            uv_mutex_lock(m);
            (*sh).flag = false;
            let t = spawn(move || {
                let sh = s.get();
                std::thread::sleep(Duration::from_millis(50));
                uv_mutex_lock(addr_of_mut!((*sh).mutex));
                (*sh).flag = true;
                uv_cond_broadcast(addr_of_mut!((*sh).cond));
                uv_mutex_unlock(addr_of_mut!((*sh).mutex));
            });
            while !std::ptr::read_volatile(addr_of_mut!((*sh).flag)) {
                assert_eq!(uv_cond_timedwait(c, m, u64::MAX), 0);
            }
            uv_mutex_unlock(m);
            join(t);

            uv_cond_destroy(c);
            uv_mutex_destroy(m);
        }
        unbox(s);
    }

    #[test]
    fn semaphore() {
        let sem = boxed::<uv_sem_t>();
        // SAFETY: `sem` is boxed and outlives the thread.
        unsafe {
            assert_eq!(uv_sem_init(sem.get(), 3), 0);
            uv_sem_wait(sem.get());
            uv_sem_wait(sem.get());
            assert_eq!(uv_sem_trywait(sem.get()), 0);
            assert_eq!(uv_sem_trywait(sem.get()), UV_EAGAIN);
            uv_sem_post(sem.get());
            assert_eq!(uv_sem_trywait(sem.get()), 0);
            assert_eq!(uv_sem_trywait(sem.get()), UV_EAGAIN);
            // A post from another thread releases a blocked wait.
            let t = spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                uv_sem_post(sem.get());
            });
            uv_sem_wait(sem.get());
            join(t);
            uv_sem_destroy(sem.get());
            assert_eq!(uv_sem_init(sem.get(), u32::MAX), UV_EINVAL);
        }
        unbox(sem);
    }

    #[test]
    fn barrier_serial_thread() {
        const N: usize = 4;
        const ROUNDS: usize = 5;
        let b = boxed::<uv_barrier_t>();
        // SAFETY: `b` is boxed and outlives the threads.
        unsafe {
            assert_eq!(uv_barrier_init(b.get(), 0), UV_EINVAL);
            assert_eq!(uv_barrier_init(b.get(), N as c_uint), 0);
        }
        let threads: Vec<_> = (0..N)
            .map(|_| {
                // SAFETY: as above.
                spawn(move || unsafe {
                    (0..ROUNDS)
                        .map(|_| uv_barrier_wait(b.get()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let seen: Vec<c_int> = threads.into_iter().flat_map(join).collect();
        assert!(seen.iter().all(|&r| r == 0 || r == 1), "{seen:?}");
        // One serial thread per round.
        assert_eq!(seen.iter().filter(|&&r| r == 1).count(), ROUNDS);
        // SAFETY: as above; every waiter is joined.
        unsafe {
            uv_barrier_destroy(b.get());
            assert_eq!(uv_barrier_init(b.get(), 1), 0);
            assert!(uv_barrier_wait(b.get()) > 0);
            uv_barrier_destroy(b.get());
        }
        unbox(b);
    }

    static ONCE_RUNS: AtomicUsize = AtomicUsize::new(0);
    static mut ONCE_GUARD: uv_once_t = libc::PTHREAD_ONCE_INIT;

    extern "C" fn once_cb() {
        std::thread::sleep(Duration::from_millis(10));
        ONCE_RUNS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn once() {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                // SAFETY: ONCE_GUARD is only ever used by pthread_once, which
                // synchronises its users.
                spawn(|| unsafe {
                    uv_once(addr_of_mut!(ONCE_GUARD), Some(once_cb));
                    // Nobody returns before the one run has finished.
                    ONCE_RUNS.load(Ordering::SeqCst)
                })
            })
            .collect();
        let seen: Vec<usize> = threads.into_iter().map(join).collect();
        assert_eq!(seen, [1; 4]);
        // SAFETY: as above.
        unsafe { uv_once(addr_of_mut!(ONCE_GUARD), Some(once_cb)) };
        assert_eq!(ONCE_RUNS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn keys() {
        let key = boxed::<uv_key_t>();
        // SAFETY: `key` is boxed and outlives the threads.
        unsafe {
            assert_eq!(uv_key_create(key.get()), 0);
            assert!(uv_key_get(key.get()).is_null());
            uv_key_set(key.get(), 7 as *mut c_void);
            assert_eq!(uv_key_get(key.get()) as usize, 7);
            let threads: Vec<_> = (1..=2usize)
                .map(|i| {
                    spawn(move || {
                        let at_start = uv_key_get(key.get()) as usize;
                        uv_key_set(key.get(), i as *mut c_void);
                        std::thread::sleep(Duration::from_millis(10));
                        let after_set = uv_key_get(key.get()) as usize;
                        uv_key_set(key.get(), std::ptr::null_mut());
                        (at_start, after_set, uv_key_get(key.get()) as usize)
                    })
                })
                .collect();
            let seen: Vec<_> = threads.into_iter().map(join).collect();
            // Each thread starts with its own NULL, keeps its own value.
            assert_eq!(seen, [(0, 1, 0), (0, 2, 0)]);
            assert_eq!(uv_key_get(key.get()) as usize, 7);
            uv_key_delete(key.get());
        }
        unbox(key);
    }
}
