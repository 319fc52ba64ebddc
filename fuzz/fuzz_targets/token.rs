//! The `token` target: [`oracle::check`] (`fuzz/oracles/token.rs`) on what libFuzzer makes.

#![no_main]

#[path = "../oracles/token.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|input: &str| oracle::check(input));
