//! The io_uring backend: one ring per loop. File operations are native
//! requests in the ring; the loop's timeout rides on the io_uring_enter that
//! submits them, so a turn of a file-heavy loop costs one system call.
//!
//! Descriptor watchers stay in an epoll set that the ring itself polls. A
//! poll request in the ring would hold a reference to its socket: a closed
//! listening socket would stay bound until the ring noticed, and after the
//! process dies until the kernel's asynchronous ring teardown ran, so a
//! restarted server would meet EADDRINUSE. epoll holds no such reference,
//! and keeps libuv's level-triggered semantics for free.
//!
//! Hazards handled here: EINTR from io_uring_enter (a stopped or traced
//! process) is returned to the caller, which retries with the time left;
//! completions that overflowed the CQ are flushed, never dropped; no request
//! is ever marked IOSQE_ASYNC.

use super::epoll::Epoll;
use super::{Event, FS_EVENT, WAKE_TOKEN};
use io_uring::{opcode, types, IoUring};
use libc::{c_int, c_uint};

const TAG_MASK: u64 = 0b11;
/// The poll of the epoll set fired: harvest it with epoll_wait(0).
const TAG_EPOLL: u64 = 1;
/// File operations carry their request's address with this tag.
pub const TAG_FS: u64 = 3;

pub struct Uring {
    ring: IoUring,
    coop_taskrun: bool,
    /// The watchers (and the loop's wake-up eventfd) live here.
    pub epoll: Epoll,
    /// Whether a poll of the epoll set is in the ring.
    epoll_armed: bool,
    pub sqpoll: bool,
    probe: io_uring::Probe,
    /// Reading the current file position with offset -1 (Linux 5.6).
    pub rw_cur_pos: bool,
    /// File operations submitted and not yet completed.
    pub fs_in_flight: usize,
    /// Per-request state of file operations in flight (statx buffers, the
    /// start of a buffer list being written), by request address.
    pub fs_aux: std::collections::HashMap<usize, FsAux>,
    /// File operations accepted but not yet in the submission queue.
    fs_queue: Vec<(usize, io_uring::squeue::Entry)>,
    /// Credentials the ring (and its io-wq workers) were created with.
    creds: Creds,
    /// Loop turn of the last credential check, and whether they changed.
    creds_checked: u64,
    pub creds_stale: bool,
}

/// What a file operation in flight needs kept alive besides its request.
#[derive(Default)]
pub struct FsAux {
    pub statx: Option<Box<libc::statx>>,
    pub first_buf: usize,
    /// The result of an operation answered before submission (a no-op
    /// carries it through the ring).
    pub inline_res: Option<i32>,
}

/// The identity an SQPOLL ring submits with: its kernel thread keeps the
/// credentials of the ring's creator, so a process that changes them later
/// (setuid and friends, CVE-2024-22017) must not have file operations run
/// with the old ones. A plain ring needs no check: the kernel gives each
/// request the submitting thread's credentials of the moment, also when it
/// hands the request to an io-wq worker (compat/hazards test 6 shows both
/// on the machine it runs on, with a raw-ring control).
#[derive(PartialEq, Eq, Clone, Default)]
struct Creds {
    uids: [libc::uid_t; 3],
    gids: [libc::gid_t; 3],
    groups: Vec<libc::gid_t>,
}

fn current_creds() -> Creds {
    let mut c = Creds::default();
    unsafe {
        libc::getresuid(&mut c.uids[0], &mut c.uids[1], &mut c.uids[2]);
        libc::getresgid(&mut c.gids[0], &mut c.gids[1], &mut c.gids[2]);
        let n = libc::getgroups(0, std::ptr::null_mut());
        if n > 0 {
            c.groups = vec![0; n as usize];
            let n = libc::getgroups(n, c.groups.as_mut_ptr());
            c.groups.truncate(n.max(0) as usize);
        }
    }
    c
}

/// Above this many file operations in flight, stats go to the ring's workers.
const INLINE_STAT_MAX_IN_FLIGHT: usize = 8;

fn os_err(e: std::io::Error) -> c_int {
    -e.raw_os_error().unwrap_or(libc::EIO)
}

