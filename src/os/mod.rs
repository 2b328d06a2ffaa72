//! Operating-system queries: environment, users and groups, host identity,
//! priorities, working directory, resource usage (`user.rs`), process title
//! (`proctitle.rs`), CPU / memory / load (`sysinfo.rs`) and network
//! interfaces (`ifaddrs.rs`).
//!
//! Everything handed to the caller is allocated with `crate::alloc` so that
//! the matching `uv_*_free*` call (and a replaced allocator) sees it.

use crate::abi::*;
use libc::{c_char, c_int, size_t};

mod ifaddrs;
mod proctitle;
mod sysinfo;
mod user;

pub use proctitle::*;

pub type uv_pid_t = libc::pid_t;
pub type uv_uid_t = libc::uid_t;

pub const UV_EINVAL: c_int = -libc::EINVAL;
pub const UV_ENOBUFS: c_int = -libc::ENOBUFS;
pub const UV_ENOENT: c_int = -libc::ENOENT;
pub const UV_ENOMEM: c_int = -libc::ENOMEM;
pub const UV_E2BIG: c_int = -libc::E2BIG;

pub const UV_PRIORITY_LOW: c_int = 19;
pub const UV_PRIORITY_HIGHEST: c_int = -20;

/// The calling thread's errno as a libuv error code.
pub(crate) fn neg_errno() -> c_int {
    // SAFETY: errno is thread-local and always readable.
    -unsafe { *libc::__errno_location() }
}

/// libuv's "copy into a caller's buffer" protocol: on success `*size` is the
/// length without the NUL; when the buffer is too small, `UV_ENOBUFS` and
/// `*size` is the size needed including the NUL. Callers check the
/// arguments first.
///
/// # Safety
/// `size` is valid for reads and writes, and `buffer` is valid for writes of
/// `*size` bytes and does not overlap `src`.
pub(crate) unsafe fn copy_out(src: &[u8], buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: the caller guarantees `size` is readable and writable, and
    // `buffer` holds `*size` > `src.len()` bytes when we reach the copy.
    unsafe {
        if src.len() >= *size {
            *size = src.len() + 1;
            return UV_ENOBUFS;
        }
        std::ptr::copy_nonoverlapping(src.as_ptr(), buffer as *mut u8, src.len());
        *buffer.add(src.len()) = 0;
        *size = src.len();
    }
    0
}

/// Reads a whole (usually /proc or /sys) file; Err is the libuv error code.
pub(crate) fn slurp(path: &[u8]) -> Result<Vec<u8>, c_int> {
    use std::os::unix::ffi::OsStrExt;
    std::fs::read(std::ffi::OsStr::from_bytes(path))
        .map_err(|e| -e.raw_os_error().unwrap_or(libc::EIO))
}

/// Bytes of a C string (without the NUL); empty for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn cstr_bytes<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL, so a NUL-terminated string living for 'a (caller's contract).
        unsafe { std::ffi::CStr::from_ptr(p).to_bytes() }
    }
}

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    // Numbers from libuv 1.50's uv.h compiled for x86_64 / aarch64 glibc.
    #[test]
    fn sizes_and_offsets() {
        assert_eq!(size_of::<uv_cpu_times_s>(), 40);
        assert_eq!(size_of::<uv_cpu_info_t>(), 56);
        assert_eq!(offset_of!(uv_cpu_info_t, speed), 8);
        assert_eq!(offset_of!(uv_cpu_info_t, cpu_times), 16);

        assert_eq!(size_of::<uv_interface_address_t>(), 80);
        assert_eq!(align_of::<uv_interface_address_t>(), 8);
        assert_eq!(offset_of!(uv_interface_address_t, phys_addr), 8);
        assert_eq!(offset_of!(uv_interface_address_t, is_internal), 16);
        assert_eq!(offset_of!(uv_interface_address_t, address), 20);
        assert_eq!(offset_of!(uv_interface_address_t, netmask), 48);

        assert_eq!(size_of::<uv_passwd_t>(), 40);
        assert_eq!(offset_of!(uv_passwd_t, uid), 8);
        assert_eq!(offset_of!(uv_passwd_t, gid), 16);
        assert_eq!(offset_of!(uv_passwd_t, shell), 24);
        assert_eq!(offset_of!(uv_passwd_t, homedir), 32);

        assert_eq!(size_of::<uv_group_t>(), 24);
        assert_eq!(offset_of!(uv_group_t, gid), 8);
        assert_eq!(offset_of!(uv_group_t, members), 16);

        assert_eq!(size_of::<uv_utsname_t>(), 1024);
        assert_eq!(offset_of!(uv_utsname_t, release), 256);
        assert_eq!(offset_of!(uv_utsname_t, version), 512);
        assert_eq!(offset_of!(uv_utsname_t, machine), 768);

        assert_eq!(size_of::<uv_timeval_t>(), 16);
        assert_eq!(size_of::<uv_rusage_t>(), 144);
        assert_eq!(offset_of!(uv_rusage_t, ru_stime), 16);
        assert_eq!(offset_of!(uv_rusage_t, ru_maxrss), 32);
        assert_eq!(offset_of!(uv_rusage_t, ru_majflt), 72);
        assert_eq!(offset_of!(uv_rusage_t, ru_nivcsw), 136);

        assert_eq!(size_of::<uv_env_item_t>(), 16);
        assert_eq!(offset_of!(uv_env_item_t, value), 8);
    }
}
