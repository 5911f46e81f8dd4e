//! A tiny ordered JSON writer: objects keep their keys in the order written.
//!
//! serde_json is built without `preserve_order`, so a `serde_json::Value` object sorts its keys; the
//! shapes spec/cli.md promises (`name` first, errors `kind, message, …`) are written with [`Obj`]
//! instead, each value still encoded by serde_json. Invariant: the output is always valid compact
//! JSON (keys are escaped by serde_json, raw parts come from `Obj`/[`array`] or serde_json).

use serde_json::Value;

/// An object under construction; `finish` gives its compact text.
#[derive(Debug)]
pub struct Obj {
    buf: String,
}

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

impl Obj {
    pub fn new() -> Obj {
        Obj {
            buf: String::from("{"),
        }
    }

    fn key(&mut self, k: &str) {
        if self.buf.len() > 1 {
            self.buf.push(',');
        }
        self.buf.push_str(&Value::from(k).to_string());
        self.buf.push(':');
    }

    /// Adds `k: v` (any value serde_json can build; `None` is `null`).
    pub fn field(mut self, k: &str, v: impl Into<Value>) -> Obj {
        self.key(k);
        self.buf.push_str(&v.into().to_string());
        self
    }

    /// Adds `k: v` only when `v` is `Some`.
    pub fn some(self, k: &str, v: Option<impl Into<Value>>) -> Obj {
        match v {
            Some(v) => self.field(k, v),
            None => self,
        }
    }

    /// Adds `k` with JSON text produced by this module (a nested [`Obj`] or [`array`]).
    pub fn raw(mut self, k: &str, json: &str) -> Obj {
        self.key(k);
        self.buf.push_str(json);
        self
    }

    pub fn finish(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

/// `[a,b,…]` from JSON texts produced by this module.
pub fn array(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    format!("[{}]", items.join(","))
}

/// The error envelope `{"error":{"kind","message","hint","path","seq","offset"}}` (optional parts only
/// when known), in that order.
pub fn error(e: &crate::error::Error) -> String {
    Obj::new().raw("error", &error_inner(e, e.hint())).finish()
}

/// The inner object of [`error`], with `hint` in place of the error's own.
pub fn error_inner(e: &crate::error::Error, hint: Option<&str>) -> String {
    Obj::new()
        .field("kind", e.kind().as_str())
        .field("message", e.message())
        .some("hint", hint)
        .some("path", e.path().map(|p| p.display().to_string()))
        .some("seq", e.seq())
        .some("offset", e.offset())
        .some("lost", e.lost())
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_order_written() {
        let inner = Obj::new().field("z", 1).field("a", "x\"y").finish();
        let text = Obj::new()
            .field("name", "n")
            .raw("inner", &inner)
            .field("none", None::<u64>)
            .some("absent", None::<u64>)
            .raw("list", &array([inner.clone(), "{}".into()]))
            .finish();
        assert_eq!(
            text,
            r#"{"name":"n","inner":{"z":1,"a":"x\"y"},"none":null,"list":[{"z":1,"a":"x\"y"},{}]}"#
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["inner"]["a"], "x\"y");
        assert_eq!(Obj::new().finish(), "{}");
    }

    #[test]
    fn error_envelope_puts_kind_and_message_first() {
        let e = crate::error::Error::new(crate::error::ErrorKind::NotFound, "pool not found")
            .with_hint("create it")
            .with_seq(3);
        assert_eq!(
            error(&e),
            r#"{"error":{"kind":"NotFound","message":"pool not found","hint":"create it","seq":3}}"#
        );
    }
}
