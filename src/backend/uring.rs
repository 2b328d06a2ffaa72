//! The loop's io_uring: it runs file operations, and while some are in
//! flight the loop waits in io_uring_enter, with the epoll set polled by the
//! ring, so that a turn submits, waits and times out in one system call.
//!
//! The ring knows submission entries and completions, nothing of what they
//! are for: an operation is pushed with a token (its request's address) and
//! comes back as `Reaped::Done` with that token.
//!
//! Descriptor watchers never go into the ring: a poll request holds a
//! reference to its socket, so a closed listening socket would stay bound
//! until the ring noticed (EADDRINUSE for a restarted server). No socket
//! operation is ever placed here, so none can wait in the ring forever.
//! Changes of the epoll set may go through it (`epoll_ctl_batch`): an
//! EPOLL_CTL entry holds nothing once it has run, and a batch is waited for
//! before the loop goes on.
//!
//! Hazards handled here: EINTR from io_uring_enter (a stopped or traced
//! process) is reported after reaping, and the caller retries with the time
//! left; completions that overflowed the CQ are flushed, never dropped; no
//! request is marked IOSQE_ASYNC.
//!
//! A ring whose kernel stops taking entries (io_uring_enter failing with
//! anything but EINTR or EBUSY, after a few spaced tries for EAGAIN and
//! ENOMEM) is given up for the loop's life: what it never took comes back as
//! `Done` with ECANCELED, which the file code runs on the pool, and new work
//! goes to the pool. Waiting on the loop thread until the kernel recovers
//! would stall every handle of the loop, and forever if it never does.

use io_uring::{opcode, squeue, types, IoUring};
use libc::c_int;
use std::collections::VecDeque;

/// A completion, as the backend needs to know it.
pub enum Reaped {
    /// An operation pushed with `token` finished with `res`.
    Done { token: usize, res: i32 },
    /// The poll of the epoll set fired: harvest it with epoll_wait(0).
    EpollReady,
}

// user_data values, disjoint by value: the ring's own requests use numbers
// below 4096, which no request address can be.
/// Removal of a poll, and a timeout entry of a kernel without EXT_ARG.
const UD_QUIET: u64 = 0;
/// Polls of the epoll set, one generation each, so a late completion of a
/// removed poll is never taken for the live one.
const UD_POLL_FIRST: u64 = 1;
const UD_POLL_LAST: u64 = 2047;
/// Changes of the epoll set in a batch: this plus the change's place in it.
const UD_CTL_FIRST: u64 = 2048;
const CTL_BATCH_MAX: usize = 2048;
/// Tokens of operations start here.
const TOKEN_MIN: usize = 4096;

