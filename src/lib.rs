//! uvring: libuv 1.50, binary-compatible, written in Rust.
//!
//! Every `extern "C" fn uv_*` here is part of the exported ABI; the layouts
//! they read and write live in `abi`. One area of libuv, one file.
// Every unsafe operation sits in its own block with a SAFETY comment saying
// why it holds, and every internal unsafe fn states its contract (# Safety).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![allow(non_camel_case_types)]

pub mod abi;

pub(crate) mod alloc;
pub(crate) mod async_;
pub(crate) mod backend;
pub(crate) mod dl;
pub(crate) mod dns;
pub mod doctor;
pub(crate) mod error;
pub(crate) mod fs;
pub(crate) mod fs_event;
pub(crate) mod fs_poll;
pub(crate) mod handle;
pub(crate) mod inet;
pub(crate) mod loop_;
pub(crate) mod loop_watcher;
pub(crate) mod misc;
pub(crate) mod os;
pub(crate) mod pipe;
pub(crate) mod poll;
pub(crate) mod pool;
pub(crate) mod process;
pub(crate) mod queue;
pub(crate) mod random;
pub(crate) mod req;
pub(crate) mod signal;
pub(crate) mod stream;
pub(crate) mod sys;
pub(crate) mod tcp;
pub(crate) mod thread;
pub(crate) mod time;
pub(crate) mod timer;
pub(crate) mod tty;
pub(crate) mod udp;
pub(crate) mod valgrind;
pub(crate) mod watcher;
pub(crate) mod work;
pub(crate) mod wtf8;
