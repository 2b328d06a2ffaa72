//! uv_replace_allocator and the allocation functions every other area uses
//! for memory it hands to the user (so that the user's allocator sees it).

use libc::{c_int, c_void, size_t};
use std::sync::atomic::{AtomicUsize, Ordering};

type MallocFn = unsafe extern "C" fn(size_t) -> *mut c_void;
type ReallocFn = unsafe extern "C" fn(*mut c_void, size_t) -> *mut c_void;
type CallocFn = unsafe extern "C" fn(size_t, size_t) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);

// Function pointers stored as usize; 0 means "the C library's".
static MALLOC: AtomicUsize = AtomicUsize::new(0);
static REALLOC: AtomicUsize = AtomicUsize::new(0);
static CALLOC: AtomicUsize = AtomicUsize::new(0);
static FREE: AtomicUsize = AtomicUsize::new(0);

/// Allocates with the user's allocator (libuv's `uv__malloc`): size 0 gives NULL.
///
/// # Safety
/// None for the caller: sound for any size (the memory goes back through
/// [`free`]). Kept `unsafe` only so that call sites elsewhere keep compiling
/// unchanged while the audit runs; it can become a safe fn afterwards.
pub unsafe fn malloc(size: size_t) -> *mut c_void {
    if size == 0 {
        return std::ptr::null_mut();
    }
    match MALLOC.load(Ordering::Acquire) {
        // SAFETY: malloc has no precondition.
        0 => unsafe { libc::malloc(size) },
        // SAFETY: a non-zero MALLOC was stored from a `MallocFn` by
        // uv_replace_allocator, whose caller vouches it behaves as malloc.
        f => unsafe { std::mem::transmute::<usize, MallocFn>(f)(size) },
    }
}

/// Zeroed allocation with the user's allocator; either count 0 gives NULL.
///
/// # Safety
/// None for the caller, as for [`malloc`].
pub unsafe fn calloc(count: size_t, size: size_t) -> *mut c_void {
    if count == 0 || size == 0 {
        return std::ptr::null_mut();
    }
    match CALLOC.load(Ordering::Acquire) {
        // SAFETY: calloc has no precondition (it checks the product itself).
        0 => unsafe { libc::calloc(count, size) },
        // SAFETY: a non-zero CALLOC was stored from a `CallocFn` by
        // uv_replace_allocator, whose caller vouches it behaves as calloc.
        f => unsafe { std::mem::transmute::<usize, CallocFn>(f)(count, size) },
    }
}

/// Frees with the user's allocator, keeping errno intact as libuv does.
///
/// # Safety
/// `ptr` must be NULL or a block from this module's allocation functions
/// (or from the user's allocator) not yet freed.
pub unsafe fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    let errno = crate::sys::errno();
    match FREE.load(Ordering::Acquire) {
        // SAFETY: `ptr` is a live block of the C library's allocator (the
        // contract: no user allocator was installed).
        0 => unsafe { libc::free(ptr) },
        // SAFETY: a non-zero FREE was stored from a `FreeFn` by
        // uv_replace_allocator; `ptr` is a live block of that allocator.
        f => unsafe { std::mem::transmute::<usize, FreeFn>(f)(ptr) },
    }
    // SAFETY: writing this thread's own errno slot.
    unsafe { *libc::__errno_location() = errno };
}

/// Copies a C string into memory from the user's allocator.
///
/// # Safety
/// `s` must be NULL or a valid NUL-terminated string.
pub unsafe fn strdup(s: *const libc::c_char) -> *mut libc::c_char {
    if s.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `s` is a NUL-terminated string (the contract).
    let len = unsafe { libc::strlen(s) } + 1;
    // SAFETY: no precondition (see `malloc`).
    let p = unsafe { malloc(len) } as *mut libc::c_char;
    if !p.is_null() {
        // SAFETY: `s` has `len` readable bytes with its NUL, and `p` is a
        // fresh block of `len` bytes.
        unsafe { std::ptr::copy_nonoverlapping(s, p, len) };
    }
    p
}

/// Copies a Rust string into a NUL-terminated C string from the user's allocator.
///
/// # Safety
/// None for the caller, as for [`malloc`].
pub unsafe fn strdup_bytes(s: &[u8]) -> *mut libc::c_char {
    // SAFETY: no precondition (see `malloc`).
    let p = unsafe { malloc(s.len() + 1) } as *mut u8;
    if !p.is_null() {
        // SAFETY: `p` is a fresh block of `s.len() + 1` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
            *p.add(s.len()) = 0;
        }
    }
    p as *mut libc::c_char
}

#[no_mangle]
pub unsafe extern "C" fn uv_replace_allocator(
    malloc_func: Option<MallocFn>,
    realloc_func: Option<ReallocFn>,
    calloc_func: Option<CallocFn>,
    free_func: Option<FreeFn>,
) -> c_int {
    match (malloc_func, realloc_func, calloc_func, free_func) {
        (Some(m), Some(r), Some(c), Some(f)) => {
            MALLOC.store(m as usize, Ordering::Release);
            REALLOC.store(r as usize, Ordering::Release);
            CALLOC.store(c as usize, Ordering::Release);
            FREE.store(f as usize, Ordering::Release);
            0
        }
        _ => -libc::EINVAL,
    }
}
