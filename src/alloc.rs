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
pub unsafe fn malloc(size: size_t) -> *mut c_void {
    if size == 0 {
        return std::ptr::null_mut();
    }
    match MALLOC.load(Ordering::Acquire) {
        0 => libc::malloc(size),
        f => std::mem::transmute::<usize, MallocFn>(f)(size),
    }
}

pub unsafe fn calloc(count: size_t, size: size_t) -> *mut c_void {
    if count == 0 || size == 0 {
        return std::ptr::null_mut();
    }
    match CALLOC.load(Ordering::Acquire) {
        0 => libc::calloc(count, size),
        f => std::mem::transmute::<usize, CallocFn>(f)(count, size),
    }
}

/// Frees with the user's allocator, keeping errno intact as libuv does.
pub unsafe fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    let saved = *libc::__errno_location();
    match FREE.load(Ordering::Acquire) {
        0 => libc::free(ptr),
        f => std::mem::transmute::<usize, FreeFn>(f)(ptr),
    }
    *libc::__errno_location() = saved;
}

/// Copies a C string into memory from the user's allocator.
pub unsafe fn strdup(s: *const libc::c_char) -> *mut libc::c_char {
    if s.is_null() {
        return std::ptr::null_mut();
    }
    let len = libc::strlen(s) + 1;
    let p = malloc(len) as *mut libc::c_char;
    if !p.is_null() {
        std::ptr::copy_nonoverlapping(s, p, len);
    }
    p
}

/// Copies a Rust string into a NUL-terminated C string from the user's allocator.
pub unsafe fn strdup_bytes(s: &[u8]) -> *mut libc::c_char {
    let p = malloc(s.len() + 1) as *mut u8;
    if !p.is_null() {
        std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
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
