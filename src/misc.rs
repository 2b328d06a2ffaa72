//! Version queries and small helpers that belong to no other area.

use crate::abi::uv_buf_t;
use libc::{c_char, c_uint};

const VERSION_MAJOR: c_uint = 1;
const VERSION_MINOR: c_uint = 50;
const VERSION_PATCH: c_uint = 0;

/// Static, NUL-terminated: callers keep the pointer forever.
const VERSION_STRING: &[u8] = b"1.50.0\0";

/// `(major << 16) | (minor << 8) | patch`, as UV_VERSION_HEX.
#[no_mangle]
pub extern "C" fn uv_version() -> c_uint {
    (VERSION_MAJOR << 16) | (VERSION_MINOR << 8) | VERSION_PATCH
}

#[no_mangle]
pub extern "C" fn uv_version_string() -> *const c_char {
    VERSION_STRING.as_ptr() as *const c_char
}

#[no_mangle]
pub extern "C" fn uv_buf_init(base: *mut c_char, len: c_uint) -> uv_buf_t {
    uv_buf_t {
        base,
        len: len as usize,
    }
}

/// The bytes in `n` buffers (libuv's uv__count_bufs); wraps rather than
/// panics on an absurd sum, as C's size_t would.
///
/// # Safety
/// `bufs` points to `n` readable uv_buf_t (it may be anything when `n` is 0).
pub unsafe fn count_bufs(bufs: *const uv_buf_t, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: `n` >= 1 readable, aligned entries (contract).
    let bufs = unsafe { std::slice::from_raw_parts(bufs, n) };
    match bufs {
        // The usual case, without a loop's setup.
        [one] => one.len,
        _ => bufs.iter().fold(0usize, |a, b| a.wrapping_add(b.len)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_is_1_50_0() {
        assert_eq!(uv_version(), 0x013200);
        // SAFETY: uv_version_string returns a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(uv_version_string()) };
        assert_eq!(s.to_str().unwrap(), "1.50.0");
    }

    #[test]
    fn count_bufs_sums_lengths() {
        let b = |len| uv_buf_t {
            base: std::ptr::null_mut(),
            len,
        };
        let bufs = [b(3), b(0), b(5), b(usize::MAX)];
        // SAFETY: each count is at most the array's length; 0 reads nothing.
        unsafe {
            assert_eq!(count_bufs(std::ptr::null(), 0), 0);
            assert_eq!(count_bufs(bufs.as_ptr(), 1), 3);
            assert_eq!(count_bufs(bufs.as_ptr(), 3), 8);
            // size_t arithmetic, as C's: wraps instead of panicking.
            assert_eq!(count_bufs(bufs.as_ptr(), 4), 7);
        }
    }

    #[test]
    fn buf_init_keeps_base_and_len() {
        let mut storage = [0 as c_char; 8];
        let b = uv_buf_init(storage.as_mut_ptr(), 8);
        assert_eq!(b.base, storage.as_mut_ptr());
        assert_eq!(b.len, 8);
        let big = uv_buf_init(std::ptr::null_mut(), c_uint::MAX);
        assert_eq!(big.len, c_uint::MAX as usize);
    }
}
