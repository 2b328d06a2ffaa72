//! uv_spawn and friends: child processes, their stdio, and their exit.
//!
//! Exits are noticed through SIGCHLD, watched by the loop's internal
//! `child_watcher` signal handle; every live child of the loop is then
//! polled with waitpid(WNOHANG), as libuv does on Linux.

use crate::abi::*;
use crate::handle;
use crate::queue;
use crate::sys::{errno, retry_eintr};
use libc::{c_char, c_int, c_uint, c_void};

pub const UV_PROCESS_SETUID: c_uint = 1 << 0;
pub const UV_PROCESS_SETGID: c_uint = 1 << 1;
pub const UV_PROCESS_DETACHED: c_uint = 1 << 3;
// Bits 2 and 4-7 are Windows-only flags, accepted and ignored as libuv does.
const KNOWN_FLAGS: c_uint = (1 << 8) - 1;

pub const UV_CREATE_PIPE: c_int = 0x01;
pub const UV_INHERIT_FD: c_int = 0x02;
pub const UV_INHERIT_STREAM: c_int = 0x04;
pub const UV_READABLE_PIPE: c_int = 0x10;
pub const UV_WRITABLE_PIPE: c_int = 0x20;

extern "C" {
    static mut environ: *mut *mut c_char;
}

unsafe extern "C" fn on_sigchld(h: *mut uv_signal_t, _signum: c_int) {
    wait_children((*h).h.loop_);
}

/// Reaps every exited child of this loop and calls their exit callbacks.
unsafe fn wait_children(loop_: *mut uv_loop_t) {
    let mut done = uv__queue {
        next: std::ptr::null_mut(),
        prev: std::ptr::null_mut(),
    };
    let done_ptr: *mut uv__queue = &mut done;
    queue::init(done_ptr);
    let head: *mut uv__queue = &mut (*loop_).process_handles;
    let mut q = (*head).next;
    while q != head {
        let p = crate::container_of!(q, uv_process_t, queue);
        q = (*q).next;
        let mut status = 0;
        let pid = loop {
            let r = libc::waitpid((*p).pid, &mut status, libc::WNOHANG);
            if r == -1 && errno() == libc::EINTR {
                continue;
            }
            break r;
        };
        // 0: still running. -1: someone else reaped it; nothing to report.
        if pid <= 0 {
            continue;
        }
        (*p).status = status;
        queue::remove(&mut (*p).queue);
        queue::insert_tail(done_ptr, &mut (*p).queue);
    }
    while !queue::is_empty(done_ptr) {
        let q = queue::head(done_ptr);
        queue::remove(q);
        let p = crate::container_of!(q, uv_process_t, queue);
        handle::stop(p as *mut uv_handle_t);
        let Some(cb) = (*p).exit_cb else { continue };
        let st = (*p).status;
        let exit_status = if libc::WIFEXITED(st) {
            libc::WEXITSTATUS(st)
        } else {
            0
        };
        let term_signal = if libc::WIFSIGNALED(st) {
            libc::WTERMSIG(st)
        } else {
            0
        };
        cb(p, exit_status as i64, term_signal);
    }
}

/// The loop's SIGCHLD watcher, created on first use.
unsafe fn child_watcher(loop_: *mut uv_loop_t) -> Result<*mut uv_signal_t, c_int> {
    let w: *mut uv_signal_t = &mut (*loop_).child_watcher;
    if (*w).h.type_ != UV_SIGNAL {
        let err = crate::signal::uv_signal_init(loop_, w);
        if err != 0 {
            return Err(err);
        }
        handle::unref(w as *mut uv_handle_t);
        (*w).h.flags |= handle::INTERNAL;
    }
    Ok(w)
}

/// Writes `errno` to the error pipe and exits; only async-signal-safe calls
/// are allowed between fork and exec.
unsafe fn child_fail(error_fd: c_int, err: c_int) -> ! {
    let v: c_int = -err.abs();
    libc::write(
        error_fd,
        &v as *const c_int as *const c_void,
        std::mem::size_of::<c_int>(),
    );
    libc::_exit(127);
}

