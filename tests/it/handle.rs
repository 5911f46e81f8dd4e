//! The library's one pool handle as the bindings use it, through both doors (a pool directory, and a
//! `serve` on port 0 over another one): `PoolTail::next_ref_until` (a bounded wait that does not end
//! the tail), `next_seq`, `edge_seq` (the live edge pinned when a tail is made), `list_pools`,
//! the option checks of `RemoteClient::new`, and a remote tail's follower stopping after `max`.

use crate::support::{eventually, make_pool, serve, TempDir};
use plasmite::api::{EventRef, JsonText, TailStart};
use plasmite::server::Running;
use plasmite::{
    Client, Durability, ErrorKind, PoolHandle, PoolRef, PoolTail, RemoteClient, RemoteOptions,
    TailOptions,
};
use std::time::{Duration, Instant};

/// Generous: the machine is shared.
const PATIENCE: Duration = Duration::from_secs(30);

/// Pool `p` of a fresh directory, through the local door and through a server over another one.
fn both(tag: &str, f: impl Fn(&PoolHandle)) {
    let t = TempDir::new(&format!("handle-local-{tag}"));
    make_pool(t.path(), "p", None);
    f(&Client::new(t.path())
        .open_pool(&PoolRef::name("p"))
        .map(PoolHandle::Local)
        .unwrap());
    let t = TempDir::new(&format!("handle-remote-{tag}"));
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    f(&remote(&s).open_pool("p").unwrap());
}

fn remote(s: &Running) -> RemoteClient {
    RemoteClient::new(&s.url(), RemoteOptions::default()).unwrap()
}

fn append(h: &PoolHandle, n: u64) -> u64 {
    let data = JsonText::parse(format!("{{\"n\":{n}}}").as_bytes()).unwrap();
    h.append_text(&data, &["t"], Durability::Fast).unwrap().seq
}

fn tail(h: &PoolHandle, start: TailStart) -> PoolTail {
    h.tail(TailOptions {
        start,
        ..TailOptions::default()
    })
    .unwrap()
}

/// The seq of the next event, waiting at most `PATIENCE`; `None` for anything but a message.
fn next_seq_of(t: &mut PoolTail) -> Option<u64> {
    match t.next_ref_until(Instant::now() + PATIENCE)? {
        Ok(EventRef::Message(m)) => Some(m.seq()),
        _ => None,
    }
}

#[test]
fn next_ref_until_returns_when_nothing_came_and_the_tail_goes_on() {
    both("until", |h| {
        let mut t = tail(h, TailStart::Since(1));
        let asked = Instant::now() + Duration::from_millis(100);
        assert!(t.next_ref_until(asked).is_none());
        assert!(Instant::now() >= asked, "it waited until the instant given");
        assert_eq!(t.end(), None, "the tail did not end");
        assert!(t.next_ref_until(Instant::now()).is_none());
        assert_eq!(t.end(), None);
        append(h, 1);
        assert_eq!(next_seq_of(&mut t), Some(1));
        assert_eq!(t.end(), None);
    });
}

#[test]
fn a_tail_from_edge_seq_starts_where_the_pool_ends_when_it_is_made() {
    both("edge", |h| {
        assert_eq!(h.edge_seq().unwrap(), 1, "a pool never written");
        append(h, 1);
        append(h, 2);
        let edge = h.edge_seq().unwrap();
        assert_eq!(edge, 3);
        let mut t = tail(h, TailStart::Since(edge));
        assert_eq!(t.next_seq(), Some(3));
        // Appended before a remote follower may have reached the server: still delivered.
        append(h, 3);
        assert_eq!(next_seq_of(&mut t), Some(3));
        assert_eq!(t.next_seq(), Some(4));
    });
}

#[test]
fn next_seq_follows_the_events_taken_not_what_was_read_ahead() {
    both("next-seq", |h| {
        for n in 1..=3 {
            append(h, n);
        }
        let mut t = tail(h, TailStart::Since(1));
        assert_eq!(t.next_seq(), Some(1));
        assert_eq!(next_seq_of(&mut t), Some(1));
        assert_eq!(t.next_seq(), Some(2));
        assert_eq!(next_seq_of(&mut t), Some(2));
        assert_eq!(t.next_seq(), Some(3));
    });
}