pub struct Ring {
    ring: IoUring,
    epoll_fd: c_int,
    coop_taskrun: bool,
    sqpoll: bool,
    /// The kernel takes the wait's timeout and sigmask in io_uring_enter
    /// (5.11); without it, a timeout entry is queued instead.
    ext_arg: bool,
    probe: io_uring::Probe,
    /// Reading and writing at the file's position with offset -1 (5.6).
    pub rw_cur_pos: bool,
    /// Operations pushed and not yet completed, queued ones included.
    in_flight: usize,
    /// Operations accepted but not yet in the submission queue: uv_cancel
    /// can still withdraw them.
    queue: Vec<(usize, squeue::Entry)>,
    /// user_data of the live poll of the epoll set; UD_QUIET when none.
    poll_ud: u64,
    last_poll_ud: u64,
    /// Completions taken off the CQ to make room while submitting, and
    /// operations handed back by a ring given up.
    backlog: Vec<(u64, i32)>,
    /// user_data of the entries in the submission queue the kernel has not
    /// taken yet, oldest first: what a ring given up must hand back.
    sq_uds: VecDeque<u64>,
    /// Submissions failed in a row (EAGAIN, ENOMEM) since the last success.
    failures: u32,
    /// Why the ring was given up, if it was (an errno).
    broken: Option<c_int>,
    /// The timeout entry's time: the kernel reads it when it is submitted.
    timeout_ts: types::Timespec,
    /// Credentials the ring (and its io-wq workers) were created with.
    creds: Creds,
    /// Loop turn of the last credential check, and whether they changed.
    creds_checked: u64,
    pub creds_stale: bool,
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
    // SAFETY: the get*id calls write the three locals they are given; the
    // second getgroups writes at most `n` entries into a Vec of `n` (more
    // groups meanwhile make it fail, and -1 truncates to nothing).
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

/// Tries of a submission the kernel refuses for want of memory (EAGAIN,
/// ENOMEM) before the ring is given up: with `submit_backoff` in between,
/// about 2.6 ms of the loop thread, once.
const SUBMIT_TRIES: u32 = 8;

/// The pause before retrying a submission that failed `failures` times
/// before: a yield first, then sleeps doubling from 50 µs to at most 1 ms.
fn submit_backoff(failures: u32) {
    match submit_backoff_delay(failures) {
        None => std::thread::yield_now(),
        Some(d) => std::thread::sleep(d),
    }
}

/// `submit_backoff`'s sleep; None for the yield.
fn submit_backoff_delay(failures: u32) -> Option<std::time::Duration> {
    (failures > 0).then(|| std::time::Duration::from_micros((25u64 << failures.min(6)).min(1000)))
}

fn os_err(e: std::io::Error) -> c_int {
    -e.raw_os_error().unwrap_or(libc::EIO)
}

impl Ring {
    /// Sets up a ring that polls `epoll_fd`; any failure means no ring.
    /// What the kernel offers is probed here, never inferred from its
    /// version: a missing feature costs that feature's fallback only.
    pub fn new(entries: u32, sqpoll: bool, epoll_fd: c_int) -> Result<Ring, c_int> {
        let build = |coop: bool| {
            let mut b = IoUring::builder();
            if sqpoll {
                b.setup_sqpoll(1000);
            }
            if coop {
                // Completions of io-wq work reach the loop thread when it next
                // enters the kernel (it does, to wait) instead of by an
                // interrupt: measured 1.6-2x the stat throughput at 64 in flight.
                b.setup_coop_taskrun();
            }
            b.build(entries)
        };
        // A kernel that does not know COOP_TASKRUN (5.19) refuses the flag.
        let (ring, coop_taskrun) = match build(true) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => (build(false), false),
            r => (r, true),
        };
        let ring = ring.map_err(os_err)?;
        let p = ring.params();
        // Without NODROP (5.5) a full CQ would lose completions: no ring.
        if !p.is_feature_nodrop() {
            return Err(-libc::ENOSYS);
        }
        let mut probe = io_uring::Probe::new();
        ring.submitter()
            .register_probe(&mut probe)
            .map_err(os_err)?;
        let needed = [
            opcode::PollAdd::CODE,
            opcode::PollRemove::CODE,
            opcode::Nop::CODE,
            opcode::Timeout::CODE,
        ];
        if needed.iter().any(|&c| !probe.is_supported(c)) {
            return Err(-libc::ENOSYS);
        }
        Ok(Ring {
            epoll_fd,
            coop_taskrun,
            sqpoll,
            ext_arg: p.is_feature_ext_arg(),
            rw_cur_pos: p.is_feature_rw_cur_pos(),
            ring,
            probe,
            in_flight: 0,
            queue: Vec::new(),
            poll_ud: UD_QUIET,
            last_poll_ud: UD_POLL_LAST,
            backlog: Vec::new(),
            sq_uds: VecDeque::new(),
            failures: 0,
            broken: None,
            timeout_ts: types::Timespec::new(),
            creds: current_creds(),
            creds_checked: 0,
            creds_stale: false,
        })
    }

    pub fn fd(&self) -> c_int {
        use std::os::fd::AsRawFd;
        self.ring.as_raw_fd()
    }

    /// Operations pushed and not completed yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether the kernel offers opcode `code` in this ring.
    pub fn supports(&self, code: u8) -> bool {
        self.probe.is_supported(code)
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
        let mut setup = Vec::new();
        if self.sqpoll {
            setup.push("SQPOLL");
        }
        if self.coop_taskrun {
            setup.push("COOP_TASKRUN");
        }
        if setup.is_empty() {
            setup.push("plain");
        }
        format!(
            "features {}; setup {}; wait timeout {}; file operations in the ring: {}",
            feats.join(" "),
            setup.join(" "),
            if self.ext_arg {
                "in io_uring_enter (EXT_ARG)"
            } else {
                "as a timeout entry (no EXT_ARG)"
            },
            ops.join(" ")
        )
    }

