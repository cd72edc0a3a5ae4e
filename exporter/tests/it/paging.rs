//! Limits and resumption: `--max-items` stops exactly, and a run resumed from the printed cursor writes exactly
//! the entries the interrupted run did not.

use mock_server::{Config, Fault, Filters, MockScope};

use crate::support::{command, first_issue, parse_ndjson, run, server};

/// `--max-items` that ends inside a page writes exactly that many entries, the first ones served.
#[test]
fn max_items_stops_exactly_inside_a_page() {
    let server = server(Config::default());
    let issue = first_issue(&server);
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--issue",
            &issue,
            "--per-page",
            "10",
            "--max-items",
            "37",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let expected = server.expected_entries(MockScope::Account, Some(&issue), &Filters::default());
    assert_eq!(parse_ndjson(&out.stdout), expected[..37]);
    // 4 pages of 10 cover 37 entries; no fifth page is fetched.
    assert_eq!(server.requests().len(), 4);
}

/// A walk broken by a fault prints a cursor; a second run from that cursor (against a healthy server with the
/// same data) writes exactly the remaining entries, so the two outputs concatenated are the whole log.
#[test]
fn resume_with_the_printed_cursor_yields_exactly_the_rest() {
    let config = Config::default().with_entries(600);
    let broken = server(config.clone().with_fault(Fault::TruncatedBody { every: 4 }));
    let args = |cursor: Option<&str>| {
        let mut args = vec!["--account", broken.account_id(), "--per-page", "50"];
        args.extend(cursor.map(|c| ["--cursor", c]).into_iter().flatten());
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let first_args = args(None);
    let first_args: Vec<&str> = first_args.iter().map(String::as_str).collect();
    let first = run(&mut command(&broken), &first_args);
    assert_ne!(first.code, Some(0), "the fault stops the walk");
    let cursor = first.resume_cursor().expect("a resume cursor is printed");
    let head = parse_ndjson(&first.stdout);
    assert_eq!(
        head.len(),
        150,
        "three whole pages were written before the fourth broke"
    );

    let healthy = server(config);
    let rest_args = args(Some(&cursor));
    let rest_args: Vec<&str> = rest_args.iter().map(String::as_str).collect();
    let second = run(&mut command(&healthy), &rest_args);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let tail = parse_ndjson(&second.stdout);

    let all = healthy.expected_entries(MockScope::Account, None, &Filters::default());
    assert_eq!(all.len(), 600);
    assert_eq!([head, tail].concat(), all);
}
