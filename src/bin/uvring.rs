//! `uvring`: run a program on uvring, or explain what uvring would choose.
fn main() {
    eprintln!("uvring: launcher not written yet");
    std::process::exit(2);
}
