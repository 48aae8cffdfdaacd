//! stdio framing guarantees, checked with raw bytes on the pipe.

use rustix::process::Signal;
use serde_json::json;

use super::support::{Proc, bin, raw_stdio};

fn ping(id: u64) -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

/// Reads the next frame, which must be a JSON-RPC error `code` whose message contains `needle`.
fn expect_error(proc: &mut Proc, code: i64, needle: &str) -> serde_json::Value {
    let err = proc.recv();
    assert_eq!(err["error"]["code"], code, "{err}");
    let message = err["error"]["message"].as_str().expect("message");
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
    err
}

#[test]
fn oversize_frame_gets_an_error_and_the_server_keeps_serving() {
    let mut proc = raw_stdio(&["transform", "--max-frame-bytes", "4096"]);
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{{\"name\":\"text_stats\",\"arguments\":{{\"text\":\"{}\"}}}}}}\n",
        "x".repeat(100_000)
    );
    proc.send_raw(huge.as_bytes());
    let err = expect_error(&mut proc, -32600, "4096");
    let message = err["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("--max-frame-bytes"),
        "says how to raise it: {message}"
    );
    assert_eq!(err["error"]["data"]["maxFrameBytes"], 4096);

    proc.send(&ping(3));
    let pong = proc.recv();
    assert_eq!(pong["id"], 3, "{pong}");
    assert!(pong["result"].is_object(), "{pong}");
}

#[test]
fn default_frame_limit_is_four_mebibytes() {
    let mut proc = raw_stdio(&["transform"]);
    let mut line = vec![b' '; 4 * 1024 * 1024 + 10];
    line.push(b'\n');
    proc.send_raw(&line);
    let err = proc.recv();
    assert_eq!(
        err["error"]["data"]["maxFrameBytes"],
        4 * 1024 * 1024,
        "{err}"
    );
}

#[test]
fn malformed_json_gets_parse_error_then_good_request_works() {
    let mut proc = raw_stdio(&["transform"]);
    proc.send_raw(b"{\"jsonrpc\": \"2.0\", \"id\": 9, \"method\": \n");
    expect_error(&mut proc, -32700, "not valid JSON");

    proc.send(&json!({"jsonrpc":"2.0","id":10,"method":"tools/list"}));
    let list = proc.recv();
    assert_eq!(list["id"], 10);
    assert!(
        list["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{list}"
    );
}

#[test]
fn invalid_utf8_gets_parse_error_then_good_request_works() {
    let mut proc = raw_stdio(&["transform"]);
    proc.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}\n");
    expect_error(&mut proc, -32700, "UTF-8");
    proc.send(&ping(2));
    assert_eq!(proc.recv()["id"], 2);
}

#[test]
fn json_that_is_not_a_request_gets_invalid_request_with_its_id() {
    let mut proc = raw_stdio(&["transform"]);
    proc.send(&json!({"jsonrpc": "2.0", "id": 77, "method": 5}));
    let err = proc.recv();
    assert_eq!(err["error"]["code"], -32600, "{err}");
    assert_eq!(err["id"], 77);
    proc.send(&ping(78));
    assert_eq!(proc.recv()["id"], 78);
}

/// JSON-RPC 2.0: a request whose id cannot be read is answered with
/// -32600 and `"id": null`, never with silence.
#[test]
fn request_with_an_id_of_invalid_type_gets_invalid_request_with_id_null() {
    let mut proc = raw_stdio(&["transform"]);
    for (n, id) in ["null", "{\"a\":1}", "[1]", "true", "false", "1.5"]
        .into_iter()
        .enumerate()
    {
        proc.send_raw(
            format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n").as_bytes(),
        );
        let err = expect_error(&mut proc, -32600, "\"id\" must be a string or an integer");
        let object = err.as_object().expect("an object");
        assert!(
            object.get("id").is_some_and(serde_json::Value::is_null),
            "id {id}: {err}"
        );
        // The server keeps serving after each.
        let pong_id = 100 + n as u64;
        proc.send(&ping(pong_id));
        assert_eq!(proc.recv()["id"], pong_id, "after id {id}");
    }
}

#[test]
fn stdout_carries_only_protocol_frames_even_with_debug_logging() {
    let mut proc = Proc::spawn(bin(), &["transform"], &[("FF_LOG", "trace")]);
    proc.send(&super::support::initialize_request(1));
    proc.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    proc.send(&json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}));
    proc.send(&json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"text_stats","arguments":{"text":"a b c"}}}));
    // `recv` panics on any stdout line that is not JSON.
    let mut ids: Vec<_> = (0..3).map(|_| proc.recv()["id"].as_u64()).collect();
    ids.sort();
    assert_eq!(ids, [Some(1), Some(2), Some(3)]);
    proc.stdin = None; // EOF
    assert_eq!(proc.wait_exit(), Some(0));
    let stdout = proc.stdout.take().expect("stdout");
    for line in stdout.try_iter() {
        serde_json::from_str::<serde_json::Value>(&line)
            .unwrap_or_else(|e| panic!("non-protocol line on stdout ({e}): {line}"));
    }
    // Trace logging happened, on stderr.
    assert!(proc.stderr.try_iter().count() > 0, "logs go to stderr");
}