    /// Whether operations may go to this ring now. For an SQPOLL ring,
    /// checked once per loop turn: a changed identity makes the ring stale;
    /// the loop rebuilds it once its operations in flight are done, and the
    /// pool serves meanwhile. (3-4 system calls, which a plain ring is spared.)
    pub fn submit_allowed(&mut self, turn: u64) -> bool {
        if self.broken.is_some() {
            return false;
        }
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

    /// Queues an operation; it reaches the kernel with the loop's next wait
    /// (until then `withdraw` can take it back) and comes back as
    /// `Reaped::Done { token, .. }`.
    pub fn push_op(&mut self, sqe: squeue::Entry, token: usize) {
        debug_assert!(token >= TOKEN_MIN);
        self.in_flight += 1;
        if self.broken.is_some() {
            // Callers ask `submit_allowed`/`usable` first; should one not,
            // the operation still comes back (to the pool), never strands.
            self.hand_back([token]);
            return;
        }
        self.queue.push((token, sqe.user_data(token as u64)));
    }

    /// Withdraws an operation not yet handed to the kernel.
    pub fn withdraw(&mut self, token: usize) -> bool {
        match self.queue.iter().position(|(t, _)| *t == token) {
            Some(i) => {
                self.queue.remove(i);
                self.in_flight -= 1;
                true
            }
            None => false,
        }
    }

    /// Whether changes of the epoll set can go through the ring now: a plain
    /// ring (an SQPOLL thread would run them later) whose kernel knows
    /// EPOLL_CTL (5.6), with no operation of its own queued or in flight, so
    /// that only the batch, the ring's poll of the set and that poll's
    /// removal can complete in it meanwhile.
    pub fn can_batch_epoll_ctl(&mut self) -> bool {
        self.broken.is_none()
            && !self.sqpoll
            && self.in_flight == 0
            && self.queue.is_empty()
            && self.ring.submission().is_empty()
            && self.probe.is_supported(opcode::EpollCtl::CODE)
    }

    /// Makes `changes` (op, fd, event) to the epoll set the ring polls, as
    /// EPOLL_CTL entries submitted together, and waits until each has run:
    /// `results[i]` is change i's result, or None when the kernel never took
    /// it (the ring given up meanwhile; the caller makes it itself).
    /// Ask `can_batch_epoll_ctl` first.
    pub fn epoll_ctl_batch(
        &mut self,
        changes: &[(c_int, c_int, libc::epoll_event)],
        results: &mut Vec<Option<i32>>,
    ) {
        results.clear();
        results.resize(changes.len(), None);
        let room = (self.ring.params().sq_entries() as usize).min(CTL_BATCH_MAX);
        for (n, chunk) in changes.chunks(room).enumerate() {
            let base = n * room;
            for (i, (op, fd, ev)) in chunk.iter().enumerate() {
                // The kernel copies the event when it takes the entry, which
                // happens in this call (or never, on a ring given up).
                let ev = (ev as *const libc::epoll_event).cast::<types::epoll_event>();
                let sqe = opcode::EpollCtl::new(types::Fd(self.epoll_fd), types::Fd(*fd), *op, ev)
                    .build()
                    .user_data(UD_CTL_FIRST + i as u64);
                if self.push(&sqe).is_err() {
                    return;
                }
            }
            if !self.wait_for_ctl(chunk.len(), &mut results[base..base + chunk.len()]) {
                return;
            }
        }
    }

    /// Submits a batch of `left` EPOLL_CTL entries and takes completions
    /// until each has reported; false if the ring was given up first.
    fn wait_for_ctl(&mut self, mut left: usize, results: &mut [Option<i32>]) -> bool {
        let ctl = UD_CTL_FIRST..UD_CTL_FIRST + results.len() as u64;
        let mut others = Vec::new();
        loop {
            for c in self.ring.completion() {
                let ud = c.user_data();
                if ctl.contains(&ud) {
                    results[(ud - UD_CTL_FIRST) as usize] = Some(c.result());
                    left -= 1;
                } else {
                    others.push((ud, c.result()));
                }
            }
            for (ud, res) in others.drain(..) {
                if ud >= TOKEN_MIN as u64 {
                    // Not expected with nothing in flight; kept, never lost.
                    self.backlog.push((ud, res));
                } else {
                    // The poll of the set: the loop's next wait is epoll_wait,
                    // which sees the same readiness.
                    self.deliver(ud, res, &mut |_| {});
                }
            }
            if left == 0 {
                return true;
            }
            // Entries still in the SQ are submitted; the kernel runs EPOLL_CTL
            // at once unless the set's lock is busy (then an io-wq worker
            // does). Waiting for `left` may end early on another completion
            // or to flush an overflow: the loop takes those and waits again.
            let r = self.ring.submit_and_wait(left);
            self.note_taken();
            match r.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)) {
                Ok(_) => self.failures = 0,
                Err(libc::EINTR) | Err(libc::EBUSY) => {}
                Err(e) => {
                    if self.submit_failed(e).is_err() {
                        // The caller redoes what has no result. One an io-wq
                        // worker still runs (taken, lock busy) may land after
                        // that redo or a removal; its events then find no
                        // watcher, and dispatch takes the descriptor out.
                        return false;
                    }
                }
            }
        }
    }

    /// Whether completions wait in the backlog (a reap hands them over).
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Whether the ring still takes operations (it has not been given up).
    pub fn usable(&self) -> bool {
        self.broken.is_none()
    }

    /// Puts an entry in the submission queue, submitting to make room. An
    /// error means the ring has been given up (see the module's doc).
    fn push(&mut self, sqe: &squeue::Entry) -> Result<(), c_int> {
        // Nothing submits a given-up ring's queue: an entry put there would
        // never run.
        if let Some(e) = self.broken {
            return Err(e);
        }
        loop {
            // SAFETY: every entry points only at memory that stays valid for
            // as long as the kernel may use it. File operations (push_op,
            // from fs/uring.rs): their request's buffers, iovec array, paths
            // and statx space, all kept until the request's callback, which
            // comes after the completion. A no-op (an answer from the stat
            // cache), a poll of the epoll fd and a poll removal: no memory.
            // A timeout: the ring's own `timeout_ts`, read by the kernel when
            // the entry is submitted, which happens within the same `&mut
            // self` call (`wait`, through enter_without_ext_arg), so it can
            // neither move nor be freed before. An EPOLL_CTL entry: the
            // caller's event, copied by the kernel when it takes the entry,
            // within `epoll_ctl_batch`; should the ring be given up first,
            // the entry stays in the SQ, and a given-up ring is never
            // entered with anything to submit.
            if unsafe { self.ring.submission().push(sqe) }.is_ok() {
                self.sq_uds.push_back(sqe.get_user_data());
                return Ok(());
            }
            self.submit_once()?;
        }
    }

    /// One io_uring_enter handing the kernel what the submission queue
    /// holds. An error means the ring has been given up.
    fn submit_once(&mut self) -> Result<(), c_int> {
        // What a given-up ring's queue holds was handed back: never submit it.
        if let Some(e) = self.broken {
            return Err(e);
        }
        let r = self.ring.submit();
        self.note_taken();
        match r.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)) {
            Ok(_) => self.failures = 0,
            // A signal cut io_uring_enter short: nothing is wrong.
            Err(libc::EINTR) => {}
            // The CQ is full and its overflow not yet flushed: take
            // completions off it (delivered with the next reap).
            Err(libc::EBUSY) => {
                let cq = self.ring.completion();
                self.backlog.extend(cq.map(|c| (c.user_data(), c.result())));
            }
            Err(e) => return self.submit_failed(e),
        }
        Ok(())
    }

    /// Forgets the entries the kernel has taken from the submission queue.
    fn note_taken(&mut self) {
        let left = self.ring.submission().len();
        while self.sq_uds.len() > left {
            self.sq_uds.pop_front();
        }
    }

    /// io_uring_enter failed with `e` (neither EINTR nor EBUSY): Ok to try
    /// again after a pause, or the ring is given up and Err says why.
    fn submit_failed(&mut self, e: c_int) -> Result<(), c_int> {
        // The kernel short of memory for requests: that clears, but not by
        // retrying at once, which only spins the loop thread.
        if (e == libc::EAGAIN || e == libc::ENOMEM) && self.failures + 1 < SUBMIT_TRIES {
            submit_backoff(self.failures);
            self.failures += 1;
            return Ok(());
        }
        self.give_up(e);
        Err(e)
    }

    /// Stops using the ring: the operations it was given but the kernel
    /// never took come back as ECANCELED with the next reap.
    pub(super) fn give_up(&mut self, e: c_int) {
        if self.broken.is_some() {
            return;
        }
        self.broken = Some(e);
        super::policy::debug(format_args!(
            "io_uring_enter failed ({}): this loop's file operations go to the thread pool",
            std::io::Error::from_raw_os_error(e)
        ));
        let queued = std::mem::take(&mut self.queue);
        self.hand_back(queued.into_iter().map(|(t, _)| t));
        // A plain ring's kernel takes entries in io_uring_enter alone, and no
        // call of it will come: what its queue holds never runs. An SQPOLL
        // ring's kernel thread may still take entries it already saw, unless
        // it is gone (EOWNERDEAD); otherwise they stay, and complete if it
        // does take them (a thread asleep that nobody can wake strands them:
        // SQPOLL is only ever asked for explicitly).
        if !self.sqpoll || e == libc::EOWNERDEAD {
            let in_sq = std::mem::take(&mut self.sq_uds);
            if in_sq.contains(&self.poll_ud) {
                self.poll_ud = UD_QUIET;
            }
            let ops = in_sq.into_iter().filter(|&ud| ud >= TOKEN_MIN as u64);
            self.hand_back(ops.map(|ud| ud as usize));
        }
    }

    /// Returns operations the kernel will never see: each completes with
    /// ECANCELED at the next reap (and the file code runs it on the pool).
    fn hand_back(&mut self, tokens: impl IntoIterator<Item = usize>) {
        let cancelled = tokens.into_iter().map(|t| (t as u64, -libc::ECANCELED));
        self.backlog.extend(cancelled);
    }

    /// Whether the ring's descriptor may be put in an epoll set: not after
    /// io_uring_enter said it names no ring (closed, or reused for another
    /// file that a watcher may own).
    pub fn fd_is_ring(&self) -> bool {
        !matches!(
            self.broken,
            Some(libc::EBADF) | Some(libc::EOPNOTSUPP) | Some(libc::ENXIO)
        )
    }

    /// Moves queued operations into the submission queue; on a ring given
    /// up, hands them back instead.
    fn flush(&mut self) {
        let queue = std::mem::take(&mut self.queue);
        let mut entries = queue.into_iter();
        for (token, sqe) in entries.by_ref() {
            if self.push(&sqe).is_err() {
                self.hand_back([token]);
                break;
            }
        }
        self.hand_back(entries.map(|(t, _)| t));
    }

    fn arm_poll(&mut self) {
        if self.poll_ud != UD_QUIET {
            return;
        }
        let ud = if self.last_poll_ud >= UD_POLL_LAST {
            UD_POLL_FIRST
        } else {
            self.last_poll_ud + 1
        };
        self.last_poll_ud = ud;
        self.poll_ud = ud;
        let sqe = opcode::PollAdd::new(types::Fd(self.epoll_fd), libc::POLLIN as u32)
            .build()
            .user_data(ud);
        if self.push(&sqe).is_err() {
            self.poll_ud = UD_QUIET;
        }
    }

    /// Stops polling the epoll set (it is about to poll the ring instead:
    /// never both ways at once) and hands everything queued to the kernel.
    pub fn stop_polling_epoll(&mut self) {
        if self.broken.is_some() {
            return;
        }
        self.flush();
        if self.poll_ud != UD_QUIET {
            let sqe = opcode::PollRemove::new(self.poll_ud)
                .build()
                .user_data(UD_QUIET);
            self.poll_ud = UD_QUIET;
            let _ = self.push(&sqe);
        }
        // Everything must reach the kernel now: whoever polls the epoll set
        // until the next uv_run learns of completions through the ring's fd.
        while self.submit_once().is_ok() && !self.sqpoll && !self.ring.submission().is_empty() {}
    }

    /// Submits what is queued and waits up to `timeout` ms (-1: no limit)
    /// for a completion or for the epoll set; hands what completed to `f`.
    pub fn wait(
        &mut self,
        mut timeout: c_int,
        block_sigprof: bool,
        f: &mut dyn FnMut(Reaped),
    ) -> Result<(), c_int> {
        if !self.backlog.is_empty() {
            timeout = 0;
        }
        if timeout > 0 && !self.ext_arg {
            // First in the queue: a timeout entry counts the completions posted
            // after it is issued, and a no-op or a ready poll completes inline
            // at submission; queued later, it would wait for one more and wake
            // a later wait early.
            self.push_timeout_entry(timeout);
        }
        self.arm_poll();
        self.flush();
        if self.broken.is_some() {
            // No more io_uring_enter: hand over what came back.
            self.reap(f);
            return Ok(());
        }
        let r = if timeout == 0 {
            self.ring.submit()
        } else if self.ext_arg {
            // SAFETY: sigset_t is plain data; all-zero is a valid value.
            let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
            // SAFETY: `set` is a local sigset the calls write.
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
            if block_sigprof {
                args = args.sigmask(&set);
            }
            self.ring.submitter().submit_with_args(1, &args)
        } else {
            self.enter_without_ext_arg(block_sigprof)
        };
        self.note_taken();
        match r.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)) {
            // Timed out, or the CQ is full: reap below either way.
            Ok(_) | Err(libc::ETIME) | Err(libc::EBUSY) => self.failures = 0,
            Err(libc::EINTR) => {
                if self.reap(f) == 0 {
                    return Err(-libc::EINTR);
                }
                return Ok(());
            }
            // What the kernel did not take stays queued for the next wait
            // after a pause, or comes back now if the ring is given up; the
            // caller waits again either way.
            Err(e) => {
                let _ = self.submit_failed(e);
            }
        }
        self.reap(f);
        Ok(())
    }

    /// The timeout of a wait on a kernel without EXT_ARG: an entry that ends
    /// at the first completion after it (count 1) or when it expires, so none
    /// is left behind to wake a later wait.
    fn push_timeout_entry(&mut self, timeout: c_int) {
        self.timeout_ts = types::Timespec::new()
            .sec((timeout / 1000) as u64)
            .nsec(((timeout % 1000) * 1_000_000) as u32);
        let sqe = opcode::Timeout::new(&self.timeout_ts)
            .count(1)
            .build()
            .user_data(UD_QUIET);
        // Only a ring given up refuses it, and that one is not waited on.
        let _ = self.push(&sqe);
    }

    /// A wait on a kernel without EXT_ARG (its timeout is an entry already
    /// queued); the sigmask is io_uring_enter's own.
    fn enter_without_ext_arg(&mut self, block_sigprof: bool) -> std::io::Result<usize> {
        let to_submit = self.ring.submission().len() as u32;
        // The kernel's sigset is 64 bits wide (_NSIG / 8 bytes).
        let mask: u64 = 1 << (libc::SIGPROF - 1);
        let mut flags = io_uring::EnterFlags::GETEVENTS;
        if self.sqpoll {
            flags |= io_uring::EnterFlags::SQ_WAKEUP;
        }
        let flags = flags.bits();
        // SAFETY: `mask` is a kernel sigset of the size passed along.
        unsafe {
            self.ring
                .submitter()
                .enter::<u64>(to_submit, 1, flags, block_sigprof.then_some(&mask))
        }
    }

    /// Takes every completion off the ring (overflowed ones included) and
    /// hands those the backend cares about to `f`; returns how many.
    pub fn reap(&mut self, f: &mut dyn FnMut(Reaped)) -> usize {
        let mut n = 0;
        let backlog = std::mem::take(&mut self.backlog);
        for (ud, res) in backlog {
            n += self.deliver(ud, res, f);
        }
        loop {
            let batch: Vec<(u64, i32)> = self
                .ring
                .completion()
                .map(|c| (c.user_data(), c.result()))
                .collect();
            for (ud, res) in batch {
                n += self.deliver(ud, res, f);
            }
            // Completions the kernel kept aside when the CQ was full: an
            // enter that submits nothing moves them over (what the queue
            // holds goes with the next wait, or never on a ring given up).
            if !self.ring.submission().cq_overflow() {
                return n;
            }
            let flags = io_uring::EnterFlags::GETEVENTS.bits();
            // SAFETY: no submission, no wait and no argument: the kernel
            // only flushes its overflow list into the CQ.
            let r = unsafe {
                self.ring
                    .submitter()
                    .enter::<libc::sigset_t>(0, 0, flags, None)
            };
            if r.is_err_and(|e| e.raw_os_error() != Some(libc::EINTR)) {
                // Not flushed now (a ring given up may never be): the rest
                // comes with a later reap, not by spinning here.
                return n;
            }
        }
    }

    fn deliver(&mut self, ud: u64, res: i32, f: &mut dyn FnMut(Reaped)) -> usize {
        if ud >= TOKEN_MIN as u64 {
            self.in_flight -= 1;
            f(Reaped::Done {
                token: ud as usize,
                res,
            });
            return 1;
        }
        if ud != UD_QUIET && ud == self.poll_ud {
            self.poll_ud = UD_QUIET;
            if res >= 0 {
                f(Reaped::EpollReady);
                return 1;
            }
        }
        // A removed poll's late completion, a removal, a timeout entry.
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// What a wait handed over, comparable.
    fn wait_for(ring: &mut Ring, timeout: c_int) -> (Vec<(usize, i32)>, Duration) {
        let mut got = Vec::new();
        let t0 = Instant::now();
        ring.wait(timeout, false, &mut |r| match r {
            Reaped::Done { token, res } => got.push((token, res)),
            Reaped::EpollReady => got.push((0, 0)),
        })
        .expect("wait");
        (got, t0.elapsed())
    }

    /// A ring of `entries` polling a new epoll set, and that set's
    /// descriptor; None (said on stderr) where no ring can be had.
    fn ring_on_new_epoll(entries: u32) -> Option<(Ring, c_int)> {
        // SAFETY: a plain system call making a descriptor the caller owns.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(ep >= 0);
        match Ring::new(entries, false, ep) {
            Ok(r) => Some((r, ep)),
            Err(e) => {
                eprintln!("skipped: no io_uring here ({e})");
                // SAFETY: opened above, used by nothing else.
                unsafe { libc::close(ep) };
                None
            }
        }
    }

    /// A batch of epoll changes runs through the ring, in chunks of the SQ's
    /// size: every result comes back, in its place, and the set holds what
    /// was asked. The ring's own poll of the set is armed: the batch makes
    /// it fire, which must not disturb the results.
    #[test]
    fn epoll_ctl_batch_changes_the_set_and_reports_each_result() {
        let Some((mut ring, ep)) = ring_on_new_epoll(8) else {
            return;
        };
        if !ring.can_batch_epoll_ctl() {
            eprintln!("skipped: this kernel has no IORING_OP_EPOLL_CTL");
            // SAFETY: opened by ring_on_new_epoll, used by nothing else.
            unsafe { libc::close(ep) };
            return;
        }
        // Arm the ring's poll of the (empty) set; the batch makes it ready.
        let (got, _) = wait_for(&mut ring, 0);
        assert!(got.is_empty());
        // SAFETY: plain system calls making descriptors this test owns.
        let fds: Vec<c_int> = (0..21)
            .map(|_| unsafe { libc::eventfd(1, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })
            .collect();
        assert!(fds.iter().all(|&fd| fd >= 0));
        let ev = |fd: c_int, events: c_int| libc::epoll_event {
            events: events as u32,
            u64: fd as u64,
        };
        // The last one is in the set already: its ADD fails, its MOD works.
        let mut pre = ev(fds[20], libc::EPOLLOUT);
        // SAFETY: `pre` is a local the call reads.
        let r = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fds[20], &mut pre) };
        assert_eq!(r, 0);
        let mut changes: Vec<_> = fds
            .iter()
            .map(|&fd| (libc::EPOLL_CTL_ADD, fd, ev(fd, libc::EPOLLIN)))
            .collect();
        changes.push((libc::EPOLL_CTL_MOD, fds[20], ev(fds[20], libc::EPOLLIN)));
        changes.push((libc::EPOLL_CTL_MOD, 1 << 20, ev(1 << 20, libc::EPOLLIN)));
        let mut res = Vec::new();
        ring.epoll_ctl_batch(&changes, &mut res);
        assert_eq!(res[..20], [Some(0); 20]);
        assert_eq!(
            res[20..],
            [Some(-libc::EEXIST), Some(0), Some(-libc::EBADF)]
        );
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 32];
        // SAFETY: `evs` has room for 32 entries; a zero timeout only polls.
        let n = unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), 32, 0) };
        assert_eq!(n, 21);
        for e in &evs[..21] {
            assert_eq!({ e.events }, libc::EPOLLIN as u32);
            assert!(fds.contains(&({ e.u64 } as c_int)));
        }
        // Nothing of the batch is left in the ring: a later reap finds at
        // most the poll it fired, never an operation's completion.
        assert!(ring.can_batch_epoll_ctl());
        assert!(ring.backlog.is_empty());
        let mut done = 0;
        ring.reap(&mut |c| {
            if let Reaped::Done { .. } = c {
                done += 1
            }
        });
        assert_eq!(done, 0);
        drop(ring);
        // SAFETY: the descriptors are this test's, closed once.
        unsafe {
            for fd in fds {
                libc::close(fd);
            }
            libc::close(ep);
        }
    }

    /// No kernel this project tests on lacks EXT_ARG (Debian's 5.10 has the
    /// 5.15 io_uring), so the timeout-entry wait is forced here: it must end
    /// at its timeout, at the first completion, or when the epoll set is
    /// ready, and leave no entry behind to wake a later wait early.
    #[test]
    fn waits_without_ext_arg_end_at_timeout_completion_or_epoll() {
        let Some((mut ring, ep)) = ring_on_new_epoll(8) else {
            return;
        };
        // SAFETY: a plain system call making a descriptor this test owns.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(efd >= 0);
        ring.ext_arg = false;

        let (got, took) = wait_for(&mut ring, 50);
        assert!(got.is_empty(), "{got:?}");
        assert!(took >= Duration::from_millis(50), "{took:?}");

        ring.push_op(opcode::Nop::new().build(), TOKEN_MIN);
        let (got, took) = wait_for(&mut ring, 200);
        assert_eq!(got, vec![(TOKEN_MIN, 0)]);
        assert!(took < Duration::from_millis(150), "{took:?}");
        assert_eq!(ring.in_flight(), 0);
        // The 200 ms entry ended with the no-op: it must not cut this wait short.
        let (got, took) = wait_for(&mut ring, 600);
        assert!(got.is_empty(), "{got:?}");
        assert!(took >= Duration::from_millis(600), "{took:?}");

        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 1,
        };
        let one = 1u64;
        // SAFETY: `ev` and `one` are locals; the descriptors are this test's.
        unsafe {
            assert_eq!(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, efd, &mut ev), 0);
            assert_eq!(libc::write(efd, (&one as *const u64).cast(), 8), 8);
        }
        let (got, took) = wait_for(&mut ring, 5000);
        assert_eq!(got, vec![(0, 0)]);
        assert!(took < Duration::from_millis(1000), "{took:?}");

        drop(ring);
        // SAFETY: both were opened above; the ring that polled `ep` is gone.
        unsafe {
            libc::close(ep);
            libc::close(efd);
        }
    }

    /// A ring whose io_uring_enter fails for good (here its descriptor is
    /// made to name another file) hands back, as ECANCELED, every operation
    /// the kernel never took, at once and without sleeping, and takes no
    /// more: the loop's file operations then go to the pool.
    #[test]
    fn a_ring_given_up_hands_back_what_the_kernel_never_took() {
        let Some((mut ring, ep)) = ring_on_new_epoll(4) else {
            return;
        };
        // SAFETY: a plain system call making a descriptor this test owns.
        let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        assert!(null >= 0);
        ring.push_op(opcode::Nop::new().build(), TOKEN_MIN);
        let (got, _) = wait_for(&mut ring, 0);
        assert_eq!(got, vec![(TOKEN_MIN, 0)]);
        assert!(ring.usable());

        // SAFETY: the ring's memory stays mapped (the mappings hold the
        // ring's file); only its descriptor number now names /dev/null,
        // and io_uring_enter on it fails with EOPNOTSUPP.
        assert!(unsafe { libc::dup2(null, ring.fd()) } >= 0);
        // More than the submission queue holds: some reach it, the rest
        // stay queued when the submission to make room fails.
        let tokens: Vec<usize> = (1..=6).map(|i| TOKEN_MIN + i).collect();
        for &t in &tokens {
            ring.push_op(opcode::Nop::new().build(), t);
        }
        let (mut got, took) = wait_for(&mut ring, 5000);
        got.sort();
        let want: Vec<(usize, i32)> = tokens.iter().map(|&t| (t, -libc::ECANCELED)).collect();
        assert_eq!(got, want);
        assert!(took < Duration::from_millis(1000), "{took:?}");
        assert_eq!(ring.in_flight(), 0);
        assert!(!ring.usable());
        assert_eq!(ring.broken, Some(libc::EOPNOTSUPP));
        assert!(!ring.fd_is_ring());
        assert!(!ring.submit_allowed(1));
        assert!(!ring.has_backlog());

        drop(ring);
        // SAFETY: both were opened above (the ring closed its own number).
        unsafe {
            libc::close(ep);
            libc::close(null);
        }
    }

    /// What a ring given up hands back is never submitted after all (the
    /// pool runs it: twice would be wrong), even when it already sits in
    /// the submission queue of a ring whose kernel is fine; and an
    /// operation pushed to it afterwards comes straight back.
    #[test]
    fn a_ring_given_up_never_submits_what_it_handed_back() {
        let Some((mut ring, ep)) = ring_on_new_epoll(8) else {
            return;
        };
        for t in 0..3 {
            ring.push_op(opcode::Nop::new().build(), TOKEN_MIN + t);
        }
        // In the submission queue, not yet submitted.
        ring.flush();
        assert_eq!(ring.ring.submission().len(), 3);
        ring.give_up(libc::EIO);
        assert!(ring.fd_is_ring());
        ring.push_op(opcode::Nop::new().build(), TOKEN_MIN + 3);
        let (mut got, took) = wait_for(&mut ring, 5000);
        got.sort();
        let want: Vec<(usize, i32)> = (0..4).map(|t| (TOKEN_MIN + t, -libc::ECANCELED)).collect();
        assert_eq!(got, want);
        assert!(took < Duration::from_millis(1000), "{took:?}");
        assert_eq!(ring.in_flight(), 0);
        std::thread::sleep(Duration::from_millis(20));
        let (got, _) = wait_for(&mut ring, 100);
        assert!(got.is_empty(), "{got:?}");
        // The kernel never took them: they are where they were put.
        assert_eq!(ring.ring.submission().len(), 3);
        assert!(ring.ring.completion().is_empty());
        drop(ring);
        // SAFETY: opened by ring_on_new_epoll; the ring that polled it is gone.
        unsafe { libc::close(ep) };
    }

    #[test]
    fn submit_backoff_yields_then_sleeps_up_to_1ms() {
        let us = |n| submit_backoff_delay(n).map(|d: Duration| d.as_micros());
        assert_eq!(us(0), None);
        assert_eq!(
            [1, 2, 3, 4, 5, 6, 7, 1000, u32::MAX].map(us),
            [50, 100, 200, 400, 800, 1000, 1000, 1000, 1000].map(Some)
        );
    }
}
