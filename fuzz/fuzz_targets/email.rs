//! The `email` target: [`oracle::check`] (`fuzz/oracles/email.rs`) on what libFuzzer makes.

#![no_main]

#[path = "../oracles/email.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|input: &str| oracle::check(input));
