//! The backend seam: what a loop uses to wait for descriptors and wake-ups.
//! `policy` decides which backend a loop gets; `epoll` is the fallback that
//! every kernel has.

pub mod epoll;
pub mod policy;
pub mod watcher;

/// Token of the loop's own wake-up eventfd (async sends, finished pool work).
pub const WAKE_TOKEN: u64 = u64::MAX;
