//! Time per epoll_ctl ADD of N eventfds: N system calls against one
//! io_uring_enter carrying N EPOLL_CTL entries (waited for, as the loop
//! does). The DELs between rounds are untimed. Prints, for each N, the
//! median over ROUNDS runs of ring time / system-call time.
use io_uring::{opcode, types, IoUring};
use std::time::{Duration, Instant};

/// One run for `n` changes: (ns per ADD by system call, ns per ADD by ring).
fn run(n: usize) -> (f64, f64) {
    let iters = 200_000 / n;
    // SAFETY: plain system calls on descriptors this function makes; every
    // epoll_event lives until the call (or the ring's submission) that reads it.
    unsafe {
        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        assert!(ep >= 0);
        let fds: Vec<i32> = (0..n)
            .map(|_| libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC))
            .collect();
        let evs: Vec<libc::epoll_event> = fds
            .iter()
            .map(|&fd| libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: fd as u64,
            })
            .collect();
        let clear = || {
            for &fd in &fds {
                let mut ev = libc::epoll_event { events: 0, u64: 0 };
                libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, fd, &mut ev);
            }
        };
        let mut sys = Duration::ZERO;
        for _ in 0..iters {
            let t = Instant::now();
            for (i, &fd) in fds.iter().enumerate() {
                let mut ev = evs[i];
                assert_eq!(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev), 0);
            }
            sys += t.elapsed();
            clear();
        }
        let mut ring: IoUring = IoUring::builder().setup_coop_taskrun().build(256).unwrap();
        let mut uring = Duration::ZERO;
        for _ in 0..iters {
            let t = Instant::now();
            {
                let mut sq = ring.submission();
                for (i, &fd) in fds.iter().enumerate() {
                    let ev = (&evs[i] as *const libc::epoll_event).cast::<types::epoll_event>();
                    let e = opcode::EpollCtl::new(
                        types::Fd(ep),
                        types::Fd(fd),
                        libc::EPOLL_CTL_ADD,
                        ev,
                    )
                    .build()
                    .user_data(i as u64);
                    sq.push(&e).unwrap();
                }
            }
            ring.submit_and_wait(n).unwrap();
            for c in ring.completion() {
                assert_eq!(c.result(), 0);
            }
            uring += t.elapsed();
            clear();
        }
        for fd in fds {
            libc::close(fd);
        }
        libc::close(ep);
        let per = |d: Duration| d.as_nanos() as f64 / (iters * n) as f64;
        (per(sys), per(uring))
    }
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    println!("changes  ns/ADD syscall  ns/ADD ring  ring/syscall (median of {rounds})");
    for n in [1, 2, 3, 4, 8, 32] {
        let mut runs: Vec<(f64, f64)> = (0..rounds).map(|_| run(n)).collect();
        runs.sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
        let (s, r) = runs[rounds / 2];
        println!("{n:>7}  {s:>14.0}  {r:>11.0}  {:>12.2}", r / s);
    }
}