#[test]
fn eof_exits_cleanly() {
    let mut proc = raw_stdio(&["transform"]);
    proc.stdin = None;
    assert_eq!(proc.wait_exit(), Some(0));
}

#[test]
fn eof_before_any_request_exits_cleanly() {
    let mut proc = Proc::spawn(bin(), &["transform"], &[]);
    proc.stdin = None;
    assert_eq!(proc.wait_exit(), Some(0));
}

#[test]
fn sigterm_and_sigint_exit_cleanly() {
    for signal in [Signal::TERM, Signal::INT] {
        let mut proc = raw_stdio(&["transform"]);
        proc.signal(signal);
        assert_eq!(proc.wait_exit(), Some(0), "{signal:?}");
    }
}

/// Node (and so Claude Desktop) gives child processes socketpairs, not pipes,
/// for stdio; that path is driven non-blocking too and must behave the same.
#[test]
fn stdio_over_a_socketpair_frames_and_answers() {
    use std::{
        io::{BufRead, BufReader, Write},
        os::unix::net::UnixStream,
        process::{Command, Stdio},
    };
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    let stdin = theirs.try_clone().expect("clone");
    let mut child = Command::new(super::support::bin())
        .arg("transform")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(stdin)))
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ffmcp");
    ours.set_read_timeout(Some(super::support::TIMEOUT))
        .expect("timeout");
    let mut writer = ours.try_clone().expect("clone");
    let mut reader = BufReader::new(ours);
    let mut exchange = |line: &str| -> serde_json::Value {
        writer.write_all(line.as_bytes()).expect("write");
        writer.write_all(b"\n").expect("write");
        let mut response = String::new();
        reader.read_line(&mut response).expect("a response line");
        serde_json::from_str(&response).expect("JSON response")
    };
    let init = exchange(&super::support::initialize_request(1).to_string());
    assert_eq!(init["id"], 1, "{init}");
    assert_eq!(exchange("{broken")["error"]["code"], -32700);
    let pong = exchange(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
    assert_eq!(pong["id"], 2, "{pong}");
    let _ = child.kill();
    let _ = child.wait();
}

/// stdin a pipe, stdout a regular file: the async stdin attempt must not
/// leave the pipe non-blocking for the blocking reader (it did: EAGAIN, and
/// the server quit before answering).
#[test]
fn stdin_pipe_with_stdout_to_a_file_is_served() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("out.jsonl");
    let out = std::fs::File::create(&out_path).expect("out file");
    let mut child = std::process::Command::new(super::support::bin())
        .arg("transform")
        .env("FF_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = serde_json::to_vec(&super::support::initialize_request(1)).expect("json");
    lines.extend_from_slice(b"\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    lines.extend_from_slice(&serde_json::to_vec(&ping(2)).expect("json"));
    lines.push(b'\n');
    // Slowly, so the server really waits on an empty pipe in between.
    for chunk in lines.chunks(40) {
        stdin.write_all(chunk).expect("write");
        stdin.flush().expect("flush");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(stdin);
    let output = child.wait_with_output().expect("exit");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("reading stdin failed"), "{stderr}");
    let written = std::fs::read_to_string(&out_path).expect("read");
    let answers: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(answers.len(), 2, "{written}");
    assert_eq!(answers[1]["id"], 2, "{written}");
}
