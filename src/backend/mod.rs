//! What a loop waits on, in libuv 1.50's shape: an epoll set, always, whose
//! descriptor is `uv_backend_fd`, plus an optional io_uring that runs file
//! operations. `policy` decides whether a loop gets a ring; callers never ask
//! which backend they have, only whether a ring is there to take an operation.
//!
//! Where a turn waits is decided in one place, `Backend::wait`:
//! - nothing for the ring to submit and nothing in flight there: epoll_wait,
//!   one system call, as libuv;
//! - operations to submit or in flight: io_uring_enter submits them and waits
//!   for their completions and for the epoll set (which the ring polls) in the
//!   same call, so a file-heavy turn is still one system call.
//!
//! Changes of the epoll set are staged by the watchers and committed before
//! the wait: three or more at once go through an idle ring in one
//! io_uring_enter (libuv 1.50 batches every change), otherwise one epoll_ctl
//! each.
//!
//! Between `uv_run` calls an embedder may poll `uv_backend_fd` instead of the
//! loop: if the ring then has operations in flight, its descriptor joins the
//! epoll set so that their completions make the epoll fd readable.

pub mod epoll;
pub mod policy;
pub mod uring;

use epoll::Epoll;
use libc::c_int;
use policy::{BackendKind, Choice};
use uring::{Reaped, Ring};

/// One thing a wait found, as the loop dispatches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A watched descriptor is ready (`events` are poll bits).
    Io { fd: c_int, events: u32 },
    /// The loop's wake-up eventfd fired (async sends, finished pool work).
    Wake,
    /// An operation of the ring finished: `token` is what it was pushed with.
    Done { token: usize, res: i32 },
    /// An entry voided during dispatch (its descriptor was closed).
    Void,
}

/// epoll tokens: a descriptor is its own number (never above i32::MAX); the
/// two of the loop's own sit above every descriptor.
const WAKE_TOKEN: u64 = u64::MAX;
const RING_TOKEN: u64 = u64::MAX - 1;
/// A registration made only to learn whether epoll accepts a descriptor.
const PROBE_TOKEN: u64 = u64::MAX - 2;

/// How often a given-up ring whose descriptor epoll cannot watch is looked
/// at for completions, in ms.
const BROKEN_RING_LOOK_MS: c_int = 10;

/// Fewest changes of the epoll set worth a batch in the ring. The ring's time
/// against one epoll_ctl each, two runs of bench/epoll_ctl here: 1.34-1.44x
/// for one change, 1.05-1.10x for two, 0.96-1.01x for three, 0.86-0.96x for
/// four, 0.78-0.80x for 32. From three, the batch costs no more and makes
/// one system call.
const CTL_BATCH_MIN: usize = 3;

/// Entries of a loop's ring: libuv 1.50 uses 64 for file operations.
const RING_ENTRIES: u32 = 256;

pub struct Backend {
    epoll: Epoll,
    ring: Option<Box<Ring>>,
    /// The ring's descriptor is in the epoll set (only between uv_run calls).
    ring_in_epoll: bool,
    /// The loop's wake-up eventfd (the loop's, not closed here).
    wake_fd: c_int,
    choice: Choice,
    /// Scratch space for epoll_wait.
    evs: Vec<libc::epoll_event>,
    /// Which descriptors `set` put in the epoll set and `remove` has not
    /// taken out, by number. A watcher stopped and restarted between two
    /// waits stays in the set (its events then come back to no watcher, or
    /// are changed by the restart): knowing that, `set` makes one MOD where
    /// a guessed ADD would fail with EEXIST first (a connecting client's
    /// POLLOUT turning into POLLIN does that on every connection).
    in_set: Vec<bool>,
    /// Changes staged for `commit`: (fd, events).
    staged: Vec<(c_int, u32)>,
    /// Scratch space of a batch in the ring: the changes and their results.
    ctl_ops: Vec<(c_int, c_int, libc::epoll_event)>,
    ctl_res: Vec<Option<i32>>,
}

