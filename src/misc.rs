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
    fn buf_init_keeps_base_and_len() {
        let mut storage = [0 as c_char; 8];
        let b = uv_buf_init(storage.as_mut_ptr(), 8);
        assert_eq!(b.base, storage.as_mut_ptr());
        assert_eq!(b.len, 8);
        let big = uv_buf_init(std::ptr::null_mut(), c_uint::MAX);
        assert_eq!(big.len, c_uint::MAX as usize);
    }
}
