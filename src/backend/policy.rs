//! Which backend a loop gets, and why. Decided once per loop and recorded so
//! that `uvring doctor` and UVRING_DEBUG=1 can tell the user.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BackendKind {
    Epoll,
}

#[derive(Clone, Debug)]
pub struct Choice {
    pub kind: BackendKind,
    pub reason: &'static str,
}

/// The decision for a new loop.
pub fn choose() -> Choice {
    let reason = match std::env::var("UV_USE_IO_URING").ok().as_deref() {
        Some("0") => "UV_USE_IO_URING=0",
        _ => "the io_uring backend is not built yet in this version of uvring",
    };
    Choice {
        kind: BackendKind::Epoll,
        reason,
    }
}

/// Prints the choice once per loop when UVRING_DEBUG=1.
pub fn announce(choice: &Choice) {
    if std::env::var("UVRING_DEBUG").ok().as_deref() == Some("1") {
        eprintln!("uvring: loop backend {:?}: {}", choice.kind, choice.reason);
    }
}