/// What epoll reported, as loop events; the ring's own readiness is reaped.
fn from_epoll(ev: &libc::epoll_event, ring: Option<&mut Ring>, out: &mut Vec<Event>) {
    match ev.u64 {
        WAKE_TOKEN => out.push(Event::Wake),
        RING_TOKEN => {
            if let Some(r) = ring {
                r.reap(&mut |c| match c {
                    Reaped::Done { token, res } => out.push(Event::Done { token, res }),
                    // Not polled while the ring sits in the epoll set.
                    Reaped::EpollReady => {}
                });
            }
        }
        PROBE_TOKEN => {}
        fd => out.push(Event::Io {
            fd: fd as c_int,
            events: ev.events,
        }),
    }
}

impl Backend {
    /// A loop's backend as the policy decides it, with the wake-up eventfd
    /// in the epoll set. A ring that cannot be set up means no ring, quietly;
    /// the reason is kept for doctor and UVRING_DEBUG.
    pub fn new(wake_fd: c_int, sqpoll_requested: bool) -> Result<Backend, c_int> {
        let epoll = Epoll::new()?;
        epoll.set(wake_fd, libc::EPOLLIN as u32, WAKE_TOKEN, true)?;
        let mut choice = policy::choose();
        let mut ring = None;
        if choice.kind == BackendKind::IoUring {
            match Ring::new(RING_ENTRIES, sqpoll_requested && choice.forced, epoll.fd) {
                Ok(r) => ring = Some(Box::new(r)),
                Err(e) => choice = policy::setup_failed(e),
            }
        }
        policy::announce(&choice);
        Ok(Backend {
            epoll,
            ring,
            ring_in_epoll: false,
            wake_fd,
            choice,
            evs: Vec::new(),
            in_set: Vec::new(),
            staged: Vec::new(),
            ctl_ops: Vec::new(),
            ctl_res: Vec::new(),
        })
    }

    /// The descriptor uv_backend_fd reports: the epoll set, in every mode.
    pub fn fd(&self) -> c_int {
        self.epoll.fd
    }

    pub fn choice(&self) -> &Choice {
        &self.choice
    }

    /// The ring, when this loop has one, to take a file operation.
    pub fn ring(&mut self) -> Option<&mut Ring> {
        self.ring.as_deref_mut()
    }

    /// Whether a request for SQPOLL can be granted: only a loop that has a
    /// ring because UV_USE_IO_URING=1 asked for it gets a polling thread,
    /// and only while nothing is in that ring (replacing it would lose those
    /// operations; libuv too ignores SQPOLL once its ring is in use).
    pub fn sqpoll_grantable(&self) -> bool {
        self.choice.forced && self.ring.as_ref().is_some_and(|r| r.in_flight() == 0)
    }

    /// Whether the ring must be replaced (credentials changed under an
    /// SQPOLL ring) and can be now (nothing of it in flight).
    pub fn ring_needs_rebuild(&self) -> bool {
        self.ring
            .as_ref()
            .is_some_and(|r| r.creds_stale && r.in_flight() == 0)
    }

    /// Watches `fd` for `events`, replacing what it watched before.
    pub fn set(&mut self, fd: c_int, events: u32) -> Result<(), c_int> {
        let Ok(i) = usize::try_from(fd) else {
            return Err(-libc::EBADF);
        };
        if self.in_set.len() <= i {
            self.in_set.resize(i + 1, false);
        }
        // The guess is only a hint: a descriptor closed and reused behind the
        // loop's back makes it wrong, and Epoll::set then tries the other op.
        let r = self.epoll.set(fd, events, fd as u64, !self.in_set[i]);
        self.in_set[i] = r.is_ok();
        r
    }

    /// Queues `set(fd, events)` for the next `commit`.
    pub fn stage(&mut self, fd: c_int, events: u32) {
        self.staged.push((fd, events));
    }

    /// Makes the staged changes: together through the ring when there are
    /// enough (CTL_BATCH_MIN) and it is idle, one system call; otherwise one
    /// `set` each. Errors are not reported: as with `set`, a descriptor that
    /// is not in the set is simply not watched.
    pub fn commit(&mut self) {
        let mut staged = std::mem::take(&mut self.staged);
        let batch = staged.len() >= CTL_BATCH_MIN
            && staged.iter().all(|&(fd, _)| fd >= 0)
            && self
                .ring
                .as_deref_mut()
                .is_some_and(|r| r.can_batch_epoll_ctl());
        if batch {
            self.commit_in_ring(&staged);
        } else {
            for &(fd, events) in &staged {
                let _ = self.set(fd, events);
            }
        }
        staged.clear();
        self.staged = staged;
    }

