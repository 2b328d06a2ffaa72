//! Shared libraries: uv_dlopen, uv_dlsym, uv_dlclose, uv_dlerror.
//!
//! The message of the last failure is copied into `lib->errmsg` (from the
//! user's allocator), because dlerror()'s own buffer is overwritten by the
//! next dl* call on the thread. It is freed on the next error and on close.

use crate::abi::*;
use libc::{c_char, c_int, c_void};

const NO_ERROR: &[u8] = b"no error\0";

/// Replaces `lib->errmsg` with the pending dlerror() text. Returns -1 when
/// there was an error to record, 0 when dlerror() had nothing to say (a
/// symbol whose value really is NULL).
///
/// # Safety
/// `lib` points to a writable uv_lib_t whose `errmsg` is null or a string
/// from `crate::alloc` not yet freed.
unsafe fn record_error(lib: *mut uv_lib_t) -> c_int {
    // SAFETY: dlerror's text is this thread's and stays valid until the next
    // dl* call on it; `lib` and its `errmsg` are as the caller guarantees, and
    // the new message is strdup'ed before anything else can overwrite it.
    unsafe {
        crate::alloc::free((*lib).errmsg as *mut c_void);
        let msg = libc::dlerror();
        if msg.is_null() {
            (*lib).errmsg = std::ptr::null_mut();
            0
        } else {
            (*lib).errmsg = crate::alloc::strdup(msg);
            -1
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_dlopen(filename: *const c_char, lib: *mut uv_lib_t) -> c_int {
    if lib.is_null() {
        return -1;
    }
    // SAFETY: uv.h's contract: `lib` is a writable uv_lib_t (its old
    // contents are not read: uv_dlopen initialises it) and `filename` is
    // null or a NUL-terminated path, as dlopen takes.
    unsafe {
        // Clear any stale error so the one read afterwards is ours.
        libc::dlerror();
        (*lib).errmsg = std::ptr::null_mut();
        (*lib).handle = libc::dlopen(filename, libc::RTLD_LAZY);
        if (*lib).handle.is_null() {
            record_error(lib)
        } else {
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_dlclose(lib: *mut uv_lib_t) {
    if lib.is_null() {
        return;
    }
    // SAFETY: uv.h's contract: `lib` was set up by uv_dlopen, so `errmsg`
    // is null or ours from crate::alloc, and `handle` null or a live dlopen
    // handle; both are nulled so a second close does nothing.
    unsafe {
        crate::alloc::free((*lib).errmsg as *mut c_void);
        (*lib).errmsg = std::ptr::null_mut();
        if !(*lib).handle.is_null() {
            libc::dlclose((*lib).handle);
            (*lib).handle = std::ptr::null_mut();
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_dlsym(
    lib: *mut uv_lib_t,
    name: *const c_char,
    ptr: *mut *mut c_void,
) -> c_int {
    if lib.is_null() || ptr.is_null() {
        return -1;
    }
    // SAFETY: uv.h's contract: `lib` was opened by uv_dlopen (so `errmsg`
    // is null or ours), `name` is a NUL-terminated string and `ptr` a
    // writable pointer slot (both non-null checked above).
    unsafe {
        libc::dlerror();
        *ptr = libc::dlsym((*lib).handle, name);
        if (*ptr).is_null() {
            record_error(lib)
        } else {
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_dlerror(lib: *const uv_lib_t) -> *const c_char {
    if lib.is_null() {
        return NO_ERROR.as_ptr() as *const c_char;
    }
    // SAFETY: uv.h's contract: a non-null `lib` was set up by uv_dlopen.
    let errmsg = unsafe { (*lib).errmsg };
    if errmsg.is_null() {
        NO_ERROR.as_ptr() as *const c_char
    } else {
        errmsg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{CStr, CString};

    fn msg(lib: &uv_lib_t) -> String {
        // SAFETY: uv_dlerror returns "no error" or `lib.errmsg`, which the
        // dl functions keep NUL-terminated; `lib` is borrowed meanwhile.
        unsafe { CStr::from_ptr(uv_dlerror(lib)) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn layout_is_two_pointers() {
        assert_eq!(std::mem::size_of::<uv_lib_t>(), 16);
        assert_eq!(std::mem::offset_of!(uv_lib_t, errmsg), 8);
    }

    #[test]
    fn failed_open_keeps_message_until_close() {
        let mut lib = uv_lib_t {
            handle: std::ptr::null_mut(),
            errmsg: std::ptr::null_mut(),
        };
        assert_eq!(msg(&lib), "no error");
        let path = CString::new("/nonexistent/uvring/load_error.node").unwrap();
        // SAFETY: `path` is a CString; `lib` a local uv_lib_t.
        unsafe {
            assert_eq!(uv_dlopen(path.as_ptr(), &mut lib), -1);
        }
        let first = msg(&lib);
        assert!(
            first.contains("/nonexistent/uvring/load_error.node"),
            "{first}"
        );
        // Another dl* call must not disturb the recorded message.
        // SAFETY: dlerror takes no arguments; its text is not used.
        unsafe { libc::dlerror() };
        assert_eq!(msg(&lib), first);
        // SAFETY: `lib` was set up by uv_dlopen above.
        unsafe { uv_dlclose(&mut lib) };
        assert!(lib.errmsg.is_null());
        assert_eq!(msg(&lib), "no error");
    }

    #[test]
    fn open_libc_and_find_symbols() {
        let mut lib = uv_lib_t {
            handle: std::ptr::null_mut(),
            errmsg: std::ptr::null_mut(),
        };
        let path = CString::new("libc.so.6").unwrap();
        // SAFETY: `lib` is local and opened here; names are CStrings; the
        // symbol `getpid` in libc.so.6 has the type it is transmuted to.
        unsafe {
            assert_eq!(uv_dlopen(path.as_ptr(), &mut lib), 0);
            assert!(!lib.handle.is_null());
            let mut p: *mut c_void = std::ptr::null_mut();
            let name = CString::new("getpid").unwrap();
            assert_eq!(uv_dlsym(&mut lib, name.as_ptr(), &mut p), 0);
            let getpid: extern "C" fn() -> libc::pid_t = std::mem::transmute(p);
            assert_eq!(getpid(), libc::getpid());

            let missing = CString::new("uvring_no_such_symbol").unwrap();
            assert_eq!(uv_dlsym(&mut lib, missing.as_ptr(), &mut p), -1);
            assert!(p.is_null());
            assert!(msg(&lib).contains("uvring_no_such_symbol"));
            // A later failure replaces (and frees) the earlier message.
            let other = CString::new("uvring_other_missing").unwrap();
            assert_eq!(uv_dlsym(&mut lib, other.as_ptr(), &mut p), -1);
            assert!(msg(&lib).contains("uvring_other_missing"));
            uv_dlclose(&mut lib);
            assert!(lib.handle.is_null());
            assert!(lib.errmsg.is_null());
        }
    }
}
