//! `doctor POOL | --all`: validate pools and print one report per pool (what is printed is
//! `cli::render::doctor`'s); exit 7 when any is corrupt. A pool that cannot be checked at all (missing,
//! not a pool, unreadable) is an error on stderr, not a report on stdout.

use super::{display_name, local_ref};
use crate::api::PoolRef;
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{DoctorArgs, DoctorTarget};
use crate::cli::render::doctor as render;
use crate::error::{Error, ErrorKind};

pub fn run(ctx: &Ctx, a: DoctorArgs) -> CmdResult {
    let client = ctx.client()?;
    let targets: Vec<(String, PoolRef)> = match &a.target {
        DoctorTarget::Pool(p) => vec![(display_name(p), doctor_ref(p)?)],
        DoctorTarget::All => client
            .list_pools()?
            .into_iter()
            .map(|l| (l.name, PoolRef::Path(l.path)))
            .collect(),
    };
    let mut out = ctx.reporter(a.format);
    let paint = out.paint;
    if targets.is_empty() {
        let (dir, prog) = (client.dir(), out.prog);
        out.human(|| render::nothing_to_check(dir, paint, prog))?;
    }
    let width = targets
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let (mut ok, mut damaged, mut failed) = (0, 0, 0);
    let mut worst: Option<ErrorKind> = None;
    for (name, r) in &targets {
        let path = client
            .resolve(r)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let kind = match client.validate_pool(r) {
            Ok(rep) => {
                out.emit(
                    || render::report_json(name, &path, &rep),
                    || render::report_human(name, &rep, width, paint),
                )?;
                if rep.ok() {
                    ok += 1;
                    None
                } else {
                    damaged += 1;
                    Some(ErrorKind::Corrupt)
                }
            }
            Err(e) => {
                out.flush()?;
                ctx.diag.error(&e);
                failed += 1;
                Some(e.kind())
            }
        };
        if let Some(k) = kind {
            if worst.is_none() || k == ErrorKind::Corrupt {
                worst = Some(k);
            }
        }
    }
    if !targets.is_empty() {
        out.human(|| render::summary_human(ok, damaged, failed, paint))?;
    }
    out.flush()?;
    match worst {
        None => Ok(Outcome::Ok),
        Some(k) => Err(Failure::Reported(k)),
    }
}

/// The pool to check: `doctor` reads the file itself, so a URL is refused with a clear reason.
fn doctor_ref(arg: &str) -> Result<PoolRef, Error> {
    match PoolRef::parse(arg) {
        PoolRef::Uri(u) => Err(Error::usage(format!(
            "doctor needs local access to the pool file; {u} is a remote pool"
        ))
        .with_hint("run 'plasmite doctor NAME' on the machine that serves it")),
        _ => local_ref(arg),
    }
}
