//! The one integration test binary: each module drives one area through the door a user uses.

mod api;
mod cli_basic;
mod cli_ingest;
mod cli_peek;
mod cli_tty;
mod corruption;
mod corruption_campaign;
mod crash_campaign;
mod delete_in_use;
mod durability;
mod fuzz_corpus;
mod model;
mod multiproc;
mod readme;
mod remote;
mod server;
mod server_limits;
mod server_tail;
mod server_tls;
mod support;
mod tail;
mod ui;
