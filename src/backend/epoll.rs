//! Raw epoll. mio would hide the level-triggered, one-fd-one-registration
//! model libuv's uv__io_t relies on (and the sigmask of epoll_pwait), so the
//! few calls are wrapped here directly.

use crate::sys::errno;
use libc::c_int;

pub struct Epoll {
    pub fd: c_int,
}

impl Epoll {
    pub fn new() -> Result<Epoll, c_int> {
        // SAFETY: no pointers; the new descriptor is owned by the Epoll.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(-errno());
        }
        Ok(Epoll { fd })
    }

    fn ctl(&self, op: c_int, fd: c_int, events: u32, token: u64) -> Result<(), c_int> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a local epoll_event the call reads; bad
        // descriptors only fail.
        if unsafe { libc::epoll_ctl(self.fd, op, fd, &mut ev) } < 0 {
            return Err(-errno());
        }
        Ok(())
    }

    /// Adds or updates the registration of `fd`; `fresh` says which is
    /// likely (a watcher the kernel has not heard of), to spare a failing call.
    pub fn set(&self, fd: c_int, events: u32, token: u64, fresh: bool) -> Result<(), c_int> {
        let (first, second, miss) = if fresh {
            (libc::EPOLL_CTL_ADD, libc::EPOLL_CTL_MOD, -libc::EEXIST)
        } else {
            (libc::EPOLL_CTL_MOD, libc::EPOLL_CTL_ADD, -libc::ENOENT)
        };
        match self.ctl(first, fd, events, token) {
            Err(e) if e == miss => self.ctl(second, fd, events, token),
            r => r,
        }
    }

    /// Registers and at once unregisters `fd`: tells whether epoll accepts it.
    pub fn add_probe(&self, fd: c_int, token: u64) -> Result<(), c_int> {
        match self.ctl(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, token) {
            Ok(()) => {
                self.remove(fd);
                Ok(())
            }
            Err(e) if e == -libc::EEXIST => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn remove(&self, fd: c_int) {
        // Errors are expected when the descriptor was closed already.
        let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
    }

    /// Waits up to `timeout` ms (-1: forever). EINTR comes back as Err.
    pub fn wait(
        &self,
        events: &mut [libc::epoll_event],
        timeout: c_int,
        block_sigprof: bool,
    ) -> Result<usize, c_int> {
        // SAFETY: the kernel writes at most `events.len()` entries into the
        // borrowed slice; `set` is a local sigset, initialised by
        // sigemptyset before use.
        let n = unsafe {
            if block_sigprof {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGPROF);
                libc::epoll_pwait(
                    self.fd,
                    events.as_mut_ptr(),
                    events.len() as c_int,
                    timeout,
                    &set,
                )
            } else {
                libc::epoll_wait(self.fd, events.as_mut_ptr(), events.len() as c_int, timeout)
            }
        };
        if n < 0 {
            return Err(-errno());
        }
        Ok(n as usize)
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: the Epoll owns `fd`, closed once, here.
        unsafe { libc::close(self.fd) };
    }
}
