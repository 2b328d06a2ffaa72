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

// SAFETY: the pointers refer to process-wide memory (the original argv
// area and our argv copy), tied to no thread; every access holds TITLE's lock.
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
        // SAFETY: uv.h / main(): `argv` holds `argc` entries, each NULL or a
        // C string.
        let a = unsafe { *argv.add(i) };
        if a.is_null() {
            return argv;
        }
        // SAFETY: `a` is a non-NULL C string of argv.
        lens.push(unsafe { libc::strlen(a) } + 1);
    }

    // One block: argc + 1 pointers, then the strings.
    let table = (argc + 1) * std::mem::size_of::<*mut c_char>();
    let total = table + lens.iter().sum::<usize>();
    // SAFETY: plain allocation; the result is checked for NULL.
    let new_argv = unsafe { alloc::malloc(total) } as *mut *mut c_char;
    if new_argv.is_null() {
        return argv;
    }
    // SAFETY: `new_argv` is `table` bytes of argc + 1 pointer slots (malloc's
    // alignment suits pointers) then room for each argv string with its NUL
    // (`lens`, measured above); the sources are argv's strings.
    unsafe {
        let mut s = (new_argv as *mut u8).add(table) as *mut c_char;
        for (i, &len) in lens.iter().enumerate() {
            std::ptr::copy_nonoverlapping(*argv.add(i), s, len);
            *new_argv.add(i) = s;
            s = s.add(len);
        }
        *new_argv.add(argc) = std::ptr::null_mut();
    }

    // The writable area is argv[0] plus every following string that sits
    // right behind the previous one (the kernel lays real argv out that
    // way). libuv assumes contiguity; checking it keeps a hand-made argv
    // from being overrun.
    // SAFETY: argc >= 1 entries, all non-NULL (checked above).
    let area = unsafe { *argv };
    let mut cap = 0;
    for (i, &len) in lens.iter().enumerate() {
        // SAFETY: i < argc entries of argv. (`area + cap` is only compared,
        // hence wrapping_add: no in-bounds claim about a hand-made argv.)
        if i > 0 && unsafe { *argv.add(i) } != area.wrapping_add(cap) {
            break;
        }
        cap += len;
    }

    let mut t = title();
    t.area = area;
    // SAFETY: `area` is argv[0], a C string.
    t.len = unsafe { libc::strlen(area) };
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
    // SAFETY: uv.h: `title_` is a C string (non-NULL checked).
    let mut len = unsafe { libc::strlen(title_) };
    // Too long: libuv truncates to the area.
    if len >= t.cap {
        len = t.cap.saturating_sub(1);
    }
    // SAFETY: args_mem is set, so `area` is the `cap` (>= 1) writable bytes
    // of the original argv that uv_setup_args measured; len < cap. `copy`
    // allows `title_` to overlap the area (a title read back from it).
    // After this the area holds a C string, which prctl reads.
    unsafe {
        std::ptr::copy(title_, t.area, len);
        std::ptr::write_bytes(t.area.add(len), 0, t.cap - len);
    }
    t.len = len;
    // Also the name in /proc/PID/comm (first 15 bytes), as libuv does.
    // SAFETY: as above, `area` is a C string; the lock is still held.
    unsafe { libc::prctl(libc::PR_SET_NAME, t.area as libc::c_ulong, 0, 0, 0) };
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
    // SAFETY: args_mem is set, so `area` holds the title's `len` bytes
    // (under the lock); uv.h: `buffer` holds `size` > len bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(t.area, buffer, t.len);
        *buffer.add(t.len) = 0;
    }
    0
}

/// Frees the argv copy (libuv does this in uv_library_shutdown); afterwards
/// the title calls behave as before uv_setup_args.
pub fn process_title_cleanup() {
    let mut t = title();
    // SAFETY: args_mem is NULL or came from alloc::malloc in uv_setup_args,
    // and is cleared under the same lock, so it is freed once.
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
        // SAFETY: the argv area and table are leaked, so they outlive the
        // title state that points at them; `buf` is a local of its true size.
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