/// Runs in the forked child: set up stdio, session, cwd, ids, then exec.
unsafe fn child_init(
    options: &uv_process_options_t,
    pipes: &mut [[c_int; 2]],
    error_fd: c_int,
) -> ! {
    let stdio_count = pipes.len() as c_int;
    for n in 1..32 {
        if n == libc::SIGKILL || n == libc::SIGSTOP {
            continue;
        }
        if libc::signal(n, libc::SIG_DFL) == libc::SIG_ERR {
            child_fail(error_fd, errno());
        }
    }
    if options.flags & UV_PROCESS_DETACHED != 0 {
        libc::setsid();
    }
    // Move descriptors that would be overwritten by a lower dup2 out of the way.
    for fd in 0..stdio_count {
        let use_fd = pipes[fd as usize][1];
        if use_fd < 0 || use_fd >= fd {
            continue;
        }
        let moved = libc::fcntl(use_fd, libc::F_DUPFD_CLOEXEC, stdio_count);
        if moved == -1 {
            child_fail(error_fd, errno());
        }
        pipes[fd as usize][1] = moved;
    }
    for fd in 0..stdio_count {
        let mut use_fd = pipes[fd as usize][1];
        let mut close_fd = -1;
        if use_fd < 0 {
            if fd >= 3 {
                continue;
            }
            // Unused stdio slots get /dev/null, never a stray descriptor.
            libc::close(fd);
            use_fd = libc::open(
                c"/dev/null".as_ptr(),
                if fd == 0 {
                    libc::O_RDONLY
                } else {
                    libc::O_RDWR
                },
            );
            close_fd = use_fd;
            if use_fd < 0 {
                child_fail(error_fd, errno());
            }
        }
        let r = if fd == use_fd {
            if close_fd == -1 {
                let flags = libc::fcntl(use_fd, libc::F_GETFD);
                libc::fcntl(use_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC)
            } else {
                0
            }
        } else {
            libc::dup2(use_fd, fd)
        };
        if r == -1 {
            child_fail(error_fd, errno());
        }
        if fd <= 2 && close_fd == -1 {
            let fl = libc::fcntl(fd, libc::F_GETFL);
            if fl >= 0 && fl & libc::O_NONBLOCK != 0 {
                libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_NONBLOCK);
            }
        }
        if close_fd >= stdio_count {
            libc::close(close_fd);
        }
    }
    if !options.cwd.is_null() && libc::chdir(options.cwd) != 0 {
        child_fail(error_fd, errno());
    }
    if options.flags & (UV_PROCESS_SETUID | UV_PROCESS_SETGID) != 0 {
        // Drop supplementary groups; failing is fine when not privileged.
        let saved = errno();
        libc::setgroups(0, std::ptr::null());
        *libc::__errno_location() = saved;
    }
    if options.flags & UV_PROCESS_SETGID != 0 && libc::setgid(options.gid) != 0 {
        child_fail(error_fd, errno());
    }
    if options.flags & UV_PROCESS_SETUID != 0 && libc::setuid(options.uid) != 0 {
        child_fail(error_fd, errno());
    }
    if !options.env.is_null() {
        environ = options.env;
    }
    let empty: libc::sigset_t = std::mem::zeroed();
    let mut set = empty;
    libc::sigemptyset(&mut set);
    libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    libc::execvp(options.file, options.args as *const *const c_char);
    child_fail(error_fd, errno());
}

/// Forks and execs; returns 0 or the child's setup/exec error.
unsafe fn fork_exec(
    options: &uv_process_options_t,
    pipes: &mut [[c_int; 2]],
    pid: &mut libc::pid_t,
) -> c_int {
    let mut err_pipe = [-1; 2];
    if libc::pipe2(err_pipe.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
        return -errno();
    }
    // Keep signals away until the child has reset its dispositions.
    let mut all: libc::sigset_t = std::mem::zeroed();
    let mut old: libc::sigset_t = std::mem::zeroed();
    libc::sigfillset(&mut all);
    for s in [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGTRAP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGSYS,
        libc::SIGABRT,
    ] {
        libc::sigdelset(&mut all, s);
    }
    libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
    let child = libc::fork();
    if child == 0 {
        child_init(options, pipes, err_pipe[1]);
    }
    let fork_errno = errno();
    libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    libc::close(err_pipe[1]);
    if child == -1 {
        libc::close(err_pipe[0]);
        return -fork_errno;
    }
    *pid = child;
    let mut child_err: c_int = 0;
    let r = loop {
        let r = libc::read(
            err_pipe[0],
            &mut child_err as *mut c_int as *mut c_void,
            std::mem::size_of::<c_int>(),
        );
        if r == -1 && errno() == libc::EINTR {
            continue;
        }
        break r;
    };
    libc::close(err_pipe[0]);
    if r == 0 {
        return 0;
    }
    // The child failed before exec: reap it now, it never became a process of ours.
    let mut status = 0;
    retry_eintr(|| libc::waitpid(child, &mut status, 0));
    if r == std::mem::size_of::<c_int>() as isize {
        child_err
    } else {
        -libc::EPIPE
    }
}

unsafe fn init_stdio(c: &uv_stdio_container_t, fds: &mut [c_int; 2]) -> c_int {
    match c.flags & (UV_CREATE_PIPE | UV_INHERIT_FD | UV_INHERIT_STREAM) {
        0 => 0,
        UV_CREATE_PIPE => {
            let s = c.data.stream;
            if s.is_null() || (*s).h.type_ != UV_NAMED_PIPE {
                return -libc::EINVAL;
            }
            if libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            ) != 0
            {
                return -errno();
            }
            0
        }
        UV_INHERIT_FD => {
            if c.data.fd < 0 {
                return -libc::EINVAL;
            }
            fds[1] = c.data.fd;
            0
        }
        UV_INHERIT_STREAM => {
            let s = c.data.stream;
            if s.is_null() || (*s).io_watcher.fd < 0 {
                return -libc::EINVAL;
            }
            fds[1] = (*s).io_watcher.fd;
            0
        }
        _ => -libc::EINVAL,
    }
}

