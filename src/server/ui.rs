//! The built-in web UI: files embedded in the binary (`ui/index.html`, `ui/app.js`, `ui/style.css`,
//! `ui/icon.svg`), served at `/ui`, `/ui/pools/{name}` (both the same page: its script reads the
//! path), `/ui/app.js`, `/ui/style.css` and `/ui/icon.svg`.
//!
//! The page holds no data: its script talks to the v0 protocol from the browser, with the user's
//! token, so serving it needs no token and reads no pool. The only thing filled in on the server is
//! the access mode (one of three fixed words), so the page can hide its append form on a read-only
//! server.
//!
//! Invariants: every answer carries `plasmite-version: 0`, an exact content type, `nosniff` and a
//! Content-Security-Policy that allows scripts, styles and connections from this origin only, and no
//! inline code; nothing from the request is ever echoed into an answer.

use super::auth::Access;
use super::respond::VERSION_HEADER;

const INDEX_HTML: &str = include_str!("ui/index.html");
const APP_JS: &str = include_str!("ui/app.js");
const STYLE_CSS: &str = include_str!("ui/style.css");
const ICON_SVG: &str = include_str!("ui/icon.svg");

/// Where `index.html` carries the access mode.
const ACCESS_SLOT: &str = "{{access}}";

/// The policy of every UI answer: this origin only, no inline script or style, no plugins, no
/// framing, no form posted anywhere by the browser itself (the script sends every request).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One file of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The page (`/ui`, `/ui/`, `/ui/pools/{name}`).
    Index,
    /// `/ui/app.js`.
    Script,
    /// `/ui/style.css`.
    Style,
    /// `/ui/icon.svg`.
    Icon,
}

/// The UI file a path names, if any (pure; the pool name is checked by the API the page calls).
pub fn page(path: &str) -> Option<Page> {
    match path {
        "/ui" | "/ui/" => Some(Page::Index),
        "/ui/app.js" => Some(Page::Script),
        "/ui/style.css" => Some(Page::Style),
        "/ui/icon.svg" => Some(Page::Icon),
        _ => {
            let name = path.strip_prefix("/ui/pools/")?;
            (!name.is_empty() && !name.contains('/')).then_some(Page::Index)
        }
    }
}

/// The content type and body of a file.
fn file(page: Page, access: Access) -> (&'static str, Vec<u8>) {
    match page {
        Page::Index => (
            "text/html; charset=utf-8",
            INDEX_HTML
                .replacen(ACCESS_SLOT, access.as_str(), 1)
                .into_bytes(),
        ),
        Page::Script => ("text/javascript; charset=utf-8", APP_JS.as_bytes().to_vec()),
        Page::Style => ("text/css; charset=utf-8", STYLE_CSS.as_bytes().to_vec()),
        Page::Icon => ("image/svg+xml", ICON_SVG.as_bytes().to_vec()),
    }
}

/// The complete HTTP/1.1 answer for `page` (status line, headers and body), written as is.
pub fn answer(page: Page, access: Access) -> Vec<u8> {
    let (content_type, body) = file(page, access);
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}: {}\r\n\
         Content-Security-Policy: {CSP}\r\nX-Content-Type-Options: nosniff\r\n\
         Referrer-Policy: no-referrer\r\nCache-Control: no-cache\r\n\r\n",
        body.len(),
        VERSION_HEADER.0,
        VERSION_HEADER.1,
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::routes::{route, Miss, Route};

    #[test]
    fn ui_paths_name_their_file_and_nothing_else() {
        assert_eq!(page("/ui"), Some(Page::Index));
        assert_eq!(page("/ui/"), Some(Page::Index));
        assert_eq!(page("/ui/pools/docs"), Some(Page::Index));
        assert_eq!(page("/ui/app.js"), Some(Page::Script));
        assert_eq!(page("/ui/style.css"), Some(Page::Style));
        for p in [
            "/ui/pools/",
            "/ui/pools",
            "/ui/pools/a/b",
            "/ui/index.html",
            "/ui//app.js",
            "/uix",
            "/",
        ] {
            assert_eq!(page(p), None, "{p}");
        }
    }

    #[test]
    fn ui_routes_take_get_only() {
        assert_eq!(route("GET", "/ui"), Ok(Route::Ui(Page::Index)));
        assert_eq!(route("GET", "/ui/pools/a"), Ok(Route::Ui(Page::Index)));
        assert_eq!(route("GET", "/ui/app.js"), Ok(Route::Ui(Page::Script)));
        assert_eq!(route("POST", "/ui"), Err(Miss::Method("GET")));
        assert_eq!(route("GET", "/ui/nope"), Err(Miss::NotFound));
    }

    #[test]
    fn the_page_learns_the_access_mode_and_loads_only_our_files() {
        assert!(INDEX_HTML.contains(ACCESS_SLOT));
        let (ct, body) = file(Page::Index, Access::ReadOnly);
        let html = String::from_utf8(body).unwrap();
        assert_eq!(ct, "text/html; charset=utf-8");
        assert!(html.contains(r#"content="read-only""#), "{html}");
        assert!(!html.contains(ACCESS_SLOT));
        assert!(html.contains(r#"<script src="/ui/app.js" defer></script>"#));
        // No inline script or style, no other origin: the CSP would refuse them anyway.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("<style") && !html.contains("style="));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!APP_JS.contains("http://") && !STYLE_CSS.contains("url("));
        assert!(!APP_JS.contains("innerHTML") && !APP_JS.contains("eval("));
    }

    #[test]
    fn answers_are_complete_with_length_version_and_policy() {
        for (p, ct) in [
            (Page::Index, "text/html; charset=utf-8"),
            (Page::Script, "text/javascript; charset=utf-8"),
            (Page::Style, "text/css; charset=utf-8"),
            (Page::Icon, "image/svg+xml"),
        ] {
            let raw = String::from_utf8(answer(p, Access::ReadWrite)).unwrap();
            let (head, body) = raw.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
            assert!(head.contains(&format!("\r\nContent-Type: {ct}\r\n")));
            assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
            assert!(head.contains("\r\nplasmite-version: 0\r\n"));
            assert!(head.contains(&format!("\r\nContent-Security-Policy: {CSP}\r\n")));
        }
    }
}
