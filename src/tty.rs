//! Terminals: uv_tty_* (terminals as streams, their modes, restoring the
//! terminal from anywhere: uv_tty_reset_mode is called from signal handlers)
//! and uv_guess_handle.

use crate::abi::*;
use crate::stream::{self, BLOCKING_WRITES, READABLE, WRITABLE};
use crate::sys::{errno, retry_eintr, sockopt_int};
use libc::{c_int, c_void};
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

pub const UV_TTY_MODE_NORMAL: c_int = 0;
pub const UV_TTY_MODE_RAW: c_int = 1;
pub const UV_TTY_MODE_IO: c_int = 2;
/// Added in libuv 1.51; on Unix the same as RAW there.
pub const UV_TTY_MODE_RAW_VT: c_int = 3;

/// The terminal state from before the first mode change, for
/// uv_tty_reset_mode. Guarded by a spinlock that is only ever tried, never
/// waited on, from the reset side: a signal handler interrupting a holder
/// must not deadlock.
struct SavedTermios {
    lock: AtomicBool,
    fd: AtomicI32,
    termios: UnsafeCell<MaybeUninit<libc::termios>>,
}
// SAFETY: `termios` is only read or written by a holder of `lock` (the
// set-mode and close paths spin for it, reset only tries it); `fd` and
// `lock` are atomics.
unsafe impl Sync for SavedTermios {}

static SAVED: SavedTermios = SavedTermios {
    lock: AtomicBool::new(false),
    fd: AtomicI32::new(-1),
    termios: UnsafeCell::new(MaybeUninit::zeroed()),
};

fn lock_spin() {
    while SAVED
        .lock
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
}

fn unlock() {
    SAVED.lock.store(false, Ordering::Release);
}

/// tcsetattr, retried on EINTR; 0 or -errno. Async-signal-safe.
///
/// # Safety
/// `t` points to a valid termios.
unsafe fn tcsetattr(fd: c_int, how: c_int, t: *const libc::termios) -> c_int {
    // SAFETY: `t` is a valid termios (caller's contract); tcsetattr only
    // reads it.
    if retry_eintr(|| unsafe { libc::tcsetattr(fd, how, t) }) == 0 {
        0
    } else {
        -errno()
    }
}

/// Whether `fd` is the slave side of a pty (only those can be reopened).
fn is_slave(fd: c_int) -> bool {
    let mut dummy: c_int = 0;
    // SAFETY: TIOCGPTN is _IOR(.., unsigned int): it writes at most one int,
    // into the local `dummy`; on other descriptors it fails.
    unsafe { libc::ioctl(fd, libc::TIOCGPTN, &mut dummy) != 0 }
}

