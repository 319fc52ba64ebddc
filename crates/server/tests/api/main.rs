//! Integration tests of the reference server over real HTTP: each test starts its own server on an
//! ephemeral loopback port, as in production (no `--dev`), with a real SQLite file in a temporary
//! folder (or a PostgreSQL database, under `scripts/api-postgres.sh`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

mod common;
#[path = "../../src/account_sheet/pdf_tools.rs"]
mod pdf_tools;
mod smtp;

mod admin;
mod binary;
mod binding;
mod faults;
mod forgot;
mod hostile;
mod instances;
mod mail_language;
mod openapi;
mod proxy;
mod races;
mod reset;
mod sessions;
mod storage;
mod transport;
mod upgrade;
mod web;
