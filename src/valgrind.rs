//! Valgrind client requests for the I/O the kernel does through the ring.
//!
//! Memcheck sees a read(2) or statx(2) and checks its buffers; it does not see
//! what the kernel does for a ring entry. So the ring's file path says it
//! itself: the buffers of an entry are checked when it is built (a freed or
//! too-small buffer is reported there, as at a system call) and the bytes the
//! kernel wrote are marked defined when it completes. Outside Valgrind a
//! request is a few rotate instructions that leave the register unchanged, and
//! the answer is the default (0): nothing happens.
//!
//! The requests are Valgrind's documented ABI (valgrind.h, memcheck.h): the
//! "special instruction" preamble, the request block's address in one
//! register and the answer in another.

use libc::{c_void, iovec};

/// memcheck.h's requests are numbered from the tool base 'M' 'C'.
const MC_BASE: usize = (b'M' as usize) << 24 | (b'C' as usize) << 16;
const CHECK_MEM_IS_ADDRESSABLE: usize = MC_BASE + 4;
const CHECK_MEM_IS_DEFINED: usize = MC_BASE + 5;
const MAKE_MEM_DEFINED_IF_ADDRESSABLE: usize = MC_BASE + 11;

/// Sends one client request; `default` comes back when not under Valgrind.
#[cfg(target_arch = "x86_64")]
fn request(default: usize, args: [usize; 6]) -> usize {
    let mut res = default;
    // SAFETY: the rotates of rdi add up to 128 bits (rdi unchanged) and
    // `xchg rbx, rbx` is a no-op: natively nothing is read or written. Under
    // Valgrind the block at rax is read (it lives on this frame) and rdx gets
    // the answer. Valgrind may read the memory the request names; it never
    // writes ours.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") res,
            out("rdi") _,
        );
    }
    res
}

#[cfg(target_arch = "aarch64")]
fn request(default: usize, args: [usize; 6]) -> usize {
    let mut res = default;
    // SAFETY: the rotates of x12 add up to 128 bits (x12 unchanged) and
    // `orr x10, x10, x10` is a no-op: natively nothing is read or written.
    // Under Valgrind the block at x4 is read (it lives on this frame) and x3
    // gets the answer.
    unsafe {
        std::arch::asm!(
            "ror x12, x12, #3", "ror x12, x12, #13", "ror x12, x12, #51", "ror x12, x12, #61",
            "orr x10, x10, x10",
            in("x4") args.as_ptr(),
            inout("x3") res,
            out("x12") _,
        );
    }
    res
}

/// Elsewhere there is no Valgrind port to speak to.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn request(default: usize, _args: [usize; 6]) -> usize {
    default
}

fn mem_request(code: usize, p: *const c_void, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    request(0, [code, p as usize, len, 0, 0, 0])
}

/// Reports (under memcheck) any byte of `p..p+len` that is not addressable:
/// what it says of a buffer a read(2) would fill.
pub fn check_addressable(p: *const c_void, len: usize) {
    mem_request(CHECK_MEM_IS_ADDRESSABLE, p, len);
}

/// Reports any byte of `p..p+len` that is not defined: what it says of a
/// buffer a write(2) would send.
pub fn check_defined(p: *const c_void, len: usize) {
    mem_request(CHECK_MEM_IS_DEFINED, p, len);
}

/// Tells memcheck the kernel wrote `p..p+len`: first reports any byte of it
/// that is no longer addressable (a buffer freed while the kernel filled it,
/// which a read(2) would have reported at the call), then marks the rest
/// defined (a freed byte stays unaddressable, so later uses are caught too).
pub fn kernel_wrote(p: *const c_void, len: usize) {
    check_addressable(p, len);
    mem_request(MAKE_MEM_DEFINED_IF_ADDRESSABLE, p, len);
}

/// The same checks for each buffer of an I/O vector; `write` picks which.
///
/// # Safety
/// `iov` points to `n` readable iovecs (their buffers are only named to
/// Valgrind, never touched here).
pub unsafe fn check_iov(iov: *const iovec, n: usize, write: bool) {
    for i in 0..n {
        // SAFETY: i < n (contract).
        let v = unsafe { &*iov.add(i) };
        if write {
            check_defined(v.iov_base, v.iov_len);
        } else {
            check_addressable(v.iov_base, v.iov_len);
        }
    }
}

/// `kernel_wrote` for the first `done` bytes of an I/O vector: a read that
/// returned `done` filled the buffers in order.
///
/// # Safety
/// As for `check_iov`.
pub unsafe fn kernel_wrote_iov(iov: *const iovec, n: usize, mut done: usize) {
    for i in 0..n {
        if done == 0 {
            break;
        }
        // SAFETY: i < n (contract).
        let v = unsafe { &*iov.add(i) };
        let len = v.iov_len.min(done);
        kernel_wrote(v.iov_base, len);
        done -= len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Natively every request is the default: nothing checked, nothing changed.
    #[test]
    fn requests_are_no_ops_natively() {
        let buf = [7u8; 16];
        let p = buf.as_ptr() as *const c_void;
        assert_eq!(
            request(42, [CHECK_MEM_IS_ADDRESSABLE, p as usize, 16, 0, 0, 0]),
            42
        );
        check_addressable(p, 16);
        check_defined(p, 16);
        kernel_wrote(p, 16);
        let iov = [iovec {
            iov_base: p as *mut c_void,
            iov_len: 16,
        }];
        // SAFETY: one iovec over `buf`.
        unsafe {
            check_iov(iov.as_ptr(), 1, true);
            kernel_wrote_iov(iov.as_ptr(), 1, 10);
        }
        assert_eq!(buf, [7u8; 16]);
    }
}
