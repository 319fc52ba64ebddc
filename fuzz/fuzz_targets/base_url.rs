//! The `base_url` target: [`oracle::check`] (`fuzz/oracles/base_url.rs`) on what libFuzzer makes.

#![no_main]

#[path = "../oracles/base_url.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|input: &str| oracle::check(input));
