//! `get POOL SEQ`: print one message (a local pool or a URL).

use super::open_handle;
use crate::cli::app::{CmdResult, Ctx, Outcome};
use crate::cli::args::GetArgs;

pub fn run(ctx: &Ctx, a: GetArgs) -> CmdResult {
    let pool = open_handle(ctx, &a.pool, false, None, &a.remote)?;
    let m = pool.get(a.seq)?;
    let mut out = ctx.out(a.format, a.data_only);
    out.message(m.seq, m.time_ns, m.tags.iter().map(String::as_str), &m.data)?;
    out.flush()?;
    Ok(Outcome::Ok)
}
