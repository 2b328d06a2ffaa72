//! What every area shares about system calls: errno and the kernel's limit
//! on an I/O vector.

use libc::c_int;

/// The most buffers one readv/writev (or ring entry) takes: the kernel's
/// UIO_MAXIOV; longer lists are split by the callers.
pub const IOV_MAX: usize = 1024;

/// The calling thread's errno, positive.
pub fn errno() -> c_int {
    // SAFETY: __errno_location always returns this thread's errno slot.
    unsafe { *libc::__errno_location() }
}
