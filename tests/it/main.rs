//! The one integration test binary: each module drives one area through the door a user uses.

mod api;
mod cli_basic;
mod cli_drop;
mod cli_human;
mod cli_ingest;
mod cli_peek;
mod cli_tty;
mod cli_where;
mod corruption;
mod corruption_campaign;
mod crash_campaign;
mod durability;
mod fuzz_corpus;
mod mcp;
mod model;
mod multiproc;
mod procs;
mod readme;
mod remote;
mod server;
mod server_limits;
mod server_tail;
mod server_tls;
mod support;
mod tail;
mod ui;
