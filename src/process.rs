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

/// # Safety
/// Called by the signal machinery with the loop's own `child_watcher`.
unsafe extern "C" fn on_sigchld(h: *mut uv_signal_t, _signum: c_int) {
    // SAFETY: `h` is the loop's child_watcher, embedded in the live loop it
    // points back to; wait_children runs on that loop's thread.
    unsafe { wait_children((*h).h.loop_) };
}

/// Reaps every exited child of this loop and calls their exit callbacks.
///
/// # Safety
/// `loop_` is a live loop, used on its own thread; every node of its
/// `process_handles` queue is the `queue` of a live, started uv_process_t.
unsafe fn wait_children(loop_: *mut uv_loop_t) {
    let mut done = uv__queue {
        next: std::ptr::null_mut(),
        prev: std::ptr::null_mut(),
    };
    let done_ptr: *mut uv__queue = &mut done;
    // SAFETY: `done` is a local list head that outlives every use below.
    unsafe { queue::init(done_ptr) };
    // SAFETY: `loop_` is live (caller's contract).
    let head: *mut uv__queue = unsafe { &mut (*loop_).process_handles };
    // SAFETY: as above.
    let mut q = unsafe { (*head).next };
    while q != head {
        // SAFETY: `q` is a node of process_handles, the `queue` field of a
        // live uv_process_t (uv_spawn inserts it, close removes it before
        // the handle can be freed); its successor is read before `q` moves.
        // No user code runs in this loop.
        let p = unsafe {
            let p = crate::container_of!(q, uv_process_t, queue);
            q = (*q).next;
            p
        };
        let mut status = 0;
        // SAFETY: `p` is live (above); `status` is a local.
        let pid = retry_eintr(|| unsafe { libc::waitpid((*p).pid, &mut status, libc::WNOHANG) });
        // 0: still running. -1: someone else reaped it; nothing to report.
        if pid <= 0 {
            continue;
        }
        // SAFETY: `p` is live; its node moves from process_handles to the
        // local `done` list, both valid lists.
        unsafe {
            (*p).status = status;
            queue::remove(&mut (*p).queue);
            queue::insert_tail(done_ptr, &mut (*p).queue);
        }
    }
    // Every node still in `done` is a live handle: an exit callback that
    // closes another process of the list takes it out of `done` (close()
    // unlinks its node), and handles may not be freed before their close
    // callback, which runs in a later phase. Only the raw `p` crosses the
    // callback; nothing is read from it afterwards.
    // SAFETY: `done` is the local list head, valid throughout.
    while !unsafe { queue::is_empty(done_ptr) } {
        // SAFETY: see above; `q` is the first node of `done`, the `queue`
        // field of a live uv_process_t of this loop.
        let (p, exit_cb, st) = unsafe {
            let q = queue::head(done_ptr);
            queue::remove(q);
            let p = crate::container_of!(q, uv_process_t, queue);
            handle::stop(p as *mut uv_handle_t);
            (p, (*p).exit_cb, (*p).status)
        };
        let Some(cb) = exit_cb else { continue };
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
        // SAFETY: the user's exit_cb with its own live handle (uv.h
        // uv_exit_cb); it may close, free or re-enter anything.
        unsafe { cb(p, exit_status as i64, term_signal) };
    }
}

