//! uv_setup_args, uv_get_process_title, uv_set_process_title.
//!
//! As in libuv, the title is written over the original argv strings (so
//! `ps` and /proc/PID/cmdline show it), which is why uv_setup_args hands the
//! caller a private copy of argv first. Before uv_setup_args (or after it
//! failed) there is no area to write to, and both calls report UV_ENOBUFS.

use super::*;
use crate::alloc;
use libc::{c_char, c_int, c_void, size_t};
use std::sync::Mutex;

struct Title {
    /// Start of the original argv area (argv[0]); the title lives here.
    area: *mut c_char,
    /// Length of the current title.
    len: usize,
    /// Bytes we may write at `area`, NUL included.
    cap: usize,
    /// The argv copy returned by uv_setup_args (NULL: not set up).
    args_mem: *mut c_void,
}

// The pointers refer to process-wide memory; every access holds the lock.
unsafe impl Send for Title {}

static TITLE: Mutex<Title> = Mutex::new(Title {
    area: std::ptr::null_mut(),
    len: 0,
    cap: 0,
    args_mem: std::ptr::null_mut(),
});

fn title() -> std::sync::MutexGuard<'static, Title> {
    // A poisoned lock only means a panic elsewhere; the data is plain.
    TITLE.lock().unwrap_or_else(|e| e.into_inner())
}

#[no_mangle]
pub unsafe extern "C" fn uv_setup_args(argc: c_int, argv: *mut *mut c_char) -> *mut *mut c_char {
    if argc <= 0 || argv.is_null() {
        return argv;
    }
    let argc = argc as usize;
    let mut lens = Vec::with_capacity(argc);
    for i in 0..argc {
        let a = *argv.add(i);
        if a.is_null() {
            return argv;
        }
        lens.push(libc::strlen(a) + 1);
    }

    // One block: argc + 1 pointers, then the strings.
    let table = (argc + 1) * std::mem::size_of::<*mut c_char>();
    let total = table + lens.iter().sum::<usize>();
    let new_argv = alloc::malloc(total) as *mut *mut c_char;
    if new_argv.is_null() {
        return argv;
    }
    let mut s = (new_argv as *mut u8).add(table) as *mut c_char;
    for (i, &len) in lens.iter().enumerate() {
        std::ptr::copy_nonoverlapping(*argv.add(i), s, len);
        *new_argv.add(i) = s;
        s = s.add(len);
    }
    *new_argv.add(argc) = std::ptr::null_mut();

    // The writable area is argv[0] plus every following string that sits
    // right behind the previous one (the kernel lays real argv out that
    // way). libuv assumes contiguity; checking it keeps a hand-made argv
    // from being overrun.
    let area = *argv;
    let mut cap = 0;
    for (i, &len) in lens.iter().enumerate() {
        if i > 0 && *argv.add(i) != area.add(cap) {
            break;
        }
        cap += len;
    }

    let mut t = title();
    t.area = area;
    t.len = libc::strlen(area);
    t.cap = cap;
    t.args_mem = new_argv as *mut c_void;
    new_argv
}

#[no_mangle]
pub unsafe extern "C" fn uv_set_process_title(title_: *const c_char) -> c_int {
    let mut t = title();
    if t.args_mem.is_null() {
        return UV_ENOBUFS;
    }
    if title_.is_null() {
        return UV_EINVAL;
    }
    let mut len = libc::strlen(title_);
    // Too long: libuv truncates to the area.
    if len >= t.cap {
        len = t.cap.saturating_sub(1);
    }
    std::ptr::copy(title_, t.area, len);
    std::ptr::write_bytes(t.area.add(len), 0, t.cap - len);
    t.len = len;
    // Also the name in /proc/PID/comm (first 15 bytes), as libuv does.
    libc::prctl(libc::PR_SET_NAME, t.area as libc::c_ulong, 0, 0, 0);
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_get_process_title(buffer: *mut c_char, size: size_t) -> c_int {
    if buffer.is_null() || size == 0 {
        return UV_EINVAL;
    }
    let t = title();
    if t.args_mem.is_null() || size <= t.len {
        return UV_ENOBUFS;
    }
    std::ptr::copy_nonoverlapping(t.area, buffer, t.len);
    *buffer.add(t.len) = 0;
    0
}

/// Frees the argv copy (libuv does this in uv_library_shutdown); afterwards
/// the title calls behave as before uv_setup_args.
pub fn process_title_cleanup() {
    let mut t = title();
    // SAFETY: args_mem came from alloc::malloc in uv_setup_args.
    unsafe { alloc::free(t.args_mem) };
    t.args_mem = std::ptr::null_mut();
    t.area = std::ptr::null_mut();
    t.len = 0;
    t.cap = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    // The only test touching the process-wide title state.
    #[test]
    fn title_lifecycle() {
        unsafe {
            let mut buf = [0 as c_char; 512];
            assert_eq!(uv_get_process_title(std::ptr::null_mut(), 100), UV_EINVAL);
            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 0), UV_EINVAL);
            // Not set up yet.
            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 512), UV_ENOBUFS);
            assert_eq!(uv_set_process_title(c"x".as_ptr()), UV_ENOBUFS);

            // A kernel-like argv: strings back to back. Leaked on purpose,
            // the title state keeps pointing at it.
            let area: &'static mut [u8] =
                Box::leak(b"prog\0--flag\0arg\0".to_vec().into_boxed_slice());
            let base = area.as_mut_ptr() as *mut c_char;
            let argv: &'static mut [*mut c_char; 4] = Box::leak(Box::new([
                base,
                base.add(5),
                base.add(12),
                std::ptr::null_mut(),
            ]));
            let copy = uv_setup_args(3, argv.as_mut_ptr());
            assert!(!copy.is_null() && copy != argv.as_mut_ptr());
            assert_eq!(CStr::from_ptr(*copy.add(1)).to_bytes(), b"--flag");
            assert!((*copy.add(3)).is_null());

            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 512), 0);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_bytes(), b"prog");
            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 4), UV_ENOBUFS);

            assert_eq!(uv_set_process_title(c"%s%s new".as_ptr()), 0);
            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 512), 0);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_bytes(), b"%s%s new");
            // The copy survives the overwrite of the original area.
            assert_eq!(CStr::from_ptr(*copy.add(2)).to_bytes(), b"arg");

            // Longer than the 16-byte area: truncated to 15 characters.
            assert_eq!(uv_set_process_title(c"0123456789abcdefghij".as_ptr()), 0);
            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 512), 0);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_bytes(), b"0123456789abcde");
            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 1), UV_ENOBUFS);

            process_title_cleanup();
            assert_eq!(uv_get_process_title(buf.as_mut_ptr(), 512), UV_ENOBUFS);
        }
    }
}
