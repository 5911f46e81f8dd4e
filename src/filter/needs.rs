//! Which parts of its input a filter can read, so callers can build only those parts.
//!
//! The analysis over-approximates: anything it cannot prove is a projection (`.a.b…` chains of literal
//! keys applied to the input) counts as reading the whole value. A filter evaluated on an input that
//! keeps every path in [`Need`] (and drops others) gives the same result as on the full input, because
//! no dropped path is ever looked at.

use super::ast::{Call, Kind, Node, ObjKey, Quant, Step};
use super::Filter;
use std::collections::BTreeMap;

/// The parts of a JSON value a filter may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// The whole value.
    All,
    /// Only these object members (each with what is needed of it); empty: nothing at all.
    Fields(BTreeMap<String, Need>),
}

impl Need {
    /// Nothing is read.
    pub fn none() -> Need {
        Need::Fields(BTreeMap::new())
    }

    /// What either `self` or `other` reads.
    pub fn union(self, other: Need) -> Need {
        match (self, other) {
            (Need::All, _) | (_, Need::All) => Need::All,
            (Need::Fields(mut a), Need::Fields(b)) => {
                for (k, v) in b {
                    let merged = match a.remove(&k) {
                        Some(old) => old.union(v),
                        None => v,
                    };
                    a.insert(k, merged);
                }
                Need::Fields(a)
            }
        }
    }
}

/// What any of `filters` may read of the input.
pub fn needs(filters: &[Filter]) -> Need {
    filters
        .iter()
        .fold(Need::none(), |acc, f| acc.union(of(&f.root, false)))
}

/// `.k1.k2…` with literal keys: the need of the chain (the last member needed whole).
fn projection(steps: &[Step]) -> Option<Need> {
    let keys: Vec<&String> = steps
        .iter()
        .map_while(|s| match s {
            Step::Field(k) => Some(k),
            _ => None,
        })
        .collect();
    if keys.is_empty() {
        return None;
    }
    let mut need = Need::All;
    for k in keys.into_iter().rev() {
        need = Need::Fields(BTreeMap::from([(k.clone(), need)]));
    }
    Some(need)
}

fn union_all<'n>(nodes: impl IntoIterator<Item = &'n Node>, used: bool) -> Need {
    nodes
        .into_iter()
        .fold(Need::none(), |acc, n| acc.union(of(n, used)))
}

/// What `node`, evaluated with the input, may read of the input. `used`: whether the caller uses the
/// node's outputs as values (false where only their truthiness matters: the top level, `and`/`or`
/// operands, `if` conditions, `select` conditions). An input object stays truthy however it is cut
/// down, so an unused identity reads nothing.
fn of(node: &Node, used: bool) -> Need {
    match &*node.kind {
        Kind::Literal(_) => Need::none(),
        Kind::Identity if used => Need::All,
        Kind::Identity => Need::none(),
        Kind::Path(base, steps) => {
            let index_exprs = steps.iter().filter_map(|s| match s {
                Step::Index(n) => Some(n),
                _ => None,
            });
            let from_indexes = union_all(index_exprs, true);
            let from_base = match (&*base.kind, projection(steps)) {
                (Kind::Identity, Some(p)) => p,
                _ => of(base, true),
            };
            from_base.union(from_indexes)
        }
        Kind::Try(n) => of(n, used),
        Kind::Neg(n) => of(n, true),
        Kind::Pipe(a, b) => {
            let is_projection = matches!(&*a.kind, Kind::Path(base, steps)
                if matches!(&*base.kind, Kind::Identity) && projection(steps).is_some());
            if is_projection {
                of(a, true)
            } else {
                // `a` may pass the input through (e.g. `select`): count `b` as reading the input.
                of(a, false)
                    .union(of(b, used))
                    .union(if used { of(a, true) } else { Need::none() })
            }
        }
        Kind::Comma(items) | Kind::Alt(items) => union_all(items, used),
        Kind::And(a, b) | Kind::Or(a, b) => of(a, false).union(of(b, false)),
        Kind::Binary(_, a, b) => of(a, true).union(of(b, true)),
        Kind::Array(inner) => inner.as_deref().map_or(Need::none(), |n| of(n, true)),
        Kind::Object(entries) => entries.iter().fold(Need::none(), |acc, (k, v)| {
            let k = match k {
                ObjKey::Name(_) => Need::none(),
                ObjKey::Expr(e) => of(e, true),
            };
            acc.union(k).union(of(v, true))
        }),
        Kind::If(branches, otherwise) => branches.iter().fold(
            otherwise.as_deref().map_or(Need::none(), |n| of(n, used)),
            |acc, (c, t)| acc.union(of(c, false)).union(of(t, used)),
        ),
        Kind::Call(call) => call_need(call, used),
    }
}