/// Hands the parent's end of a created pipe to the user's uv_pipe_t.
unsafe fn open_stream(c: &uv_stdio_container_t, fds: &mut [c_int; 2]) -> c_int {
    if c.flags & UV_CREATE_PIPE == 0 || fds[0] < 0 {
        return 0;
    }
    libc::close(fds[1]);
    fds[1] = -1;
    crate::watcher::set_nonblock(fds[0], true);
    // The child writes into a WRITABLE pipe, so the parent reads it.
    let mut flags = 0;
    if c.flags & UV_WRITABLE_PIPE != 0 {
        flags |= crate::stream::READABLE;
    }
    if c.flags & UV_READABLE_PIPE != 0 {
        flags |= crate::stream::WRITABLE;
    }
    crate::stream::open(c.data.stream, fds[0], flags)
}

#[no_mangle]
pub unsafe extern "C" fn uv_spawn(
    loop_: *mut uv_loop_t,
    process: *mut uv_process_t,
    options: *const uv_process_options_t,
) -> c_int {
    if loop_.is_null() || process.is_null() || options.is_null() {
        return -libc::EINVAL;
    }
    let opts = &*options;
    handle::init(loop_, process as *mut uv_handle_t, UV_PROCESS);
    queue::init(&mut (*process).queue);
    (*process).status = 0;
    (*process).pid = 0;
    if opts.file.is_null() || opts.args.is_null() || opts.flags & !KNOWN_FLAGS != 0 {
        return -libc::EINVAL;
    }
    let nstdio = opts.stdio_count.max(0) as usize;
    if nstdio > 0 && opts.stdio.is_null() {
        return -libc::EINVAL;
    }
    let mut pipes = vec![[-1 as c_int; 2]; nstdio.max(3)];
    let stdio = |i: usize| &*opts.stdio.add(i);
    let mut err = 0;
    for (i, fds) in pipes.iter_mut().enumerate().take(nstdio) {
        err = init_stdio(stdio(i), fds);
        if err != 0 {
            break;
        }
    }
    if err == 0 {
        match child_watcher(loop_) {
            Ok(w) => {
                crate::signal::uv_signal_start(w, Some(on_sigchld), libc::SIGCHLD);
            }
            Err(e) => err = e,
        }
    }
    if err != 0 {
        close_created(opts, &mut pipes);
        return err;
    }
    let mut pid = 0;
    let exec_err = fork_exec(opts, &mut pipes, &mut pid);
    if exec_err == 0 {
        (*process).pid = pid;
        (*process).exit_cb = opts.exit_cb;
        queue::insert_tail(&mut (*loop_).process_handles, &mut (*process).queue);
        handle::start(process as *mut uv_handle_t);
    }
    for i in 0..nstdio {
        let e = open_stream(stdio(i), &mut pipes[i]);
        if e != 0 {
            close_created(opts, &mut pipes);
            return e;
        }
    }
    exec_err
}

/// Closes the socketpairs uv_spawn made (never descriptors the user lent).
unsafe fn close_created(opts: &uv_process_options_t, pipes: &mut [[c_int; 2]]) {
    for (i, fds) in pipes.iter_mut().enumerate() {
        if i < opts.stdio_count.max(0) as usize {
            let c = &*opts.stdio.add(i);
            if c.flags & (UV_INHERIT_FD | UV_INHERIT_STREAM) != 0 {
                continue;
            }
        }
        for fd in fds.iter_mut() {
            if *fd >= 0 {
                libc::close(*fd);
                *fd = -1;
            }
        }
    }
}

pub unsafe fn close(p: *mut uv_process_t) {
    queue::remove(&mut (*p).queue);
    handle::stop(p as *mut uv_handle_t);
    let loop_ = (*p).h.loop_;
    if queue::is_empty(&(*loop_).process_handles) && (*loop_).child_watcher.h.type_ == UV_SIGNAL {
        crate::signal::uv_signal_stop(&mut (*loop_).child_watcher);
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_process_kill(p: *mut uv_process_t, signum: c_int) -> c_int {
    uv_kill((*p).pid, signum)
}

#[no_mangle]
pub extern "C" fn uv_kill(pid: c_int, signum: c_int) -> c_int {
    if unsafe { libc::kill(pid, signum) } != 0 {
        return -errno();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_process_get_pid(p: *const uv_process_t) -> libc::pid_t {
    (*p).pid
}

/// Marks every inherited descriptor close-on-exec, so children spawned
/// later see only what uv_spawn gives them.
#[no_mangle]
pub extern "C" fn uv_disable_stdio_inheritance() {
    let mut fd = 0;
    loop {
        if crate::watcher::set_cloexec(fd, true) != 0 && fd > 15 {
            break;
        }
        fd += 1;
    }
}
