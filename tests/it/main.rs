//! The one integration test binary: each module drives one area through the door a user uses.

mod api;
mod corruption;
mod model;
mod multiproc;
mod remote;
mod server;
mod server_limits;
mod server_tail;
mod server_tls;
mod support;
mod tail;
mod ui;
