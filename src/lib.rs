//! uvring: libuv 1.50, binary-compatible, written in Rust.
//!
//! Every `extern "C" fn uv_*` here is part of the exported ABI; the layouts
//! they read and write live in `abi`. One area of libuv, one file.
#![allow(clippy::missing_safety_doc)]
#![allow(non_camel_case_types)]

pub mod abi;

pub mod alloc;
pub mod async_;
pub mod backend;
pub mod dl;
pub mod dns;
pub mod error;
pub mod fs;
pub mod fs_event;
pub mod fs_poll;
pub mod handle;
pub mod inet;
pub mod loop_;
pub mod loop_watcher;
pub mod misc;
pub mod os;
pub mod pipe;
pub mod poll;
pub mod pool;
pub mod process;
pub mod queue;
pub mod random;
pub mod req;
pub mod signal;
pub mod stream;
pub mod sys;
pub mod tcp;
pub mod thread;
pub mod time;
pub mod timer;
pub mod tty;
pub mod udp;
pub mod watcher;
pub mod work;
pub mod wtf8;