/// Builtins that take the input as a whole read all of it; their arguments see the input too.
fn call_need(call: &Call, used: bool) -> Need {
    match call {
        Call::Empty => Need::none(),
        // `select(f)` outputs its input: all of it when that output is used as a value.
        Call::Select(f) if !used => of(f, false),
        Call::Quantify(_, Quant::GenCond(g, _)) if !used => of(g, true),
        _ => Need::All,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn need(src: &str) -> Need {
        needs(&[Filter::parse(src).unwrap()])
    }

    fn fields(pairs: &[(&str, Need)]) -> Need {
        Need::Fields(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn projections_need_only_their_paths() {
        assert_eq!(
            need(".data.i % 2 == 0"),
            fields(&[("data", fields(&[("i", Need::All)]))])
        );
        assert_eq!(
            need(".data.a > 1 and .seq < 5"),
            fields(&[("data", fields(&[("a", Need::All)])), ("seq", Need::All)])
        );
        assert_eq!(
            need(".meta.tags | any(. == \"x\")"),
            fields(&[("meta", fields(&[("tags", Need::All)]))])
        );
        assert_eq!(
            need(".data.n[0] == 1"),
            fields(&[("data", fields(&[("n", Need::All)]))])
        );
        assert_eq!(need("true"), Need::none());
    }

    #[test]
    fn anything_unclear_reads_everything() {
        for src in [
            "keys",
            "has(\"time\")",
            "length > 0",
            ".[]",
            "not",
            "map(.)",
            "select(.a) == {}",
            ". == {}",
            "[.]",
        ] {
            assert_eq!(need(src), Need::All, "{src}");
        }
        assert_eq!(need(".data | .x"), fields(&[("data", Need::All)]));
        assert_eq!(
            need("select(.data.x)"),
            fields(&[("data", fields(&[("x", Need::All)]))])
        );
        assert_eq!(
            need("select(.a) | .b"),
            fields(&[("a", Need::All), ("b", Need::All)])
        );
        assert_eq!(need("select(.a) | keys"), Need::All);
    }
}

/// Parses the compact JSON `text`, keeping only what `need` reads: members of objects that are not
/// needed are skipped (delimited by the one walker, [`crate::json::members_of_valid`]: stored data was
/// validated at append), never parsed into values. Falls back to a full parse whenever the shortcut does not apply (not an object,
/// escaped keys), so the result always behaves like the full value for a filter whose needs are
/// `need`. `None` if the text is not JSON.
pub fn project(text: &[u8], need: &Need) -> Option<serde_json::Value> {
    let Need::Fields(fields) = need else {
        return serde_json::from_slice(text).ok();
    };
    if text.first() != Some(&b'{') {
        return serde_json::from_slice(text).ok();
    }
    let mut out = serde_json::Map::new();
    for m in crate::json::members_of_valid(text) {
        let m = m.ok()?;
        let Some(key) = m.raw_name() else {
            return serde_json::from_slice(text).ok();
        };
        if let Some((name, sub)) = field(fields, key) {
            out.insert(name.clone(), project(m.value, sub)?);
        }
    }
    Some(out.into())
}

/// Up to this many needed fields are found by comparing bytes one by one (cheaper than decoding
/// the key for a map lookup); more, by a lookup. A speed choice only: both find the same field.
const FIELDS_COMPARED_MAX: usize = 8;

/// The needed field named by the escape-free key bytes `key`. A needed name is valid UTF-8, so
/// byte equality is name equality: no decoding unless the map is large.
#[inline]
fn field<'n>(fields: &'n BTreeMap<String, Need>, key: &[u8]) -> Option<(&'n String, &'n Need)> {
    if fields.len() <= FIELDS_COMPARED_MAX {
        // Lengths and first bytes first: most keys differ there, without a call to compare.
        let same =
            |name: &[u8]| name.len() == key.len() && name.first() == key.first() && name == key;
        return fields.iter().find(|(name, _)| same(name.as_bytes()));
    }
    fields.get_key_value(std::str::from_utf8(key).ok()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod project_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn projection_keeps_needed_members_and_matches_the_full_value_for_the_filter() {
        let f = Filter::parse(r#".data.i % 2 == 0 and .data.s.x == "y""#).unwrap();
        let n = needs(std::slice::from_ref(&f));
        let text = br#"{"data":{"i":4,"big":[1,2,{"deep":true}],"s":{"x":"y","z":1}},"seq":1}"#;
        let p = project(text, &n).unwrap();
        assert_eq!(p, json!({"data": {"i": 4, "s": {"x": "y"}}}));
        let full: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!(f.matches(&p), f.matches(&full));
        assert!(f.matches(&p).unwrap());
    }

    #[test]
    fn non_objects_and_escaped_keys_fall_back_to_a_full_parse() {
        let n = Need::Fields(BTreeMap::from([("a".to_string(), Need::All)]));
        assert_eq!(project(b"[1,2]", &n), Some(json!([1, 2])));
        assert_eq!(project(b"\"s\"", &n), Some(json!("s")));
        assert_eq!(
            project(br#"{"\u0061":1,"b":2}"#, &n),
            Some(json!({"a": 1, "b": 2}))
        );
        assert_eq!(project(b"{}", &n), Some(json!({})));
        assert_eq!(
            project(br#"{"a":1,"a":2}"#, &n),
            Some(json!({"a": 2})),
            "last duplicate wins, as in a full parse"
        );
        assert_eq!(project(b"{\"a\":", &n), None);
    }

    #[test]
    fn needed_names_match_keys_byte_for_byte_on_both_sides_of_the_lookup_switch() {
        let names = ["a", "bb", "é", "k3", "k4", "k5", "k6", "k7", "k8"];
        let text =
            br#"{"zz":0,"a":1,"bb":{"x":2},"\u00e9":3,"k3":4,"k4":5,"k5":6,"k6":7,"k7":8,"k8":9}"#;
        let plain =
            r#"{"zz":0,"a":1,"bb":{"x":2},"é":3,"k3":4,"k4":5,"k5":6,"k6":7,"k7":8,"k8":9}"#;
        let plain = plain.as_bytes();
        for count in [FIELDS_COMPARED_MAX, FIELDS_COMPARED_MAX + 1] {
            let fields: BTreeMap<String, Need> = names[..count]
                .iter()
                .map(|k| (k.to_string(), Need::All))
                .collect();
            let n = Need::Fields(fields);
            let mut want = serde_json::from_slice::<serde_json::Value>(plain).unwrap();
            want.as_object_mut()
                .unwrap()
                .retain(|k, _| names[..count].contains(&k.as_str()));
            assert_eq!(project(plain, &n), Some(want), "{count} needed names");
            let full = serde_json::from_slice::<serde_json::Value>(text).unwrap();
            assert_eq!(project(text, &n), Some(full), "an escaped key: full parse");
        }
        let n = Need::Fields(BTreeMap::from([("a\"".to_string(), Need::All)]));
        assert_eq!(
            project(br#"{"a\"":1,"b":2}"#, &n),
            Some(json!({"a\"": 1, "b": 2})),
            "a name with a quote is only ever written escaped"
        );
    }
}
