//! `get POOL SEQ`: print one message.

use super::open;
use crate::cli::app::{CmdResult, Ctx, Outcome};
use crate::cli::args::GetArgs;

pub fn run(ctx: &Ctx, a: GetArgs) -> CmdResult {
    if super::remote::is_remote(&a.pool) {
        return super::remote::get(ctx, a);
    }
    let client = ctx.client()?;
    let pool = open(&client, &a.pool, false, None)?;
    let m = pool.get(a.seq)?;
    let mut out = ctx.out(a.format, a.data_only);
    out.message(m.seq, m.time_ns, m.tags.iter().map(String::as_str), &m.data)?;
    out.flush()?;
    Ok(Outcome::Ok)
}