/// The loop's SIGCHLD watcher, created on first use.
///
/// # Safety
/// `loop_` is a live, initialised loop, used on its own thread.
unsafe fn child_watcher(loop_: *mut uv_loop_t) -> Result<*mut uv_signal_t, c_int> {
    // SAFETY: child_watcher is a field of the live loop; its type is
    // UV_SIGNAL once initialised (uv_loop_init zeroes it before).
    unsafe {
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
}

/// Writes `errno` to the error pipe and exits; only async-signal-safe calls
/// are allowed between fork and exec (write and _exit are; nothing here
/// allocates or locks).
///
/// # Safety
/// Only in the forked child before exec: it ends the process with _exit,
/// skipping every cleanup. `error_fd` is the error pipe's write end.
unsafe fn child_fail(error_fd: c_int, err: c_int) -> ! {
    let v: c_int = -err.abs();
    // SAFETY: writes the local `v` (size_of c_int bytes) to the pipe; _exit
    // ends the child (caller's contract).
    unsafe {
        libc::write(
            error_fd,
            &v as *const c_int as *const c_void,
            std::mem::size_of::<c_int>(),
        );
        libc::_exit(127);
    }
}

/// Runs in the forked child: set up stdio, session, cwd, ids, then exec.
///
/// Between fork and exec only async-signal-safe calls are made (signal,
/// setsid, fcntl, dup2, open, close, chdir, setgroups, setgid, setuid,
/// sigprocmask, execvp, write, _exit): no allocation, no locks, no panics
/// (every index below is < pipes.len()). The parent may have had other
/// threads holding the allocator's or any other lock at fork time.
///
/// # Safety
/// Only in the child of fork, called once, never returns. `options` is the
/// caller's uv_process_options_t: `file` is a C string, `args` NULL or a
/// NULL-terminated array of C strings, `cwd` NULL or a C string, `env` NULL
/// or a NULL-terminated array of C strings. `pipes` holds the descriptors of uv_spawn's stdio set-up
/// (-1: none); `error_fd` is the error pipe's write end.
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
        // SAFETY: restores a default disposition; async-signal-safe.
        if unsafe { libc::signal(n, libc::SIG_DFL) } == libc::SIG_ERR {
            // SAFETY: in the child, on the error pipe (contract).
            unsafe { child_fail(error_fd, errno()) };
        }
    }
    if options.flags & UV_PROCESS_DETACHED != 0 {
        // SAFETY: no pointers; async-signal-safe.
        unsafe { libc::setsid() };
    }
    // Move descriptors that would be overwritten by a lower dup2 out of the way.
    for fd in 0..stdio_count {
        let use_fd = pipes[fd as usize][1];
        if use_fd < 0 || use_fd >= fd {
            continue;
        }
        // SAFETY: fcntl on a descriptor of ours, no pointers; async-signal-safe.
        let moved = unsafe { libc::fcntl(use_fd, libc::F_DUPFD_CLOEXEC, stdio_count) };
        if moved == -1 {
            // SAFETY: in the child, on the error pipe (contract).
            unsafe { child_fail(error_fd, errno()) };
        }
        pipes[fd as usize][1] = moved;
    }
    for fd in 0..stdio_count {
        let mut use_fd = pipes[fd as usize][1];
        let mut close_fd = -1;
        // SAFETY: close, open of a string literal, fcntl and dup2 on
        // descriptors of this child, no other pointers; all async-signal-
        // safe. child_fail: in the child, on the error pipe.
        unsafe {
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
    }
    // SAFETY: `cwd` is NULL or a C string (contract); async-signal-safe.
    if !options.cwd.is_null() && unsafe { libc::chdir(options.cwd) } != 0 {
        // SAFETY: in the child, on the error pipe (contract).
        unsafe { child_fail(error_fd, errno()) };
    }
    if options.flags & (UV_PROCESS_SETUID | UV_PROCESS_SETGID) != 0 {
        // Drop supplementary groups; failing is fine when not privileged.
        let saved = errno();
        // SAFETY: setgroups(0, NULL) reads no list; then this thread's errno
        // slot. Both async-signal-safe.
        unsafe {
            libc::setgroups(0, std::ptr::null());
            *libc::__errno_location() = saved;
        }
    }
    // SAFETY: no pointers; async-signal-safe.
    if options.flags & UV_PROCESS_SETGID != 0 && unsafe { libc::setgid(options.gid) } != 0 {
        // SAFETY: in the child, on the error pipe (contract).
        unsafe { child_fail(error_fd, errno()) };
    }
    // SAFETY: no pointers; async-signal-safe.
    if options.flags & UV_PROCESS_SETUID != 0 && unsafe { libc::setuid(options.uid) } != 0 {
        // SAFETY: in the child, on the error pipe (contract).
        unsafe { child_fail(error_fd, errno()) };
    }
    if !options.env.is_null() {
        // SAFETY: the child has a single thread, so nothing else reads
        // `environ`; `env` is a NULL-terminated array of C strings
        // (contract) that execvp reads PATH from and passes on.
        unsafe { environ = options.env };
    }
    // SAFETY: sigset_t is plain data (all-zero valid) filled by sigemptyset;
    // execvp gets the caller's C strings (contract). All async-signal-safe:
    // glibc's execvp builds PATH candidates on the stack, not the heap.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        // libuv takes NULL `args` as "no arguments"; an empty list says the
        // same to the kernel, and glibc's shell-script fallback can walk it.
        let no_args: [*const c_char; 1] = [std::ptr::null()];
        let argv = if options.args.is_null() {
            no_args.as_ptr()
        } else {
            options.args as *const *const c_char
        };
        libc::execvp(options.file, argv);
        child_fail(error_fd, errno());
    }
}

