//! `duplex POOL`: read and write one pool from one process.

use crate::cli::app::{CmdResult, Ctx, Failure};
use crate::cli::args::DuplexArgs;
use crate::error::Error;

pub fn run(_ctx: &Ctx, _a: DuplexArgs) -> CmdResult {
    Err(Failure::Error(Error::usage("duplex is not built yet")))
}
