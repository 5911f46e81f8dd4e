//! `peek` over a damaged frame: the `Corrupt` error, then a `drop` notice that says the reader skipped
//! unreadable bytes (not that writers overwrote messages).

use crate::support::{pls, TempDir};

#[test]
fn a_corrupt_frame_is_reported_as_skipped_not_overwritten() {
    let t = TempDir::new("drop-corrupt");
    for d in ["\"first\"", "\"SECOND-PAYLOAD\"", "\"third\""] {
        assert_eq!(pls(t.path(), &["poke", "p", "--create", d], None).code, 0);
    }
    let path = t.join("p.plasmite");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(14)
        .position(|w| w == b"SECOND-PAYLOAD")
        .expect("payload bytes in the file");
    bytes[at] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();

    let r = pls(
        t.path(),
        &["peek", "p", "--tail", "3", "--timeout", "1s"],
        None,
    );
    let shown: Vec<String> = r.lines().iter().map(|v| v["data"].to_string()).collect();
    assert_eq!(shown, ["\"first\"", "\"third\""], "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert_eq!(lines[0]["error"]["kind"], "Corrupt");
    let drop = &lines[1]["notice"];
    assert_eq!(drop["kind"], "drop");
    assert_eq!(drop["reason"], "corrupt");
    assert_eq!(drop["lost"], 1);
    let text = drop["message"].as_str().unwrap();
    assert!(!text.contains("overwritten"), "{text}");
    assert!(text.contains("1 message that could not be read"), "{text}");
}