/// Forks and execs; returns 0 or the child's setup/exec error.
///
/// # Safety
/// As for `child_init`'s `options` and `pipes`, which the child uses.
unsafe fn fork_exec(
    options: &uv_process_options_t,
    pipes: &mut [[c_int; 2]],
    pid: &mut libc::pid_t,
) -> c_int {
    let mut err_pipe = [-1; 2];
    // SAFETY: pipe2 fills the local two-int array.
    if unsafe { libc::pipe2(err_pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return -errno();
    }
    // Keep signals away until the child has reset its dispositions.
    // SAFETY: sigset_t is plain data (all-zero valid), filled by sigfillset;
    // pthread_sigmask reads/writes these locals. fork: the child branch
    // calls only child_init, which keeps to async-signal-safe calls.
    let (child, old) = unsafe {
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
        (child, old)
    };
    let fork_errno = errno();
    // SAFETY: restores the mask saved in the local `old`; closes the write
    // end we own (the child has its copy).
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        libc::close(err_pipe[1]);
    }
    if child == -1 {
        // SAFETY: the read end we own, closed once.
        unsafe { libc::close(err_pipe[0]) };
        return -fork_errno;
    }
    *pid = child;
    let mut child_err: c_int = 0;
    // SAFETY: reads at most size_of c_int bytes into the local `child_err`.
    let r = retry_eintr(|| unsafe {
        libc::read(
            err_pipe[0],
            &mut child_err as *mut c_int as *mut c_void,
            std::mem::size_of::<c_int>(),
        )
    });
    // SAFETY: the read end we own, closed once.
    unsafe { libc::close(err_pipe[0]) };
    if r == 0 {
        return 0;
    }
    // The child failed before exec: reap it now, it never became a process of ours.
    let mut status = 0;
    // SAFETY: `status` is a local.
    retry_eintr(|| unsafe { libc::waitpid(child, &mut status, 0) });
    if r == std::mem::size_of::<c_int>() as isize {
        child_err
    } else {
        -libc::EPIPE
    }
}

/// # Safety
/// `c` is one of the caller's stdio containers: for UV_CREATE_PIPE and
/// UV_INHERIT_STREAM, `c.data.stream` is NULL or a live initialised stream.
unsafe fn init_stdio(c: &uv_stdio_container_t, fds: &mut [c_int; 2]) -> c_int {
    match c.flags & (UV_CREATE_PIPE | UV_INHERIT_FD | UV_INHERIT_STREAM) {
        0 => 0,
        UV_CREATE_PIPE => {
            // SAFETY: with UV_CREATE_PIPE the union holds `stream`, NULL or
            // live (contract).
            let s = unsafe { c.data.stream };
            // SAFETY: non-NULL, so a live stream (contract).
            if s.is_null() || unsafe { (*s).h.type_ } != UV_NAMED_PIPE {
                return -libc::EINVAL;
            }
            // SAFETY: socketpair fills the two-int array `fds`.
            if unsafe {
                libc::socketpair(
                    libc::AF_UNIX,
                    libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                    0,
                    fds.as_mut_ptr(),
                )
            } != 0
            {
                return -errno();
            }
            0
        }
        UV_INHERIT_FD => {
            // SAFETY: with UV_INHERIT_FD the union holds `fd`.
            let fd = unsafe { c.data.fd };
            if fd < 0 {
                return -libc::EINVAL;
            }
            fds[1] = fd;
            0
        }
        UV_INHERIT_STREAM => {
            // SAFETY: with UV_INHERIT_STREAM the union holds `stream`, NULL
            // or live (contract).
            let s = unsafe { c.data.stream };
            // SAFETY: non-NULL, so a live stream (contract).
            if s.is_null() || unsafe { (*s).io_watcher.fd } < 0 {
                return -libc::EINVAL;
            }
            // SAFETY: as above, non-NULL and live.
            fds[1] = unsafe { (*s).io_watcher.fd };
            0
        }
        _ => -libc::EINVAL,
    }
}

/// Hands the parent's end of a created pipe to the user's uv_pipe_t.
///
/// # Safety
/// `c` passed `init_stdio`; `fds` are the descriptors init_stdio made for it.
unsafe fn open_stream(c: &uv_stdio_container_t, fds: &mut [c_int; 2]) -> c_int {
    if c.flags & UV_CREATE_PIPE == 0 || fds[0] < 0 {
        return 0;
    }
    // SAFETY: fds[1] is the child's end of our socketpair, closed once here.
    unsafe { libc::close(fds[1]) };
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
    // SAFETY: with UV_CREATE_PIPE init_stdio checked `c.data.stream` is a
    // live uv_pipe_t; fds[0] is our end of the socketpair.
    unsafe { crate::stream::open(c.data.stream, fds[0], flags) }
}

