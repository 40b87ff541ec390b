//! `GET /`: the live status page. One self-contained HTML file (no build step, no outside
//! assets) with the current `/status` embedded, so the first paint has data; its script then
//! polls `/status` every second.

use serde_json::Value;

const PAGE: &str = include_str!("status.html");
const SLOT: &str = "/*INITIAL_STATUS*/null";

/// The page's Content-Security-Policy: nothing from outside, fetches only to this origin.
pub const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page with `status` embedded.
pub fn render(status: &Value) -> Vec<u8> {
    // `<`, `>` and `&` only occur inside JSON strings, where their \u escapes mean the same;
    // escaped, no value can close the script element.
    let json =
        status.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    PAGE.replacen(SLOT, &json, 1).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_status_safely_and_loads_nothing_from_outside() {
        assert!(PAGE.contains(SLOT));
        let page = String::from_utf8(render(&serde_json::json!({"x": "</script><b>"}))).unwrap();
        assert!(!page.contains(SLOT));
        assert!(page.contains(r#"{"x":"\u003c/script\u003e\u003cb\u003e"}"#), "{page}");
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own script ends");
        for outside in ["http://", "https://", "src=\"", "href=\"", "@import", "url("] {
            assert!(!PAGE.contains(outside), "the page must not load {outside}");
        }
    }
}