    fn commit_in_ring(&mut self, staged: &[(c_int, u32)]) {
        let (Some(ring), Some(&top)) = (
            self.ring.as_deref_mut(),
            staged.iter().map(|(fd, _)| fd).max(),
        ) else {
            return;
        };
        if self.in_set.len() <= top as usize {
            self.in_set.resize(top as usize + 1, false);
        }
        self.ctl_ops.clear();
        for &(fd, events) in staged {
            let op = if self.in_set[fd as usize] {
                libc::EPOLL_CTL_MOD
            } else {
                libc::EPOLL_CTL_ADD
            };
            let ev = libc::epoll_event {
                events,
                u64: fd as u64,
            };
            self.ctl_ops.push((op, fd, ev));
        }
        ring.epoll_ctl_batch(&self.ctl_ops, &mut self.ctl_res);
        for (&(op, fd, ev), &res) in self.ctl_ops.iter().zip(&self.ctl_res) {
            let ok = match res {
                Some(r) if r >= 0 => true,
                // The guess was wrong (the set changed behind the loop's
                // back): the other op, as `set` would.
                Some(r) if r == -libc::EEXIST || r == -libc::ENOENT => {
                    let fresh = op == libc::EPOLL_CTL_MOD;
                    self.epoll.set(fd, ev.events, fd as u64, fresh).is_ok()
                }
                // Failed otherwise, or never run: made here, the usual way.
                _ => {
                    let fresh = op == libc::EPOLL_CTL_ADD;
                    self.epoll.set(fd, ev.events, fd as u64, fresh).is_ok()
                }
            };
            self.in_set[fd as usize] = ok;
        }
    }

    /// Stops watching `fd` at once.
    pub fn remove(&mut self, fd: c_int) {
        if let Some(b) = usize::try_from(fd)
            .ok()
            .and_then(|i| self.in_set.get_mut(i))
        {
            *b = false;
        }
        self.epoll.remove(fd)
    }

    /// Whether `fd` can be watched at all (regular files cannot).
    pub fn check_fd(&self, fd: c_int) -> Result<(), c_int> {
        self.epoll.add_probe(fd, PROBE_TOKEN)
    }

    /// Waits up to `timeout` ms (-1: no limit) and appends what happened to
    /// `out`. An interrupted wait (EINTR) is an error the caller retries.
    pub fn wait(
        &mut self,
        out: &mut Vec<Event>,
        timeout: c_int,
        block_sigprof: bool,
    ) -> Result<(), c_int> {
        let ring = self.ring.as_deref_mut().filter(|r| r.in_flight() > 0);
        if let Some(ring) = ring.filter(|r| !r.usable()) {
            // A ring given up: what it handed back comes now, and what the
            // kernel had taken completes through the epoll set, which then
            // holds the ring's descriptor.
            let before = out.len();
            ring.reap(&mut |c| {
                if let Reaped::Done { token, res } = c {
                    out.push(Event::Done { token, res })
                }
            });
            // (The ring's poll of the set, if still live, fires once at most.)
            if ring.in_flight() > 0 && !self.ring_in_epoll && ring.fd_is_ring() {
                self.ring_in_epoll = self
                    .epoll
                    .set(ring.fd(), libc::EPOLLIN as u32, RING_TOKEN, true)
                    .is_ok();
            }
            let timeout = if out.len() > before {
                0
            } else if ring.in_flight() > 0 && !self.ring_in_epoll {
                // Its descriptor cannot be watched (it no longer names the
                // ring, and may name a file of the user's): look at the CQ
                // again soon instead.
                if timeout < 0 {
                    BROKEN_RING_LOOK_MS
                } else {
                    timeout.min(BROKEN_RING_LOOK_MS)
                }
            } else {
                timeout
            };
            return self.harvest(out, timeout, block_sigprof);
        }
        if let Some(ring) = self.ring.as_deref_mut().filter(|r| r.in_flight() > 0) {
            if self.ring_in_epoll {
                // The ring polls the epoll set now: never both ways at once.
                self.epoll.remove(ring.fd());
                self.ring_in_epoll = false;
            }
            let mut epoll_ready = false;
            let r = ring.wait(timeout, block_sigprof, &mut |c| match c {
                Reaped::Done { token, res } => out.push(Event::Done { token, res }),
                Reaped::EpollReady => epoll_ready = true,
            });
            if epoll_ready {
                self.harvest(out, 0, false)?;
            }
            return r;
        }
        self.harvest(out, timeout, block_sigprof)
    }

