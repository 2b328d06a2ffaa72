//! The io_uring backend: one ring per loop. Watchers are one-shot poll
//! requests, re-armed after each completion while the watcher still wants
//! events, which keeps libuv's level-triggered semantics (a poll on a ready
//! descriptor completes at once). The loop's timeout rides on the same
//! io_uring_enter that submits the queued requests, so a steady loop turn
//! costs one system call.
//!
//! Hazards handled here: EINTR from io_uring_enter (a stopped or traced
//! process) is returned to the caller, which retries with the time left;
//! completions that overflowed the CQ are flushed, never dropped; no request
//! is ever marked IOSQE_ASYNC.

use super::{Event, FS_EVENT, WAKE_TOKEN};
use io_uring::{opcode, types, IoUring};
use libc::{c_int, c_uint};

const TAG_MASK: u64 = 0b11;
const TAG_IGNORE: u64 = 0;
const TAG_POLL: u64 = 1;
const TAG_WAKE: u64 = 2;
/// File operations carry their request's address with this tag.
pub const TAG_FS: u64 = 3;

#[derive(Clone, Copy, Default)]
struct Slot {
    /// Mask of the poll request in flight; 0 when none is.
    armed: u32,
    /// Bumped whenever a request is withdrawn, so that its late completion
    /// is recognised as stale.
    gen: u32,
}

pub struct Uring {
    ring: IoUring,
    slots: Vec<Slot>,
    wake_fd: c_int,
    wake_armed: bool,
    /// Descriptors whose poll completed and may need re-arming.
    rearm: Vec<c_int>,
    pub sqpoll: bool,
}

fn poll_token(fd: c_int, gen: u32) -> u64 {
    ((fd as u32 as u64) << 32) | (((gen & 0x3fff_ffff) as u64) << 2) | TAG_POLL
}

fn os_err(e: std::io::Error) -> c_int {
    -e.raw_os_error().unwrap_or(libc::EIO)
}

impl Uring {
    /// Sets up a ring; any failure means the loop uses epoll instead.
    pub fn new(entries: u32, sqpoll: bool) -> Result<Uring, c_int> {
        let mut b = IoUring::builder();
        if sqpoll {
            b.setup_sqpoll(1000);
        }
        let ring = b.build(entries).map_err(os_err)?;
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
        Ok(Uring {
            ring,
            slots: Vec::new(),
            wake_fd: -1,
            wake_armed: false,
            rearm: Vec::new(),
            sqpoll,
        })
    }

    pub fn fd(&self) -> c_int {
        use std::os::fd::AsRawFd;
        self.ring.as_raw_fd()
    }

    /// Arms the poll on the loop's wake-up eventfd, and submits it at once
    /// so that the ring fd reports an async send even before the first run.
    pub fn set_wake_fd(&mut self, fd: c_int) {
        self.wake_fd = fd;
        self.wake_armed = false;
        self.arm_wake();
        self.submit();
    }

    /// Re-arms the wake-up poll if its last one completed.
    pub fn arm_wake(&mut self) {
        if !self.wake_armed && self.wake_fd >= 0 {
            self.wake_armed = true;
            self.push(
                opcode::PollAdd::new(types::Fd(self.wake_fd), libc::POLLIN as u32)
                    .build()
                    .user_data(TAG_WAKE),
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

    fn slot(&mut self, fd: c_int) -> &mut Slot {
        let i = fd as usize;
        if self.slots.len() <= i {
            self.slots.resize(i + 1, Slot::default());
        }
        &mut self.slots[i]
    }

    /// Makes sure a poll for exactly `mask` is in flight for `fd`.
    pub fn arm(&mut self, fd: c_int, mask: u32) {
        if fd < 0 {
            return;
        }
        let s = *self.slot(fd);
        if s.armed == mask {
            return;
        }
        if s.armed != 0 {
            self.push(
                opcode::PollRemove::new(poll_token(fd, s.gen))
                    .build()
                    .user_data(TAG_IGNORE),
            );
        }
        let gen = s.gen.wrapping_add(1);
        *self.slot(fd) = Slot { armed: mask, gen };
        if mask != 0 {
            self.push(
                opcode::PollAdd::new(types::Fd(fd), mask)
                    .build()
                    .user_data(poll_token(fd, gen)),
            );
        }
    }

    /// Withdraws any poll for `fd` (the descriptor is going away).
    pub fn disarm(&mut self, fd: c_int) {
        if fd >= 0 && (fd as usize) < self.slots.len() {
            self.arm(fd, 0);
        }
    }

    /// Descriptors whose one-shot poll fired since the last call.
    pub fn take_rearm(&mut self) -> Vec<c_int> {
        std::mem::take(&mut self.rearm)
    }

    pub fn has_queued(&mut self) -> bool {
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
        self.arm_wake();
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

    fn reap(&mut self, out: &mut Vec<Event>) {
        loop {
            let batch: Vec<(u64, i32)> = self
                .ring
                .completion()
                .map(|c| (c.user_data(), c.result()))
                .collect();
            for (ud, res) in batch {
                match ud & TAG_MASK {
                    TAG_POLL => {
                        let fd = (ud >> 32) as c_int;
                        let gen = ((ud >> 2) & 0x3fff_ffff) as u32;
                        let s = self.slot(fd);
                        if s.armed == 0 || (s.gen & 0x3fff_ffff) != gen {
                            continue; // withdrawn meanwhile
                        }
                        s.armed = 0;
                        self.rearm.push(fd);
                        let events = if res < 0 {
                            libc::POLLERR as c_uint
                        } else {
                            res as c_uint
                        };
                        out.push(Event {
                            token: fd as u64,
                            events,
                        });
                    }
                    TAG_WAKE => {
                        self.wake_armed = false;
                        out.push(Event {
                            token: WAKE_TOKEN,
                            events: libc::POLLIN as c_uint,
                        });
                    }
                    TAG_FS => out.push(Event {
                        token: (ud & !TAG_MASK) | FS_EVENT,
                        events: res as c_uint,
                    }),
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