/// Undoes `open_stream` when a later container fails: the stream gives up
/// our end as uv_close would, so it keeps no number that is closed (and may
/// be reused) behind its back.
///
/// # Safety
/// As for `open_stream`, after it succeeded for `c` and `fds`.
unsafe fn close_stream(c: &uv_stdio_container_t, fds: &mut [c_int; 2]) {
    if c.flags & UV_CREATE_PIPE == 0 || fds[0] < 0 {
        return;
    }
    // SAFETY: open_stream gave this live uv_pipe_t fds[0] (contract).
    unsafe { crate::stream::close(c.data.stream) };
    // stream::close leaves 0-2 open; close_created closes our end then.
    if fds[0] > libc::STDERR_FILENO {
        fds[0] = -1;
    }
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
    // SAFETY: uv.h: `loop_` is a live loop, `process` the caller's
    // uv_process_t to initialise, `options` valid for this call (its
    // strings, args, env and `stdio_count` containers included). No user
    // callback runs inside uv_spawn, so `opts` stays valid throughout.
    unsafe {
        let opts = &*options;
        handle::init(loop_, process as *mut uv_handle_t, UV_PROCESS);
        queue::init(&mut (*process).queue);
        (*process).status = 0;
        (*process).pid = 0;
        if opts.file.is_null() || opts.flags & !KNOWN_FLAGS != 0 {
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
                for (j, fds) in pipes.iter_mut().enumerate().take(i) {
                    close_stream(stdio(j), fds);
                }
                close_created(opts, &mut pipes);
                return e;
            }
        }
        exec_err
    }
}

/// Closes the socketpairs uv_spawn made (never descriptors the user lent).
///
/// # Safety
/// `opts.stdio` holds `opts.stdio_count` containers (when that is > 0);
/// `pipes` are the descriptors uv_spawn set up for them.
unsafe fn close_created(opts: &uv_process_options_t, pipes: &mut [[c_int; 2]]) {
    for (i, fds) in pipes.iter_mut().enumerate() {
        if i < opts.stdio_count.max(0) as usize {
            // SAFETY: i < stdio_count containers (contract).
            let c = unsafe { &*opts.stdio.add(i) };
            if c.flags & (UV_INHERIT_FD | UV_INHERIT_STREAM) != 0 {
                continue;
            }
        }
        for fd in fds.iter_mut() {
            if *fd >= 0 {
                // SAFETY: a socketpair end uv_spawn created, closed once
                // (reset to -1).
                unsafe { libc::close(*fd) };
                *fd = -1;
            }
        }
    }
}

