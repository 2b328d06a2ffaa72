//! The backend seam: what a loop uses to wait for descriptors and wake-ups.
//! `policy` decides which backend a loop gets; `epoll` is the fallback that
//! every kernel has; `uring` is the io_uring loop.

pub mod epoll;
pub mod policy;
pub mod uring;
pub mod watcher;

use libc::c_int;

/// One readiness or completion, as the loop dispatches it.
#[derive(Clone, Copy)]
pub struct Event {
    /// A descriptor, WAKE_TOKEN, INVALID_TOKEN, or a request address | FS_EVENT.
    pub token: u64,
    /// Poll bits for descriptors; the result for requests.
    pub events: u32,
}

/// Token of the loop's own wake-up eventfd (async sends, finished pool work).
pub const WAKE_TOKEN: u64 = u64::MAX;
/// Token of a batch entry whose descriptor was closed during dispatch.
pub const INVALID_TOKEN: u64 = u64::MAX - 1;
/// Marks a completed request in the ring (the rest is its address).
pub const FS_EVENT: u64 = 1 << 62;

pub enum Backend {
    Epoll(epoll::Epoll),
    Uring(Box<uring::Uring>),
}

impl Backend {
    /// The descriptor uv_backend_fd reports: readable when the loop has work.
    pub fn fd(&self) -> c_int {
        match self {
            Backend::Epoll(e) => e.fd,
            Backend::Uring(u) => u.fd(),
        }
    }

    pub fn is_uring(&self) -> bool {
        matches!(self, Backend::Uring(_))
    }

    /// Watches `fd` for `events` (replacing what it watched before).
    pub fn set(&mut self, fd: c_int, events: u32) -> Result<(), c_int> {
        match self {
            Backend::Epoll(e) => e.set(fd, events, fd as u64),
            Backend::Uring(u) => {
                u.arm(fd, events);
                Ok(())
            }
        }
    }

    /// Stops watching `fd` at once.
    pub fn remove(&mut self, fd: c_int) {
        match self {
            Backend::Epoll(e) => e.remove(fd),
            Backend::Uring(u) => u.disarm(fd),
        }
    }

    /// Whether `fd` can be watched at all (regular files cannot).
    pub fn check_fd(&self, fd: c_int) -> Result<(), c_int> {
        match self {
            Backend::Epoll(e) => e.add_probe(fd),
            Backend::Uring(_) => {
                // Same answer epoll gives: EPERM for files and directories.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                if unsafe { libc::fstat(fd, &mut st) } != 0 {
                    return Err(-unsafe { *libc::__errno_location() });
                }
                match st.st_mode & libc::S_IFMT {
                    libc::S_IFREG | libc::S_IFDIR => Err(-libc::EPERM),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Waits up to `timeout` ms for events, appending them to `out`.
    /// An interrupted wait (EINTR) is an error the caller retries.
    pub fn wait(
        &mut self,
        out: &mut Vec<Event>,
        timeout: c_int,
        block_sigprof: bool,
    ) -> Result<(), c_int> {
        match self {
            Backend::Epoll(e) => {
                let mut evs: [libc::epoll_event; 1024] = unsafe { std::mem::zeroed() };
                let n = e.wait(&mut evs, timeout, block_sigprof)?;
                out.extend(evs[..n].iter().map(|ev| Event {
                    token: ev.u64,
                    events: ev.events,
                }));
                Ok(())
            }
            Backend::Uring(u) => u.wait(out, timeout, block_sigprof),
        }
    }
}