#[test]
fn a_remote_listing_is_the_local_listing_of_the_served_directory() {
    let t = TempDir::new("handle-list");
    for name in ["b", "a"] {
        let p = make_pool(t.path(), name, None);
        p.append_json(br#"{"x":1}"#, &["k"], Durability::Fast)
            .unwrap();
    }
    std::fs::write(t.join("junk.plasmite"), "not a pool at all").unwrap();
    let s = serve(t.path(), |_| {});
    let local = Client::new(t.path()).list_pools().unwrap();
    let listed = remote(&s).list_pools().unwrap();
    let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "junk"]);
    for (l, r) in local.iter().zip(&listed) {
        assert_eq!((&l.name, &l.path), (&r.name, &r.path));
        match (&l.info, &r.info) {
            // The pool object (`used_percent` crosses the wire rounded, as `to_json` shows it).
            (Ok(li), Ok(ri)) => assert_eq!(li.to_json(), ri.to_json()),
            (Err(le), Err(re)) => {
                assert_eq!(le.kind(), ErrorKind::Corrupt);
                assert_eq!((re.kind(), re.message()), (le.kind(), le.message()));
            }
            other => panic!("the doors disagree on {}: {other:?}", l.name),
        }
    }
    let empty = TempDir::new("handle-list-empty");
    let s = serve(empty.path(), |_| {});
    assert!(remote(&s).list_pools().unwrap().is_empty());
}

#[test]
fn a_remote_client_checks_its_url_and_options_when_made() {
    let tls = RemoteOptions {
        tls_ca: Some("/nonexistent/ca.pem".into()),
        ..RemoteOptions::default()
    };
    for (base, opts) in [
        ("ftp://127.0.0.1:1", RemoteOptions::default()),
        ("http://127.0.0.1:1/extra", RemoteOptions::default()),
        ("http://", RemoteOptions::default()),
        ("http://127.0.0.1:1", tls),
    ] {
        let e = RemoteClient::new(base, opts).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage, "{base}: {e}");
    }
    let c = RemoteClient::new("http://127.0.0.1:1/", RemoteOptions::default()).unwrap();
    assert_eq!(c.base(), "http://127.0.0.1:1");
}

#[test]
fn a_remote_tail_stops_following_once_it_has_handed_over_max_messages() {
    // With room for the handle's connection and one tail stream at a time, each tail below can
    // only open its stream once the one before closed it: a follower that kept its stream (the
    // pool is idle after the five messages) would hold the server's slot for a whole segment.
    let t = TempDir::new("handle-max");
    let p = make_pool(t.path(), "p", None);
    for n in 0..5 {
        p.append_json(
            format!("{{\"n\":{n}}}").as_bytes(),
            &["t"],
            Durability::Fast,
        )
        .unwrap();
    }
    let s = serve(t.path(), |c| c.limits.connections_per_ip_max = 2);
    let h = remote(&s).open_pool("p").unwrap();
    h.info().unwrap();
    for round in 0..4 {
        let mut got = None;
        let opened = eventually(PATIENCE, || {
            let mut tl = h
                .tail(TailOptions {
                    start: TailStart::Since(1),
                    max: Some(1),
                    ..TailOptions::default()
                })
                .unwrap();
            got = next_seq_of(&mut tl);
            got.is_some()
        });
        assert!(opened, "round {round}: no tail stream could be opened");
        assert_eq!(got, Some(1));
    }
}

#[test]
fn remote_open_existing_and_open_or_create_behave_as_the_local_client() {
    let t = TempDir::new("handle-open");
    let s = serve(t.path(), |_| {});
    let c = remote(&s);
    let local = Client::new(t.path());
    let e = c.open_existing_pool("p").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = local.open_pool(&PoolRef::name("p")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let h = c.open_or_create_pool("p", 65536).unwrap();
    assert_eq!(h.info().unwrap().file_size, 65536);
    append(&h, 1);
    // The second time it opens the pool that is there (its size and message stay).
    let again = c.open_or_create_pool("p", 1 << 20).unwrap();
    assert_eq!(again.info().unwrap().file_size, 65536);
    assert_eq!(
        c.open_existing_pool("p").unwrap().get(1).unwrap().data,
        r#"{"n":1}"#
    );
    assert_eq!(
        c.open_existing_pool("bad name").unwrap_err().kind(),
        ErrorKind::Usage
    );
}
