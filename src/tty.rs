//! uv_tty_*: terminals as streams, their modes, and restoring the terminal
//! from anywhere (uv_tty_reset_mode is called from signal handlers).

use crate::abi::*;
use crate::stream::{self, errno, BLOCKING_WRITES, READABLE, WRITABLE};
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
// Access to `termios` is serialised by `lock`.
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

unsafe fn tcsetattr(fd: c_int, how: c_int, t: *const libc::termios) -> c_int {
    loop {
        if libc::tcsetattr(fd, how, t) == 0 {
            return 0;
        }
        let e = errno();
        if e != libc::EINTR {
            return -e;
        }
    }
}

/// Whether `fd` is the slave side of a pty (only those can be reopened).
unsafe fn is_slave(fd: c_int) -> bool {
    let mut dummy: c_int = 0;
    libc::ioctl(fd, libc::TIOCGPTN, &mut dummy) != 0
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
    let type_ = stream::guess_type(fd);
    if type_ == UV_FILE || type_ == UV_UNKNOWN_HANDLE {
        return -libc::EINVAL;
    }
    let saved_flags = loop {
        let f = libc::fcntl(fd, libc::F_GETFL);
        if f != -1 || errno() != libc::EINTR {
            break f;
        }
    };
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
        let newfd = if is_slave(fd) && libc::ttyname_r(fd, path.as_mut_ptr(), path.len()) == 0 {
            libc::open(path.as_ptr(), mode | libc::O_NOCTTY | libc::O_CLOEXEC)
        } else {
            -1
        };
        if newfd < 0 {
            if mode != libc::O_RDONLY {
                flags |= BLOCKING_WRITES;
            }
        } else {
            // Point the caller's descriptor at the new open file too.
            let r = libc::dup3(newfd, fd, libc::O_CLOEXEC);
            if r < 0 && errno() != libc::EINVAL {
                let e = -errno();
                libc::close(newfd);
                return e;
            }
            fd = newfd;
        }
    }
    stream::init(loop_, tty as *mut uv_stream_t, UV_TTY);
    if flags & BLOCKING_WRITES == 0 {
        crate::backend::watcher::set_nonblock(fd, true);
    }
    if mode != libc::O_WRONLY {
        flags |= READABLE;
    }
    if mode != libc::O_RDONLY {
        flags |= WRITABLE;
    }
    stream::open(tty as *mut uv_stream_t, fd, flags);
    (*tty).mode = UV_TTY_MODE_NORMAL;
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_tty_set_mode(tty: *mut uv_tty_t, mode: c_int) -> c_int {
    if tty.is_null() || !(UV_TTY_MODE_NORMAL..=UV_TTY_MODE_RAW_VT).contains(&mode) {
        return -libc::EINVAL;
    }
    if (*tty).mode == mode {
        return 0;
    }
    let fd = (*tty).s.io_watcher.fd;
    if (*tty).mode == UV_TTY_MODE_NORMAL {
        let rc = loop {
            let rc = libc::tcgetattr(fd, &mut (*tty).orig_termios);
            if rc != -1 || errno() != libc::EINTR {
                break rc;
            }
        };
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
            tmp.c_iflag &= !(libc::BRKINT | libc::ICRNL | libc::INPCK | libc::ISTRIP | libc::IXON);
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

/// uv_close of a tty: restores the saved terminal state when this is the
/// terminal it was saved from.
pub unsafe fn close(tty: *mut uv_tty_t) {
    let fd = (*tty).s.io_watcher.fd;
    if fd != -1 {
        lock_spin();
        if SAVED.fd.load(Ordering::Relaxed) == fd {
            tcsetattr(fd, libc::TCSANOW, (*SAVED.termios.get()).as_ptr());
            SAVED.fd.store(-1, Ordering::Relaxed);
        }
        unlock();
    }
    stream::close(tty as *mut uv_stream_t);
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
    let mut ws: libc::winsize = std::mem::zeroed();
    loop {
        if libc::ioctl(
            (*tty).s.io_watcher.fd,
            libc::TIOCGWINSZ,
            &mut ws as *mut libc::winsize as *mut c_void,
        ) == 0
        {
            break;
        }
        let e = errno();
        if e != libc::EINTR {
            return -e;
        }
    }
    *width = ws.ws_col as c_int;
    *height = ws.ws_row as c_int;
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
        err = tcsetattr(fd, libc::TCSANOW, (*SAVED.termios.get()).as_ptr());
    }
    unlock();
    *libc::__errno_location() = saved_errno;
    err
}

/// Virtual terminal state is a Windows console notion.
#[no_mangle]
pub unsafe extern "C" fn uv_tty_set_vterm_state(_state: c_int) {}

#[no_mangle]
pub unsafe extern "C" fn uv_tty_get_vterm_state(_state: *mut c_int) -> c_int {
    -libc::ENOTSUP
}
