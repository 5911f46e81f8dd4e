//! `doctor`: one report per pool as JSON (keys in spec/cli.md's order), or for a person one line per
//! pool (`ok` or the issue count), the issues indented under it, and a summary line.

use super::json::{array, Obj};
use super::{plural, Paint};
use crate::api::Report;
use std::fmt::Write;
use std::path::Path;

/// `{name, path, ok, messages_ok, messages_lost, oldest_seq, next_seq, issues: [{message, offset, seq}]}`.
pub fn report_json(name: &str, path: &str, rep: &Report) -> String {
    let issues = array(rep.issues.iter().map(|i| {
        Obj::new()
            .field("message", i.message.as_str())
            .field("offset", i.offset)
            .field("seq", i.seq)
            .finish()
    }));
    Obj::new()
        .field("name", name)
        .field("path", path)
        .field("ok", rep.ok())
        .field("messages_ok", rep.messages_ok)
        .field("messages_lost", rep.messages_lost)
        .field("oldest_seq", rep.oldest_seq)
        .field("next_seq", rep.next_seq)
        .raw("issues", &issues)
        .finish()
}

/// `NAME  ok  12 messages, seq 1..12`, or `NAME  2 issues  …` followed by one indented line per issue.
/// `width` pads the name column.
pub fn report_human(name: &str, rep: &Report, width: usize, paint: Paint) -> String {
    let held = if rep.next_seq > rep.oldest_seq {
        format!(
            "{}, seq {}..{}",
            plural(rep.messages_ok as usize, "message", "messages"),
            rep.oldest_seq,
            rep.next_seq - 1
        )
    } else {
        "empty".to_owned()
    };
    let mut out = String::new();
    let name = format!("{name:<width$}");
    if rep.ok() {
        let _ = writeln!(out, "{}  {}  {}", name, paint.green("ok"), paint.dim(&held));
        return out;
    }
    let count = plural(rep.issues.len(), "issue", "issues");
    let lost = match rep.messages_lost {
        0 => String::new(),
        n => format!(", {n} unreadable"),
    };
    let _ = writeln!(
        out,
        "{}  {}  {}",
        name,
        paint.red(&count),
        paint.dim(&format!("{held}{lost}"))
    );
    for i in &rep.issues {
        let mut at = Vec::new();
        if let Some(o) = i.offset {
            at.push(format!("offset {o}"));
        }
        if let Some(s) = i.seq {
            at.push(format!("seq {s}"));
        }
        let at = if at.is_empty() {
            String::new()
        } else {
            format!("{}: ", at.join(", "))
        };
        let _ = writeln!(out, "    {at}{}", i.message);
    }
    out
}

/// `3 pools checked: 2 ok, 1 with issues` (and `, N could not be checked` when some failed to open).
pub fn summary_human(ok: usize, with_issues: usize, failed: usize, paint: Paint) -> String {
    let total = ok + with_issues + failed;
    let mut s = format!(
        "{} checked: {ok} ok, {with_issues} with issues",
        plural(total, "pool", "pools")
    );
    if failed > 0 {
        let _ = write!(s, ", {failed} could not be checked");
    }
    let s = if with_issues + failed > 0 {
        paint.red(&s)
    } else {
        paint.dim(&s)
    };
    format!("{s}\n")
}

/// `doctor --all` with no pools.
pub fn nothing_to_check(dir: &Path, paint: Paint, prog: &str) -> String {
    format!(
        "no pools to check in {}\n{}\n",
        dir.display(),
        paint.dim(&format!("create one with '{prog} pool create NAME'"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Issue;

    fn report(issues: Vec<Issue>) -> Report {
        Report {
            issues,
            messages_ok: 11,
            messages_lost: 1,
            oldest_seq: 1,
            next_seq: 13,
        }
    }

    #[test]
    fn healthy_and_damaged_pools_render_one_line_plus_issues() {
        let off = Paint { on: false };
        let mut ok = report(Vec::new());
        ok.messages_lost = 0;
        assert_eq!(
            report_human("chat", &ok, 6, off),
            "chat    ok  11 messages, seq 1..12\n"
        );
        let bad = report(vec![Issue {
            message: "frame checksum mismatch".into(),
            offset: Some(4096),
            seq: Some(7),
        }]);
        assert_eq!(
            report_human("b", &bad, 1, off),
            "b  1 issue  11 messages, seq 1..12, 1 unreadable\n    offset 4096, seq 7: frame checksum mismatch\n"
        );
        assert_eq!(
            summary_human(2, 1, 0, off),
            "3 pools checked: 2 ok, 1 with issues\n"
        );
        assert_eq!(
            summary_human(0, 0, 1, off),
            "1 pool checked: 0 ok, 0 with issues, 1 could not be checked\n"
        );
    }

    #[test]
    fn report_json_keeps_the_spec_order() {
        let bad = report(vec![Issue {
            message: "m".into(),
            offset: None,
            seq: Some(7),
        }]);
        assert_eq!(
            report_json("b", "/d/b.plasmite", &bad),
            r#"{"name":"b","path":"/d/b.plasmite","ok":false,"messages_ok":11,"messages_lost":1,"oldest_seq":1,"next_seq":13,"issues":[{"message":"m","offset":null,"seq":7}]}"#
        );
    }
}