/// uv_close's part for a process handle.
///
/// # Safety
/// `p` is a live uv_process_t of a live loop, being closed on the loop's
/// thread.
pub unsafe fn close(p: *mut uv_process_t) {
    // SAFETY: `p` and its loop are live (contract); its queue node is
    // self-linked or in process_handles / wait_children's `done` list, and
    // remove handles each.
    unsafe {
        queue::remove(&mut (*p).queue);
        handle::stop(p as *mut uv_handle_t);
        let loop_ = (*p).h.loop_;
        if queue::is_empty(&(*loop_).process_handles) && (*loop_).child_watcher.h.type_ == UV_SIGNAL
        {
            crate::signal::uv_signal_stop(&mut (*loop_).child_watcher);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_process_kill(p: *mut uv_process_t, signum: c_int) -> c_int {
    // SAFETY: uv.h: `p` is a uv_process_t initialised by uv_spawn.
    uv_kill(unsafe { (*p).pid }, signum)
}

#[no_mangle]
pub extern "C" fn uv_kill(pid: c_int, signum: c_int) -> c_int {
    // SAFETY: kill takes no pointers.
    if unsafe { libc::kill(pid, signum) } != 0 {
        return -errno();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_process_get_pid(p: *const uv_process_t) -> libc::pid_t {
    // SAFETY: uv.h: `p` is a uv_process_t initialised by uv_spawn.
    unsafe { (*p).pid }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::{uv_close, uv_fileno};
    use crate::loop_::{uv_loop_close, uv_loop_init, uv_run};
    use crate::pipe::{uv_pipe_init, uv_pipe_open};
    use std::mem::MaybeUninit;
    use std::ptr::null_mut;

    unsafe extern "C" fn record_exit(p: *mut uv_process_t, status: i64, signal: c_int) {
        // SAFETY: `data` is the test's (status, signal) slot, alive while
        // the loop runs.
        unsafe { *((*p).h.data as *mut (i64, c_int)) = (status, signal) };
    }

    fn options(file: &std::ffi::CStr, args: *mut *mut c_char) -> uv_process_options_t {
        uv_process_options_t {
            exit_cb: Some(record_exit),
            file: file.as_ptr(),
            args,
            env: null_mut(),
            cwd: std::ptr::null(),
            flags: 0,
            stdio_count: 0,
            stdio: null_mut(),
            uid: 0,
            gid: 0,
        }
    }

    /// libuv accepts NULL `args`: the program starts with no arguments.
    #[test]
    fn null_args_start_the_program() {
        let mut lp = MaybeUninit::<uv_loop_t>::zeroed();
        let mut p = MaybeUninit::<uv_process_t>::zeroed();
        let mut exit = (-1i64, -1 as c_int);
        let opts = options(c"/bin/true", null_mut());
        // SAFETY: the loop, handle and exit slot are locals alive for the
        // whole test; the handle is closed and the loop run dry before
        // uv_loop_close.
        unsafe {
            let lp = lp.as_mut_ptr();
            let p = p.as_mut_ptr();
            assert_eq!(uv_loop_init(lp), 0);
            assert_eq!(uv_spawn(lp, p, &opts), 0);
            (*p).h.data = &mut exit as *mut (i64, c_int) as *mut c_void;
            assert_eq!(uv_run(lp, 0), 0);
            assert_eq!(exit, (0, 0));
            uv_close(p as *mut uv_handle_t, None);
            assert_eq!(uv_run(lp, 0), 0);
            assert_eq!(uv_loop_close(lp), 0);
        }
    }

    /// When a later stdio pipe cannot be opened (it already has a
    /// descriptor: EBUSY), the pipes opened before it give their descriptor
    /// up: uv_fileno says EBADF instead of naming a closed number.
    #[test]
    fn failed_stdio_pipe_leaves_no_closed_fd_in_earlier_pipes() {
        let mut lp = MaybeUninit::<uv_loop_t>::zeroed();
        let mut p = MaybeUninit::<uv_process_t>::zeroed();
        let mut fresh = MaybeUninit::<uv_pipe_t>::zeroed();
        let mut busy = MaybeUninit::<uv_pipe_t>::zeroed();
        let mut pair = [-1 as c_int; 2];
        let true_ = std::ffi::CString::new("true").unwrap();
        let mut args = [true_.as_ptr() as *mut c_char, null_mut()];
        let mut opts = options(c"/bin/true", args.as_mut_ptr());
        // SAFETY: every handle, the loop and the containers are locals alive
        // for the whole test; all handles are closed and the loop run dry
        // before uv_loop_close.
        unsafe {
            let lp = lp.as_mut_ptr();
            let p = p.as_mut_ptr();
            let fresh = fresh.as_mut_ptr();
            let busy = busy.as_mut_ptr();
            assert_eq!(uv_loop_init(lp), 0);
            assert_eq!(uv_pipe_init(lp, fresh, 0), 0);
            assert_eq!(uv_pipe_init(lp, busy, 0), 0);
            assert_eq!(
                libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()),
                0
            );
            assert_eq!(uv_pipe_open(busy, pair[0]), 0);
            let mut stdio = [
                uv_stdio_container_t {
                    flags: UV_CREATE_PIPE | UV_READABLE_PIPE,
                    data: uv_stdio_data {
                        stream: fresh as *mut uv_stream_t,
                    },
                },
                uv_stdio_container_t {
                    flags: UV_CREATE_PIPE | UV_WRITABLE_PIPE,
                    data: uv_stdio_data {
                        stream: busy as *mut uv_stream_t,
                    },
                },
            ];
            opts.stdio_count = 2;
            opts.stdio = stdio.as_mut_ptr();
            assert_eq!(uv_spawn(lp, p, &opts), -libc::EBUSY);
            let mut fd = -1;
            assert_eq!(
                uv_fileno(fresh as *const uv_handle_t, &mut fd),
                -libc::EBADF
            );
            assert_eq!(uv_fileno(busy as *const uv_handle_t, &mut fd), 0);
            assert_eq!(fd, pair[0]);
            // The child was started (as in libuv): its handle is active.
            uv_close(p as *mut uv_handle_t, None);
            uv_close(fresh as *mut uv_handle_t, None);
            uv_close(busy as *mut uv_handle_t, None);
            assert_eq!(uv_run(lp, 0), 0);
            assert_eq!(uv_loop_close(lp), 0);
            libc::close(pair[1]);
        }
    }
}
