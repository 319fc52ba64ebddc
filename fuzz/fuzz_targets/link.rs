//! The `link` target: [`oracle::check`] (`fuzz/oracles/link.rs`) on what libFuzzer makes.

#![no_main]

#[path = "../oracles/link.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|input: &str| oracle::check(input));
