//! What commands read from stdin: passwords and links, never from the command line.

use std::io::BufRead;

use crate::output::Failure;

/// Reads `N` passwords, one per line of stdin. Only the line ending is stripped, so a password
/// may start or end with spaces. Passwords never come from argv.
pub fn read_passwords<const N: usize>(password_stdin: bool) -> Result<[String; N], Failure> {
    if !password_stdin {
        return Err(Failure::Usage(
            "--password-stdin is required: passwords are read from stdin, never from the command line"
                .into(),
        ));
    }
    read_lines(if N > 1 {
        "the passwords"
    } else {
        "the password"
    })
}

/// Reads the next `N` lines of stdin (`what` they are, for the message when they are missing).
/// Only the line ending is stripped.
pub fn read_lines<const N: usize>(what: &str) -> Result<[String; N], Failure> {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (i, slot) in out.iter_mut().enumerate() {
        let mut line = String::new();
        match lock.read_line(&mut line) {
            Ok(0) => {
                return Err(Failure::Usage(format!(
                    "expected {N} line(s) on stdin, got {i} ({what} must come on stdin)"
                )))
            }
            Ok(_) => {}
            Err(e) => return Err(Failure::Usage(format!("cannot read stdin: {e}"))),
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        *slot = line;
    }
    Ok(out)
}
