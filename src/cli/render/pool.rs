//! `pool create|list|info|delete`: the JSON objects (keys in spec/cli.md's order) and the human format
//! (a table for `list`, a labelled summary for `info`, one line per pool for `create`/`delete`).

use super::json::{self, Obj};
use super::{age, plural, seq_range, size, table, Paint};
use crate::api::{CursorLag, PoolInfo};
use crate::error::Error;
use std::fmt::Write;
use std::path::Path;

/// `{name, path, file_size, index_offset, index_slots, ring_offset, ring_size, bounds {oldest, newest},
/// message_count, used_bytes, used_percent, oldest_time, newest_time, created_time, writable}`.
pub fn pool_json(name: &str, info: &PoolInfo) -> String {
    pool_obj(name, info).finish()
}

/// `pool info` of a local pool: [`pool_json`] plus `cursors`: [`cursor_json`] each.
pub fn info_json(name: &str, info: &PoolInfo, lags: &[CursorLag]) -> String {
    pool_obj(name, info)
        .raw("cursors", &json::array(lags.iter().map(cursor_json)))
        .finish()
}

/// `{name, seq, behind, lapped, lost, in_use}`.
pub fn cursor_json(l: &CursorLag) -> String {
    Obj::new()
        .field("name", l.name.as_str())
        .field("seq", l.seq)
        .field("behind", l.behind)
        .field("lapped", l.lapped)
        .field("lost", l.lost)
        .field("in_use", l.in_use)
        .finish()
}

/// `{pool, cursor, deleted: true}`.
pub fn cursor_deleted_json(pool: &str, cursor: &str) -> String {
    Obj::new()
        .field("pool", pool)
        .field("cursor", cursor)
        .field("deleted", true)
        .finish()
}

/// `deleted cursor CURSOR of POOL`.
pub fn cursor_deleted_human(pool: &str, cursor: &str, paint: Paint) -> String {
    format!("{} cursor {cursor} of {pool}\n", paint.green("deleted"))
}

/// One cursor for a human: `NAME at seq S, N behind` (+ `, lapped: L lost`, `, in use`).
fn cursor_human(l: &CursorLag) -> String {
    let mut s = format!("{} at seq {}, {} behind", l.name, l.seq, l.behind);
    if l.lapped {
        let _ = write!(s, ", lapped: {} lost", l.lost);
    }
    if l.in_use {
        s.push_str(", in use");
    }
    s
}

