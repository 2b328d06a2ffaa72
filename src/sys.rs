//! What every area shares about system calls: errno, the EINTR retry, an
//! int socket option and the kernel's limit on an I/O vector.

use libc::c_int;

/// The most buffers one readv/writev (or ring entry) takes: the kernel's
/// UIO_MAXIOV; longer lists are split by the callers.
pub const IOV_MAX: usize = 1024;

/// The calling thread's errno, positive.
pub fn errno() -> c_int {
    // SAFETY: __errno_location always returns this thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// Calls `f` again for as long as it fails (-1) with EINTR, and returns its
/// first other result: the one loop for system calls a signal may interrupt.
/// Not for close(2), where EINTR already means the descriptor is gone.
pub fn retry_eintr<T: PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> T {
    loop {
        let r = f();
        if r != T::from(-1) || errno() != libc::EINTR {
            return r;
        }
    }
}

/// An int-valued SOL_SOCKET option of `fd` (SO_TYPE, SO_ERROR, ...), or the
/// positive errno of the failed getsockopt.
pub fn sockopt_int(fd: c_int, name: c_int) -> Result<c_int, c_int> {
    let mut v: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are writable locals and `len` is `v`'s size, so
    // the kernel writes at most that int.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            &mut v as *mut c_int as *mut libc::c_void,
            &mut len,
        )
    };
    if r == 0 {
        Ok(v)
    } else {
        Err(errno())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_eintr_retries_only_eintr() {
        let mut calls = 0;
        let r = retry_eintr(|| {
            calls += 1;
            // SAFETY: writing this thread's own errno slot.
            unsafe {
                *libc::__errno_location() = if calls < 3 { libc::EINTR } else { libc::EBADF }
            };
            -1isize
        });
        assert_eq!((r, calls, errno()), (-1, 3, libc::EBADF));
        assert_eq!(retry_eintr(|| 7i32), 7);
    }
}
