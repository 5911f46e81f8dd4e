//! `doctor POOL | --all`: validate pools and print one report per pool; exit 7 when any is corrupt.

use super::{display_name, local_ref};
use crate::api::{Client, PoolRef, Report};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{DoctorArgs, DoctorTarget};
use crate::error::{Error, ErrorKind};
use serde_json::{json, Value};

pub fn run(ctx: &Ctx, a: DoctorArgs) -> CmdResult {
    let client = ctx.client()?;
    let targets: Vec<(String, PoolRef)> = match &a.target {
        DoctorTarget::Pool(p) => vec![(display_name(p), local_ref(p)?)],
        DoctorTarget::All => client
            .list_pools()?
            .into_iter()
            .map(|l| (l.name, PoolRef::Path(l.path)))
            .collect(),
    };
    let mut out = ctx.out(None, false);
    let mut worst: Option<ErrorKind> = None;
    for (name, r) in targets {
        let (v, kind) = check(&client, &name, &r);
        out.value(&v)?;
        if let Some(k) = kind {
            if worst.is_none() || k == ErrorKind::Corrupt {
                worst = Some(k);
            }
        }
    }
    out.flush()?;
    match worst {
        None => Ok(Outcome::Ok),
        Some(k) => Err(Failure::Reported(k)),
    }
}

/// One pool's report and the error kind it implies (None when healthy).
fn check(client: &Client, name: &str, r: &PoolRef) -> (Value, Option<ErrorKind>) {
    let path = client
        .resolve(r)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    match client.validate_pool(r) {
        Ok(rep) => {
            let kind = (!rep.ok()).then_some(ErrorKind::Corrupt);
            (report_json(name, &path, &rep), kind)
        }
        Err(e) => (error_json(name, &path, &e), Some(e.kind())),
    }
}

fn report_json(name: &str, path: &str, rep: &Report) -> Value {
    let issues: Vec<Value> = rep
        .issues
        .iter()
        .map(|i| json!({"message": i.message, "offset": i.offset, "seq": i.seq}))
        .collect();
    json!({
        "name": name,
        "path": path,
        "ok": rep.ok(),
        "messages_ok": rep.messages_ok,
        "messages_lost": rep.messages_lost,
        "oldest_seq": rep.oldest_seq,
        "next_seq": rep.next_seq,
        "issues": issues,
    })
}

fn error_json(name: &str, path: &str, e: &Error) -> Value {
    let issue = json!({"message": e.message(), "offset": e.offset(), "seq": e.seq(), "kind": e.kind().as_str()});
    json!({"name": name, "path": path, "ok": false, "issues": [issue]})
}