/// The `pool cursors` table (CURSOR, SEQ, BEHIND, LAPPED, IN USE), or a line saying there is none.
pub fn cursors_human(pool: &str, lags: &[CursorLag], paint: Paint, prog: &str) -> String {
    if lags.is_empty() {
        return format!(
            "no cursors on {pool}\n{}\n",
            paint.dim(&format!("consume with '{prog} peek {pool} --cursor NAME'"))
        );
    }
    let rows: Vec<Vec<String>> = lags
        .iter()
        .map(|l| {
            vec![
                l.name.clone(),
                l.seq.to_string(),
                l.behind.to_string(),
                if l.lapped {
                    format!("yes ({} lost)", l.lost)
                } else {
                    "no".into()
                },
                if l.in_use { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    table(
        &["CURSOR", "SEQ", "BEHIND", "LAPPED", "IN USE"],
        &rows,
        &[false, true, true, false, false],
        paint,
    )
}

/// [`info_human`] plus one `cursor` line per cursor.
pub fn info_human_cursors(text: String, lags: &[CursorLag], paint: Paint) -> String {
    let mut out = text;
    for l in lags {
        let _ = writeln!(
            out,
            "{}  {}",
            paint.dim(&format!("{:<8}", "cursor")),
            cursor_human(l)
        );
    }
    out
}

fn pool_obj(name: &str, info: &PoolInfo) -> Obj {
    let t = |ns: Option<u64>| ns.map(crate::time::format_rfc3339_nanos);
    let bounds = match info.bounds {
        Some((o, n)) => Obj::new().field("oldest", o).field("newest", n).finish(),
        None => Obj::new().finish(),
    };
    Obj::new()
        .field("name", name)
        .field("path", info.path.display().to_string())
        .field("file_size", info.file_size)
        .field("index_offset", info.index_offset)
        .field("index_slots", info.index_slots)
        .field("ring_offset", info.ring_offset)
        .field("ring_size", info.ring_size)
        .raw("bounds", &bounds)
        .field("message_count", info.message_count)
        .field("used_bytes", info.used_bytes)
        .field("used_percent", (info.used_percent * 100.0).round() / 100.0)
        .field("oldest_time", t(info.oldest_time_ns))
        .field("newest_time", t(info.newest_time_ns))
        .field(
            "created_time",
            crate::time::format_rfc3339_nanos(info.created_ns),
        )
        .field("writable", info.writable)
}

/// `{name, path, error}` for a pool `pool list` cannot read.
pub fn unreadable_json(name: &str, path: &Path, e: &Error) -> String {
    Obj::new()
        .field("name", name)
        .field("path", path.display().to_string())
        .raw("error", &json::error_inner(e, e.hint()))
        .finish()
}

/// `{name, deleted: true}`.
pub fn deleted_json(name: &str) -> String {
    Obj::new()
        .field("name", name)
        .field("deleted", true)
        .finish()
}

/// One `pool list` row's input: a readable pool or the error reading it.
pub struct Row<'a> {
    pub name: &'a str,
    pub info: Result<&'a PoolInfo, &'a Error>,
}

/// The `pool list` table (NAME, SIZE, USED %, MESSAGES, SEQ RANGE, NEWEST) and a footer naming the
/// directory; or, with no pools, what is empty and how to fill it.
pub fn list_human(dir: &Path, rows: &[Row<'_>], now_ns: u64, paint: Paint, prog: &str) -> String {
    if rows.is_empty() {
        return format!(
            "no pools in {}\n{}\n",
            dir.display(),
            paint.dim(&format!(
                "create one with '{prog} pool create NAME', or '{prog} poke NAME --create DATA'"
            ))
        );
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| match r.info {
            Ok(i) => vec![
                r.name.to_owned(),
                size(i.file_size),
                format!("{:.1}%", i.used_percent),
                i.message_count.to_string(),
                seq_range(i.bounds),
                i.newest_time_ns.map_or("-".to_owned(), |t| age(now_ns, t)),
            ],
            Err(e) => vec![
                r.name.to_owned(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("unreadable ({}): {}", e.kind(), e.message()),
            ],
        })
        .collect();
    let header = ["NAME", "SIZE", "USED %", "MESSAGES", "SEQ RANGE", "NEWEST"];
    let right = [false, true, true, true, false, false];
    let mut out = table(&header, &cells, &right, paint);
    let _ = writeln!(
        out,
        "{}",
        paint.dim(&format!(
            "{} in {}",
            plural(rows.len(), "pool", "pools"),
            dir.display()
        ))
    );
    out
}

/// The `pool info` summary: one labelled line per fact; an empty pool says how to fill it.
pub fn info_human(name: &str, i: &PoolInfo, now_ns: u64, paint: Paint, prog: &str) -> String {
    let when = |ns: u64| {
        format!(
            "{} ({})",
            crate::time::format_rfc3339_nanos(ns),
            age(now_ns, ns)
        )
    };
    let mut lines: Vec<(&str, String)> = vec![
        ("name", paint.bold(name)),
        ("path", i.path.display().to_string()),
        (
            "size",
            format!(
                "{} ({} ring, {} index slots)",
                size(i.file_size),
                size(i.ring_size),
                i.index_slots
            ),
        ),
    ];
    match i.bounds {
        Some(b) => {
            lines.push((
                "messages",
                format!("{} (seq {})", i.message_count, seq_range(Some(b))),
            ));
            lines.push((
                "used",
                format!("{} ({:.1}%)", size(i.used_bytes), i.used_percent),
            ));
            if let Some(t) = i.oldest_time_ns {
                lines.push(("oldest", when(t)));
            }
            if let Some(t) = i.newest_time_ns {
                lines.push(("newest", when(t)));
            }
        }
        None => lines.push((
            "messages",
            format!(
                "none yet: {}",
                paint.dim(&format!("add one with '{prog} poke {name} DATA'"))
            ),
        )),
    }
    lines.push(("created", when(i.created_ns)));
    lines.push((
        "writable",
        if i.writable { "yes" } else { "no (read-only)" }.to_owned(),
    ));
    let mut out = String::new();
    for (label, value) in lines {
        let _ = writeln!(out, "{}  {value}", paint.dim(&format!("{label:<8}")));
    }
    out
}

/// `created NAME (SIZE) at PATH`.
pub fn created_human(name: &str, i: &PoolInfo, paint: Paint) -> String {
    format!(
        "{} {} ({}) at {}\n",
        paint.green("created"),
        paint.bold(name),
        size(i.file_size),
        i.path.display()
    )
}

/// `deleted NAME`.
pub fn deleted_human(name: &str, paint: Paint) -> String {
    format!("{} {}\n", paint.green("deleted"), paint.bold(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(bounds: Option<(u64, u64)>) -> PoolInfo {
        PoolInfo {
            path: "/d/chat.plasmite".into(),
            file_size: 1 << 20,
            index_offset: 4096,
            index_slots: 4096,
            ring_offset: 69_632,
            ring_size: 978_944,
            bounds,
            message_count: bounds.map_or(0, |(o, n)| n - o + 1),
            used_bytes: 2048,
            used_percent: 0.209,
            oldest_time_ns: bounds.map(|_| 1_000_000_000),
            newest_time_ns: bounds.map(|_| 2_000_000_000),
            created_ns: 500_000_000,
            writable: true,
        }
    }

    #[test]
    fn pool_json_starts_with_name_and_keeps_the_spec_order() {
        let text = pool_json("chat", &info(Some((1, 12))));
        let keys: Vec<&str> = text
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|k| !k.starts_with('/') && !k.contains('T') && *k != "chat")
            .collect();
        assert_eq!(
            keys,
            [
                "name",
                "path",
                "file_size",
                "index_offset",
                "index_slots",
                "ring_offset",
                "ring_size",
                "bounds",
                "oldest",
                "newest",
                "message_count",
                "used_bytes",
                "used_percent",
                "oldest_time",
                "newest_time",
                "created_time",
                "writable"
            ]
        );
        assert!(pool_json("e", &info(None)).contains("\"bounds\":{},"));
    }

    #[test]
    fn list_table_has_the_columns_and_a_footer() {
        let i = info(Some((1, 12)));
        let e = Error::corrupt("bad header", 0);
        let rows = [
            Row {
                name: "chat",
                info: Ok(&i),
            },
            Row {
                name: "bad",
                info: Err(&e),
            },
        ];
        let out = list_human(
            Path::new("/d"),
            &rows,
            62_000_000_000,
            Paint { on: false },
            "pls",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "NAME   SIZE  USED %  MESSAGES  SEQ RANGE  NEWEST");
        assert_eq!(lines[1], "chat  1 MiB    0.2%        12  1..12      1m ago");
        assert_eq!(
            lines[2],
            "bad       -       -         -  -          unreadable (Corrupt): bad header"
        );
        assert_eq!(lines[3], "2 pools in /d");
    }

    #[test]
    fn empty_states_say_how_to_fill_them() {
        let out = list_human(Path::new("/d"), &[], 0, Paint { on: false }, "pls");
        assert_eq!(
            out,
            "no pools in /d\ncreate one with 'pls pool create NAME', or 'pls poke NAME --create DATA'\n"
        );
        let out = info_human("chat", &info(None), 0, Paint { on: false }, "plasmite");
        assert!(
            out.contains("messages  none yet: add one with 'plasmite poke chat DATA'\n"),
            "{out}"
        );
    }
}