    fn harvest(
        &mut self,
        out: &mut Vec<Event>,
        timeout: c_int,
        block_sigprof: bool,
    ) -> Result<(), c_int> {
        if self.evs.is_empty() {
            self.evs = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
        }
        let n = self.epoll.wait(&mut self.evs, timeout, block_sigprof)?;
        for ev in &self.evs[..n] {
            from_epoll(ev, self.ring.as_deref_mut(), out);
        }
        Ok(())
    }

    /// The loop returns to its caller, who may poll uv_backend_fd until the
    /// next uv_run: operations queued for the ring are submitted, and if any
    /// are in flight the ring's descriptor joins the epoll set.
    pub fn park(&mut self) {
        let Some(ring) = self.ring.as_deref_mut() else {
            return;
        };
        if ring.in_flight() == 0 || self.ring_in_epoll {
            return;
        }
        ring.stop_polling_epoll();
        if ring.has_backlog() {
            // Completions taken off the CQ while submitting (or operations
            // a ring given up handed back) show in no descriptor: make the
            // epoll set readable for them through the wake-up eventfd.
            let one = 1u64;
            // SAFETY: 8 readable bytes to the loop's own eventfd, which
            // outlives its backend; a saturated counter (EAGAIN) is readable.
            unsafe { libc::write(self.wake_fd, (&one as *const u64).cast(), 8) };
        }
        if !ring.fd_is_ring() {
            return;
        }
        if self
            .epoll
            .set(ring.fd(), libc::EPOLLIN as u32, RING_TOKEN, true)
            .is_ok()
        {
            self.ring_in_epoll = true;
        }
    }
}