impl Uring {
    /// Sets up a ring; any failure means the loop uses epoll instead.
    pub fn new(entries: u32, sqpoll: bool) -> Result<Uring, c_int> {
        let build = |coop: bool| {
            let mut b = IoUring::builder();
            if sqpoll {
                b.setup_sqpoll(1000);
            }
            if coop {
                // Completions of io-wq work reach the loop thread when it next
                // enters the kernel (it always does, to wait) instead of by an
                // interrupt: measured 1.6-2x the stat throughput at 64 in flight.
                b.setup_coop_taskrun();
            }
            b.build(entries)
        };
        // COOP_TASKRUN is 5.19+; an older kernel that grants a ring gets one without it.
        let (ring, coop_taskrun) = match build(true) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => (build(false), false),
            r => (r, true),
        };
        let ring = ring.map_err(os_err)?;
        let p = ring.params();
        // NODROP: overflowed completions are kept; EXT_ARG: timeout in enter.
        if !p.is_feature_nodrop() || !p.is_feature_ext_arg() {
            return Err(-libc::ENOSYS);
        }
        let mut probe = io_uring::Probe::new();
        ring.submitter()
            .register_probe(&mut probe)
            .map_err(os_err)?;
        if !probe.is_supported(opcode::PollAdd::CODE)
            || !probe.is_supported(opcode::PollRemove::CODE)
        {
            return Err(-libc::ENOSYS);
        }
        let rw_cur_pos = p.is_feature_rw_cur_pos();
        let epoll = Epoll::new()?;
        Ok(Uring {
            ring,
            epoll,
            epoll_armed: false,
            sqpoll,
            coop_taskrun,
            probe,
            rw_cur_pos,
            fs_in_flight: 0,
            fs_aux: std::collections::HashMap::new(),
            fs_queue: Vec::new(),
            creds: current_creds(),
            creds_checked: 0,
            creds_stale: false,
        })
    }

    pub fn fd(&self) -> c_int {
        use std::os::fd::AsRawFd;
        self.ring.as_raw_fd()
    }

    /// Puts the loop's wake-up eventfd in the epoll set and the poll of the
    /// set in the ring, submitted at once so that the ring fd reports an
    /// async send even before the first run.
    pub fn set_wake_fd(&mut self, fd: c_int) -> Result<(), c_int> {
        self.epoll.set(fd, libc::EPOLLIN as u32, WAKE_TOKEN)?;
        self.arm_epoll();
        self.submit();
        Ok(())
    }

    /// Re-arms the poll of the epoll set if its last one completed.
    pub fn arm_epoll(&mut self) {
        if !self.epoll_armed {
            self.epoll_armed = true;
            self.push(
                opcode::PollAdd::new(types::Fd(self.epoll.fd), libc::POLLIN as u32)
                    .build()
                    .user_data(TAG_EPOLL),
            );
        }
    }

    /// Queues an SQE, submitting what is queued when the ring is full.
    fn push(&mut self, sqe: io_uring::squeue::Entry) {
        loop {
            // SAFETY: every SQE we build points at nothing that can move or
            // die before its completion (poll requests carry no buffers).
            if unsafe { self.ring.submission().push(&sqe) }.is_ok() {
                return;
            }
            if self.ring.submit().is_err() {
                // EINTR/EAGAIN/EBUSY: completions must be reaped first;
                // the caller's next wait does that. Try once more.
                std::thread::yield_now();
            }
        }
    }

    /// The ring's features and the file operations it can take, for doctor.
    pub fn describe(&self) -> String {
        let p = self.ring.params();
        let mut feats = Vec::new();
        for (on, name) in [
            (p.is_feature_nodrop(), "NODROP"),
            (p.is_feature_ext_arg(), "EXT_ARG"),
            (p.is_feature_rw_cur_pos(), "RW_CUR_POS"),
            (p.is_feature_fast_poll(), "FAST_POLL"),
            (p.is_feature_poll_32bits(), "POLL_32BITS"),
            (p.is_feature_native_workers(), "NATIVE_WORKERS"),
        ] {
            if on {
                feats.push(name);
            }
        }
        let mut ops = Vec::new();
        for (code, name) in [
            (opcode::OpenAt::CODE, "openat"),
            (opcode::Close::CODE, "close"),
            (opcode::Read::CODE, "read"),
            (opcode::Readv::CODE, "readv"),
            (opcode::Write::CODE, "write"),
            (opcode::Writev::CODE, "writev"),
            (opcode::Statx::CODE, "statx"),
            (opcode::Fsync::CODE, "fsync"),
            (opcode::RenameAt::CODE, "renameat"),
            (opcode::UnlinkAt::CODE, "unlinkat"),
            (opcode::MkDirAt::CODE, "mkdirat"),
            (opcode::LinkAt::CODE, "linkat"),
            (opcode::SymlinkAt::CODE, "symlinkat"),
        ] {
            if self.probe.is_supported(code) {
                ops.push(name);
            }
        }
        format!(
            "features {}; setup {}; file operations in the ring: {}",
            feats.join(" "),
            match (self.sqpoll, self.coop_taskrun) {
                (true, true) => "SQPOLL COOP_TASKRUN",
                (true, false) => "SQPOLL",
                (false, true) => "COOP_TASKRUN",
                (false, false) => "plain",
            },
            ops.join(" ")
        )
    }

    pub fn supports(&self, code: u8) -> bool {
        self.probe.is_supported(code)
    }

    /// Whether file operations may go to this ring now. For an SQPOLL ring,
    /// checked once per loop turn: a changed identity makes the ring stale;
    /// the loop rebuilds it once its operations in flight are done, the pool
    /// serves meanwhile. (3-4 system calls, which a plain ring is spared.)
    pub fn fs_allowed(&mut self, turn: u64) -> bool {
        if !self.sqpoll {
            return true;
        }
        if !self.creds_stale && self.creds_checked != turn {
            self.creds_checked = turn;
            if current_creds() != self.creds {
                self.creds_stale = true;
            }
        }
        !self.creds_stale
    }

    /// Whether the loop thread may answer a stat itself (fs::cached_stat).
    /// With few operations in flight that saves a thread hand-off per stat
    /// (7x the pool at one in flight, measured); with many, the ring's
    /// workers batch them on every CPU and beat one loop thread.
    pub fn inline_stat_allowed(&self) -> bool {
        self.fs_in_flight < INLINE_STAT_MAX_IN_FLIGHT
    }

    /// Queues a file operation for request `req`. It reaches the kernel with
    /// the loop's next wait; until then uv_cancel can withdraw it.
    pub fn push_fs(&mut self, sqe: io_uring::squeue::Entry, req: usize) {
        self.fs_in_flight += 1;
        self.fs_queue
            .push((req, sqe.user_data(req as u64 | TAG_FS)));
    }

    /// Withdraws a file operation not yet handed to the kernel.
    pub fn cancel_fs(&mut self, req: usize) -> bool {
        match self.fs_queue.iter().position(|(r, _)| *r == req) {
            Some(i) => {
                self.fs_queue.remove(i);
                self.fs_in_flight -= 1;
                self.fs_aux.remove(&req);
                true
            }
            None => false,
        }
    }

    /// Moves queued file operations into the submission queue.
    pub fn flush_fs(&mut self) {
        for (_, sqe) in std::mem::take(&mut self.fs_queue) {
            self.push(sqe);
        }
    }

    pub fn has_queued(&mut self) -> bool {
        self.flush_fs();
        !self.ring.submission().is_empty()
    }

    /// Submits what is queued without waiting.
    pub fn submit(&mut self) {
        let _ = self.ring.submit();
    }

    /// Submits what is queued and waits up to `timeout` ms (-1: no limit) for
    /// at least one completion; appends what completed to `out`.
    pub fn wait(
        &mut self,
        out: &mut Vec<Event>,
        timeout: c_int,
        block_sigprof: bool,
    ) -> Result<(), c_int> {
        self.arm_epoll();
        self.flush_fs();
        let r = if timeout == 0 {
            self.ring.submit()
        } else {
            let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
            unsafe {
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGPROF);
            }
            let ts = types::Timespec::new()
                .sec((timeout.max(0) / 1000) as u64)
                .nsec(((timeout.max(0) % 1000) * 1_000_000) as u32);
            let mut args = types::SubmitArgs::new();
            if timeout > 0 {
                args = args.timespec(&ts);
            }
            let args = if block_sigprof {
                args.sigmask(&set)
            } else {
                args
            };
            self.ring.submitter().submit_with_args(1, &args)
        };
        match r {
            Ok(_) => {}
            Err(e) => match e.raw_os_error() {
                // Timed out, or the CQ is full: reap below either way.
                Some(libc::ETIME) | Some(libc::EBUSY) => {}
                Some(libc::EINTR) => {
                    self.reap(out);
                    if out.is_empty() {
                        return Err(-libc::EINTR);
                    }
                }
                _ => return Err(os_err(e)),
            },
        }
        self.reap(out);
        Ok(())
    }

    /// Collects what the epoll set has ready, without blocking.
    fn harvest_epoll(&mut self, out: &mut Vec<Event>) {
        let mut evs: [libc::epoll_event; 256] = unsafe { std::mem::zeroed() };
        if let Ok(n) = self.epoll.wait(&mut evs, 0, false) {
            out.extend(evs[..n].iter().map(|ev| Event {
                token: ev.u64,
                events: ev.events,
            }));
        }
    }

    fn reap(&mut self, out: &mut Vec<Event>) {
        loop {
            let batch: Vec<(u64, i32)> = self
                .ring
                .completion()
                .map(|c| (c.user_data(), c.result()))
                .collect();
            for (ud, res) in batch {
                match ud & TAG_MASK {
                    TAG_EPOLL => {
                        self.epoll_armed = false;
                        self.harvest_epoll(out);
                    }
                    TAG_FS => {
                        self.fs_in_flight -= 1;
                        out.push(Event {
                            token: (ud & !TAG_MASK) | FS_EVENT,
                            events: res as c_uint,
                        })
                    }
                    _ => {}
                }
            }
            // Completions the kernel kept aside when the CQ was full.
            if !self.ring.submission().cq_overflow() {
                return;
            }
            let _ = self.ring.submit();
        }
    }
}