#[no_mangle]
pub unsafe extern "C" fn uv_tty_init(
    loop_: *mut uv_loop_t,
    tty: *mut uv_tty_t,
    fd: c_int,
    _readable: c_int,
) -> c_int {
    if loop_.is_null() || tty.is_null() {
        return -libc::EINVAL;
    }
    // Files and the like cannot be watched by epoll.
    // SAFETY: uv_guess_handle takes no pointers.
    let type_ = unsafe { uv_guess_handle(fd) };
    if type_ == UV_FILE || type_ == UV_UNKNOWN_HANDLE {
        return -libc::EINVAL;
    }
    // SAFETY: F_GETFL takes no pointer argument.
    let saved_flags = retry_eintr(|| unsafe { libc::fcntl(fd, libc::F_GETFL) });
    if saved_flags == -1 {
        return -errno();
    }
    let mode = saved_flags & libc::O_ACCMODE;
    let mut flags = 0u32;
    let mut fd = fd;
    // Reopen the terminal so that non-blocking mode is ours alone and does
    // not leak into other processes sharing the open file (`node | cat`).
    // A pty master cannot be reopened: fall back to blocking writes.
    if type_ == UV_TTY {
        let mut path = [0 as libc::c_char; 256];
        // SAFETY: ttyname_r writes at most path.len() bytes into the local
        // and leaves a C string there on success, which open reads.
        let newfd = unsafe {
            if is_slave(fd) && libc::ttyname_r(fd, path.as_mut_ptr(), path.len()) == 0 {
                libc::open(path.as_ptr(), mode | libc::O_NOCTTY | libc::O_CLOEXEC)
            } else {
                -1
            }
        };
        if newfd < 0 {
            if mode != libc::O_RDONLY {
                flags |= BLOCKING_WRITES;
            }
        } else {
            // Point the caller's descriptor at the new open file too.
            // SAFETY: dup3 and close on descriptors, no pointers; `newfd` is
            // ours, closed once on this error path.
            unsafe {
                let r = libc::dup3(newfd, fd, libc::O_CLOEXEC);
                if r < 0 && errno() != libc::EINVAL {
                    let e = -errno();
                    libc::close(newfd);
                    return e;
                }
            }
            fd = newfd;
        }
    }
    // SAFETY: uv.h: `loop_` is a live loop and `tty` the caller's uv_tty_t
    // to initialise (both non-NULL checked).
    unsafe {
        stream::init(loop_, tty as *mut uv_stream_t, UV_TTY);
        if flags & BLOCKING_WRITES == 0 {
            crate::watcher::set_nonblock(fd, true);
        }
        if mode != libc::O_WRONLY {
            flags |= READABLE;
        }
        if mode != libc::O_RDONLY {
            flags |= WRITABLE;
        }
        stream::open(tty as *mut uv_stream_t, fd, flags);
        (*tty).mode = UV_TTY_MODE_NORMAL;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_tty_set_mode(tty: *mut uv_tty_t, mode: c_int) -> c_int {
    if tty.is_null() || !(UV_TTY_MODE_NORMAL..=UV_TTY_MODE_RAW_VT).contains(&mode) {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `tty` (non-NULL) is a uv_tty_t initialised by
    // uv_tty_init; no user callback runs in here. SAVED.termios is written
    // only while holding SAVED.lock.
    unsafe {
        if (*tty).mode == mode {
            return 0;
        }
        let fd = (*tty).s.io_watcher.fd;
        if (*tty).mode == UV_TTY_MODE_NORMAL {
            let rc = retry_eintr(|| libc::tcgetattr(fd, &mut (*tty).orig_termios));
            if rc == -1 {
                return -errno();
            }
            // The first terminal put out of normal mode is what reset restores.
            lock_spin();
            if SAVED.fd.load(Ordering::Relaxed) == -1 {
                (*SAVED.termios.get()).write((*tty).orig_termios);
                SAVED.fd.store(fd, Ordering::Relaxed);
            }
            unlock();
        }
        let mut tmp = (*tty).orig_termios;
        match mode {
            UV_TTY_MODE_RAW | UV_TTY_MODE_RAW_VT => {
                tmp.c_iflag &=
                    !(libc::BRKINT | libc::ICRNL | libc::INPCK | libc::ISTRIP | libc::IXON);
                tmp.c_oflag |= libc::ONLCR;
                tmp.c_cflag |= libc::CS8;
                tmp.c_lflag &= !(libc::ECHO | libc::ICANON | libc::IEXTEN | libc::ISIG);
                tmp.c_cc[libc::VMIN] = 1;
                tmp.c_cc[libc::VTIME] = 0;
            }
            UV_TTY_MODE_IO => libc::cfmakeraw(&mut tmp),
            _ => {}
        }
        // Applied once pending output has drained.
        let rc = tcsetattr(fd, libc::TCSADRAIN, &tmp);
        if rc == 0 {
            (*tty).mode = mode;
        }
        rc
    }
}

/// uv_close of a tty: restores the saved terminal state when this is the
/// terminal it was saved from.
///
/// # Safety
/// `tty` is a live uv_tty_t being closed on its loop's thread.
pub unsafe fn close(tty: *mut uv_tty_t) {
    // SAFETY: `tty` is live (contract).
    let fd = unsafe { (*tty).s.io_watcher.fd };
    if fd != -1 {
        lock_spin();
        if SAVED.fd.load(Ordering::Relaxed) == fd {
            // SAFETY: we hold SAVED.lock, and fd != -1 means the termios
            // was written (before fd was set).
            unsafe { tcsetattr(fd, libc::TCSANOW, (*SAVED.termios.get()).as_ptr()) };
            SAVED.fd.store(-1, Ordering::Relaxed);
        }
        unlock();
    }
    // SAFETY: `tty` is a live stream being closed (contract).
    unsafe { stream::close(tty as *mut uv_stream_t) };
}

#[no_mangle]
pub unsafe extern "C" fn uv_tty_get_winsize(
    tty: *mut uv_tty_t,
    width: *mut c_int,
    height: *mut c_int,
) -> c_int {
    if tty.is_null() || width.is_null() || height.is_null() {
        return -libc::EINVAL;
    }
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: uv.h: `tty` is an initialised uv_tty_t and `width` / `height`
    // the caller's out-parameters (all non-NULL checked); TIOCGWINSZ writes
    // one winsize into the local `ws`.
    unsafe {
        let fd = (*tty).s.io_watcher.fd;
        let r = retry_eintr(|| {
            libc::ioctl(
                fd,
                libc::TIOCGWINSZ,
                &mut ws as *mut libc::winsize as *mut c_void,
            )
        });
        if r != 0 {
            return -errno();
        }
        *width = ws.ws_col as c_int;
        *height = ws.ws_row as c_int;
    }
    0
}

/// Async-signal-safe: no allocation, no waiting lock, errno preserved.
/// UV_EBUSY when interrupted in the middle of uv_tty_set_mode or a close.
#[no_mangle]
pub unsafe extern "C" fn uv_tty_reset_mode() -> c_int {
    let saved_errno = errno();
    if SAVED.lock.swap(true, Ordering::Acquire) {
        return -libc::EBUSY;
    }
    let mut err = 0;
    let fd = SAVED.fd.load(Ordering::Relaxed);
    if fd != -1 {
        // SAFETY: we hold SAVED.lock, and fd != -1 means the termios was
        // written (before fd was set).
        err = unsafe { tcsetattr(fd, libc::TCSANOW, (*SAVED.termios.get()).as_ptr()) };
    }
    unlock();
    // SAFETY: this thread's errno slot.
    unsafe { *libc::__errno_location() = saved_errno };
    err
}

/// Virtual terminal state is a Windows console notion.
#[no_mangle]
pub unsafe extern "C" fn uv_tty_set_vterm_state(_state: c_int) {}

#[no_mangle]
pub unsafe extern "C" fn uv_tty_get_vterm_state(_state: *mut c_int) -> c_int {
    -libc::ENOTSUP
}

/// What kind of handle a program should open on `file` (libuv's rules):
/// terminals are UV_TTY; regular files and character devices UV_FILE;
/// FIFOs and Unix-domain stream sockets UV_NAMED_PIPE; IPv4/IPv6 stream
/// sockets UV_TCP and datagram sockets UV_UDP; anything else, or a bad
/// descriptor, UV_UNKNOWN_HANDLE.
#[no_mangle]
pub unsafe extern "C" fn uv_guess_handle(file: c_int) -> uv_handle_type {
    if file < 0 {
        return UV_UNKNOWN_HANDLE;
    }
    // SAFETY: isatty takes no pointers.
    if unsafe { libc::isatty(file) } == 1 {
        return UV_TTY;
    }
    // SAFETY: libc::stat is plain data (all-zero valid); fstat fills the local.
    let st = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(file, &mut st) != 0 {
            return UV_UNKNOWN_HANDLE;
        }
        st
    };
    match st.st_mode & libc::S_IFMT {
        // Character devices that are not terminals (/dev/null, ...) are
        // read and written like files.
        libc::S_IFREG | libc::S_IFCHR => return UV_FILE,
        libc::S_IFIFO => return UV_NAMED_PIPE,
        libc::S_IFSOCK => {}
        _ => return UV_UNKNOWN_HANDLE,
    }

    // SAFETY: sockaddr_storage is plain data (all-zero valid); getsockname
    // writes at most `len` bytes into it.
    let ss = unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(file, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
            return UV_UNKNOWN_HANDLE;
        }
        ss
    };
    let Ok(sock_type) = sockopt_int(file, libc::SO_TYPE) else {
        return UV_UNKNOWN_HANDLE;
    };
    let family = c_int::from(ss.ss_family);
    let inet = family == libc::AF_INET || family == libc::AF_INET6;
    match sock_type {
        libc::SOCK_DGRAM if inet => UV_UDP,
        libc::SOCK_STREAM if inet => UV_TCP,
        libc::SOCK_STREAM if family == libc::AF_UNIX => UV_NAMED_PIPE,
        _ => UV_UNKNOWN_HANDLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fd(c_int);
    impl Drop for Fd {
        fn drop(&mut self) {
            // SAFETY: the test's own descriptor, closed once.
            unsafe { libc::close(self.0) };
        }
    }

    fn socket(domain: c_int, ty: c_int) -> Fd {
        // SAFETY: socket takes no pointers.
        let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0);
        Fd(fd)
    }

    #[test]
    fn bad_descriptors_are_unknown() {
        // SAFETY: descriptor calls on a C string literal, no other pointers.
        unsafe {
            assert_eq!(uv_guess_handle(-1), UV_UNKNOWN_HANDLE);
            assert_eq!(uv_guess_handle(c_int::MIN), UV_UNKNOWN_HANDLE);
            let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
            assert!(fd >= 0);
            libc::close(fd);
            assert_eq!(uv_guess_handle(fd), UV_UNKNOWN_HANDLE);
        }
    }

    #[test]
    fn files_devices_and_directories() {
        // SAFETY: open of C string literals; the descriptors are the test's.
        unsafe {
            let f = Fd(libc::open(c"/proc/self/exe".as_ptr(), libc::O_RDONLY));
            assert!(f.0 >= 0);
            assert_eq!(uv_guess_handle(f.0), UV_FILE);
            let null = Fd(libc::open(c"/dev/null".as_ptr(), libc::O_RDWR));
            assert_eq!(uv_guess_handle(null.0), UV_FILE);
            let dir = Fd(libc::open(
                c"/".as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY,
            ));
            assert_eq!(uv_guess_handle(dir.0), UV_UNKNOWN_HANDLE);
        }
    }

    #[test]
    fn pipes_and_unix_sockets_are_named_pipes() {
        // SAFETY: pipe2 / socketpair fill the local two-int array.
        unsafe {
            let mut fds = [0; 2];
            assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
            let (r, w) = (Fd(fds[0]), Fd(fds[1]));
            assert_eq!(uv_guess_handle(r.0), UV_NAMED_PIPE);
            assert_eq!(uv_guess_handle(w.0), UV_NAMED_PIPE);

            assert_eq!(
                libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()),
                0
            );
            let (a, b) = (Fd(fds[0]), Fd(fds[1]));
            assert_eq!(uv_guess_handle(a.0), UV_NAMED_PIPE);
            assert_eq!(uv_guess_handle(b.0), UV_NAMED_PIPE);

            let dgram = socket(libc::AF_UNIX, libc::SOCK_DGRAM);
            assert_eq!(uv_guess_handle(dgram.0), UV_UNKNOWN_HANDLE);
        }
    }

    #[test]
    fn inet_sockets() {
        // SAFETY: descriptor calls only, no pointers.
        unsafe {
            assert_eq!(
                uv_guess_handle(socket(libc::AF_INET, libc::SOCK_STREAM).0),
                UV_TCP
            );
            assert_eq!(
                uv_guess_handle(socket(libc::AF_INET, libc::SOCK_DGRAM).0),
                UV_UDP
            );
            let fd = libc::socket(libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if fd >= 0 {
                let s6 = Fd(fd);
                assert_eq!(uv_guess_handle(s6.0), UV_TCP);
                let u6 = socket(libc::AF_INET6, libc::SOCK_DGRAM);
                assert_eq!(uv_guess_handle(u6.0), UV_UDP);
            }
        }
    }

    #[test]
    fn pseudo_terminal_is_tty() {
        // SAFETY: posix_openpt and uv_guess_handle take no pointers.
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            if m < 0 {
                // Said, not silent: some build sandboxes have no /dev/ptmx.
                eprintln!(
                    "SKIPPED tty::pseudo_terminal_is_tty: posix_openpt fails here (no /dev/ptmx)"
                );
                return;
            }
            let master = Fd(m);
            assert_eq!(uv_guess_handle(master.0), UV_TTY);
        }
    }
}