/// What a ring as a loop would get it offers, whatever the policy says of
/// this kernel: for doctor.
pub fn probe_ring() -> Result<String, c_int> {
    let epoll = Epoll::new()?;
    Ring::new(RING_ENTRIES, false, epoll.fd).map(|r| r.describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoll_tokens_are_disjoint_from_descriptors() {
        for t in [WAKE_TOKEN, RING_TOKEN, PROBE_TOKEN] {
            assert!(t > i32::MAX as u64);
        }
        let mut out = Vec::new();
        let ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 7,
        };
        from_epoll(&ev, None, &mut out);
        let ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: WAKE_TOKEN,
        };
        from_epoll(&ev, None, &mut out);
        assert_eq!(
            out,
            vec![
                Event::Io {
                    fd: 7,
                    events: libc::EPOLLIN as u32
                },
                Event::Wake
            ]
        );
    }

    /// What the kernel reports for `fd` on `ep` right now (0: not ready or
    /// not in the set).
    fn ready(ep: c_int, fd: c_int) -> u32 {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 8];
        // SAFETY: `evs` has room for 8 entries; a zero timeout only polls.
        let n = unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), 8, 0) };
        evs[..n.max(0) as usize]
            .iter()
            .filter(|e| e.u64 == fd as u64)
            .map(|e| e.events)
            .fold(0, |a, e| a | e)
    }

    /// `set` guesses ADD or MOD from what it did before, and a guess made
    /// wrong behind its back (the set changed by others) still ends in the
    /// registration asked for.
    #[test]
    fn set_registers_whatever_the_set_held_before() {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for two descriptors; `wake` is ours.
        let (wake, a) = unsafe {
            assert_eq!(
                libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()),
                0
            );
            (
                libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK),
                fds[0],
            )
        };
        let mut b = Backend::new(wake, false).unwrap();
        let (ep, out, inp) = (b.fd(), libc::EPOLLOUT as u32, libc::EPOLLIN as u32);
        b.set(a, out).unwrap();
        assert_eq!(ready(ep, a), out);
        // Stopped and restarted for reading: a MOD, nothing readable yet.
        b.set(a, inp).unwrap();
        assert_eq!(ready(ep, a), 0);
        // SAFETY: one byte from a local to the peer socket.
        let n = unsafe { libc::write(fds[1], b"x".as_ptr() as *const _, 1) };
        assert_eq!(n, 1);
        assert_eq!(ready(ep, a), inp);
        // Taken out behind its back: the MOD fails, the ADD after it works.
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: `ev` is a local the call may read.
        let r = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, a, &mut ev) };
        assert_eq!(r, 0);
        b.set(a, inp | out).unwrap();
        assert_eq!(ready(ep, a), inp | out);
        // Removed, then put back by someone else: the ADD fails, the MOD works.
        b.remove(a);
        assert_eq!(ready(ep, a), 0);
        let mut ev = libc::epoll_event {
            events: out,
            u64: a as u64,
        };
        // SAFETY: as above.
        let r = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, a, &mut ev) };
        assert_eq!(r, 0);
        b.set(a, inp).unwrap();
        assert_eq!(ready(ep, a), inp);
        // A descriptor that is not open: an error, and not counted as in the set.
        assert!(b.set(1 << 20, inp).is_err());
        assert!(!b.in_set[1 << 20]);
        drop(b);
        // SAFETY: the descriptors are ours and closed once.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
            libc::close(wake);
        }
    }

    /// Staged changes end in the registrations asked for, whatever the set
    /// held before, both when they go through an idle ring together and
    /// when they are made one by one (a ring with an operation in flight).
    #[test]
    fn committed_changes_end_as_asked_batched_or_not() {
        for busy in [false, true] {
            // SAFETY: a plain system call making a descriptor this test owns.
            let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
            assert!(wake >= 0);
            // (The timeout's time is kept for the iteration, as the other
            // tests of this helper keep it.)
            let (mut b, _ts) = if busy {
                match backend_running_a_timeout(wake) {
                    Some((b, ts)) => (b, Some(ts)),
                    None => break,
                }
            } else {
                (Backend::new(wake, false).unwrap(), None)
            };
            let mut pairs = [[-1; 2]; 4];
            for p in &mut pairs {
                // SAFETY: `p` has room for two descriptors.
                let r = unsafe {
                    libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, p.as_mut_ptr())
                };
                assert_eq!(r, 0);
            }
            let [fresh, known, added, removed] = pairs.map(|p| p[0]);
            let (ep, inp, out) = (b.fd(), libc::EPOLLIN as u32, libc::EPOLLOUT as u32);
            let ctl = |op, fd, events| {
                let mut ev = libc::epoll_event {
                    events,
                    u64: fd as u64,
                };
                // SAFETY: `ev` is a local the call reads.
                assert_eq!(unsafe { libc::epoll_ctl(ep, op, fd, &mut ev) }, 0);
            };
            b.set(known, inp).unwrap();
            // Changed behind the backend's back: its ADD and MOD guesses fail.
            ctl(libc::EPOLL_CTL_ADD, added, inp);
            b.set(removed, inp).unwrap();
            ctl(libc::EPOLL_CTL_DEL, removed, 0);
            for fd in [fresh, known, added, removed, 1 << 20] {
                b.stage(fd, out);
            }
            let batched = b
                .ring
                .as_deref_mut()
                .is_some_and(|r| r.can_batch_epoll_ctl());
            b.commit();
            if batched {
                // Each change ran in the ring, the guesses that were made
                // wrong failing there first.
                let want = [0, 0, -libc::EEXIST, -libc::ENOENT, -libc::EBADF].map(Some);
                assert_eq!(b.ctl_res, want);
            } else if !busy {
                eprintln!("not batched: this loop has no ring that takes EPOLL_CTL");
            }
            assert!(!(busy && batched));
            for fd in [fresh, known, added, removed] {
                assert_eq!(ready(ep, fd), out, "busy {busy}, fd {fd}");
                assert!(b.in_set[fd as usize]);
            }
            assert!(!b.in_set[1 << 20]);
            assert!(b.staged.is_empty());
            drop(b);
            // SAFETY: the descriptors are this test's, closed once.
            unsafe {
                for p in pairs {
                    libc::close(p[0]);
                    libc::close(p[1]);
                }
                libc::close(wake);
            }
        }
    }

    const TAKEN: usize = 1 << 20;
    const REFUSED: usize = (1 << 20) + 64;

    /// A backend whose ring has one operation running in the kernel (a
    /// 60 ms timeout, token TAKEN), and the time it reads; None (said on
    /// stderr) when the loop gets no ring.
    fn backend_running_a_timeout(wake: c_int) -> Option<(Backend, Box<io_uring::types::Timespec>)> {
        let mut b = Backend::new(wake, false).unwrap();
        let Some(r) = b.ring() else {
            eprintln!("skipped: this loop has no io_uring (policy or kernel)");
            return None;
        };
        // Read by the kernel when the entry is submitted (the wait below).
        let ts = Box::new(io_uring::types::Timespec::new().nsec(60_000_000));
        r.push_op(io_uring::opcode::Timeout::new(&*ts).build(), TAKEN);
        let mut out = Vec::new();
        b.wait(&mut out, 0, false).unwrap();
        assert!(out.is_empty(), "{out:?}");
        Some((b, ts))
    }

    /// A ring given up while the kernel still runs one of its operations:
    /// the operations it never took come back at once, and the one it took
    /// still completes through the wait, even when the ring's descriptor
    /// can no longer be watched (here it is made to name /dev/null).
    #[test]
    fn a_ring_given_up_still_delivers_what_the_kernel_took() {
        use io_uring::opcode;
        // SAFETY: plain system calls making descriptors this test owns.
        let (wake, null) = unsafe {
            (
                libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK),
                libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC),
            )
        };
        assert!(wake >= 0 && null >= 0);
        let Some((mut b, ts)) = backend_running_a_timeout(wake) else {
            // SAFETY: both were opened above.
            unsafe {
                libc::close(wake);
                libc::close(null);
            }
            return;
        };
        let ring_fd = b.ring().unwrap().fd();
        let mut out = Vec::new();

        // SAFETY: the ring's memory stays mapped; only its number changes.
        assert!(unsafe { libc::dup2(null, ring_fd) } >= 0);
        b.ring()
            .unwrap()
            .push_op(opcode::Nop::new().build(), REFUSED);
        let t0 = std::time::Instant::now();
        let mut done = Vec::new();
        while done.len() < 2 && t0.elapsed() < std::time::Duration::from_secs(5) {
            out.clear();
            let _ = b.wait(&mut out, -1, false);
            done.extend(out.iter().filter_map(|e| match e {
                Event::Done { token, res } => Some((*token, *res)),
                _ => None,
            }));
        }
        assert_eq!(
            done,
            vec![(REFUSED, -libc::ECANCELED), (TAKEN, -libc::ETIME)]
        );
        assert!(t0.elapsed() < std::time::Duration::from_secs(1));
        assert!(!b.ring().unwrap().usable());
        assert_eq!(b.ring().unwrap().in_flight(), 0);
        // Its number names /dev/null now: never put in the epoll set.
        assert!(!b.ring_in_epoll);
        drop(b);
        drop(ts);
        // SAFETY: both were opened above (the ring closed its own number).
        unsafe {
            libc::close(wake);
            libc::close(null);
        }
    }

    /// A ring given up while its descriptor is fine: the operation the
    /// kernel runs completes through the epoll set, which holds the ring's
    /// descriptor for it.
    #[test]
    fn a_ring_given_up_waits_in_epoll_for_what_the_kernel_took() {
        use io_uring::opcode;
        // SAFETY: a plain system call making a descriptor this test owns.
        let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(wake >= 0);
        let Some((mut b, ts)) = backend_running_a_timeout(wake) else {
            // SAFETY: opened above.
            unsafe { libc::close(wake) };
            return;
        };
        let mut out = Vec::new();
        let r = b.ring().unwrap();
        r.push_op(opcode::Nop::new().build(), REFUSED);
        r.give_up(libc::EIO);
        b.wait(&mut out, -1, false).unwrap();
        assert_eq!(
            out,
            vec![Event::Done {
                token: REFUSED,
                res: -libc::ECANCELED
            }]
        );
        assert!(b.ring_in_epoll);
        let t0 = std::time::Instant::now();
        let mut taken: Vec<Event> = Vec::new();
        while taken.is_empty() && t0.elapsed() < std::time::Duration::from_secs(5) {
            out.clear();
            let _ = b.wait(&mut out, 1000, false);
            taken.extend(
                out.iter()
                    .filter(|e| matches!(e, Event::Done { .. }))
                    .copied(),
            );
        }
        assert_eq!(
            taken,
            vec![Event::Done {
                token: TAKEN,
                res: -libc::ETIME
            }]
        );
        assert_eq!(b.ring().unwrap().in_flight(), 0);
        drop(b);
        drop(ts);
        // SAFETY: opened above.
        unsafe { libc::close(wake) };
    }
}
