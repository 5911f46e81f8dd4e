//! The one integration test binary: each module drives one area through the door a user uses.

mod api;
mod corruption;
mod corruption_campaign;
mod crash_campaign;
mod durability;
mod fuzz_corpus;
mod model;
mod multiproc;
mod support;
mod tail;
