//! `uvring doctor`: what this machine and process would give a loop, and why.

use std::fmt::Write;

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "(absent)".to_string())
}

/// What `uvring doctor` prints: the kernel, the settings that decide the
/// backend, what a ring offers here, and the backend a new loop gets, why.
pub fn report() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "kernel:                    {}",
        read_trimmed("/proc/sys/kernel/osrelease")
    );
    let _ = writeln!(
        out,
        "kernel.io_uring_disabled:  {}",
        read_trimmed("/proc/sys/kernel/io_uring_disabled")
    );
    let _ = writeln!(
        out,
        "kernel.io_uring_group:     {}",
        read_trimmed("/proc/sys/kernel/io_uring_group")
    );
    for var in ["UV_USE_IO_URING", "UV_THREADPOOL_SIZE", "UVRING_DEBUG"] {
        let v = std::env::var(var).unwrap_or_else(|_| "(unset)".to_string());
        let _ = writeln!(out, "{var:<27}{v}");
    }
    let no_ring = std::env::var("UV_USE_IO_URING").ok().as_deref() == Some("0");
    if no_ring {
        let _ = writeln!(
            out,
            "io_uring:                  not probed (UV_USE_IO_URING=0 means no ring at all)"
        );
    } else {
        match crate::backend::probe_ring() {
            Ok(desc) => {
                let _ = writeln!(
                    out,
                    "io_uring:                  a ring can be set up; {desc}"
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "io_uring:                  setup fails ({})",
                    err_name(e)
                );
            }
        }
    }
    // A real loop, made by the loop's own constructor: its decision is the
    // one every new loop of this process makes.
    let mut lp = std::mem::MaybeUninit::<crate::abi::uv_loop_t>::zeroed();
    let lp = lp.as_mut_ptr();
    // SAFETY: `lp` is zeroed storage of the right size, closed below.
    let choice = unsafe {
        let r = crate::loop_::uv_loop_init(lp);
        if r != 0 {
            let _ = writeln!(
                out,
                "backend of a new loop:     none (uv_loop_init fails: {})",
                err_name(r)
            );
            return out;
        }
        let c = crate::loop_::backend_choice(lp);
        crate::loop_::uv_loop_close(lp);
        c
    };
    let _ = writeln!(
        out,
        "backend of a new loop:     {} ({})",
        choice.kind.name(),
        choice.reason
    );
    out
}

fn err_name(e: i32) -> &'static str {
    crate::error::err_name(e).unwrap_or("an unknown error")
}
