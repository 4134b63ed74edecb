//! Household devices on a small LAN of network namespaces: three Kintoun instances (A, B, C)
//! and a machine in the middle (M), each in its own namespace on a bridge that lives in a fifth
//! one (nothing, mDNS included, runs in the root namespace). Driven through the `kintoun` CLI
//! inside the namespaces, answering its confirmation prompts; TLS probes and M's relay run as
//! helper modes of this test binary inside a namespace. Skipped with a printed reason where
//! namespaces cannot be created (not root, no `ip`).

mod lan_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lan_support::{Lan, Node, in_ns, sas_of, stdout};

/// Runs this test binary's helper inside `ns` (see [`lan_helper`]).
fn helper(ns: &str, mode: &str, data: &Path, target: &str, peer: &str) -> Child {
    in_ns(ns, std::env::current_exe().expect("test binary").to_str().unwrap_or_default())
        .args(["--ignored", "--exact", "lan_helper", "--nocapture", "--test-threads=1"])
        .env("KT_MODE", mode)
        .env("KT_DATA", data)
        .env("KT_TARGET", target)
        .env("KT_PEER", peer)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("helper")
}

fn helper_lines(child: Child) -> Vec<String> {
    let out = child.wait_with_output().expect("helper output");
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().filter_map(kt_line).collect();
    if lines.is_empty() {
        return vec![format!(
            "{:?} {} {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )];
    }
    lines
}

/// The helper's report in a line of the test harness' output (`test lan_helper ... KT ...`).
fn kt_line(line: &str) -> Option<String> {
    line.find("KT ").map(|at| line[at..].to_owned())
}

/// The next report of a running helper.
fn next_kt(out: &mut BufReader<std::process::ChildStdout>) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            return String::new();
        }
        if let Some(report) = kt_line(&line) {
            return report;
        }
    }
}

#[test]
fn three_devices_discover_pair_and_revoke() {
    if !Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0")) {
        println!("SKIPPED devices_lan: network namespaces need root");
        return;
    }
    let lan = match Lan::create(&["a", "b", "c", "m"]) {
        Ok(lan) => lan,
        Err(reason) => {
            println!("SKIPPED devices_lan: cannot create network namespaces: {reason}");
            return;
        }
    };
    let started = Instant::now();
    let a = Node::start(lan.ns("a"), "alpha").expect("A starts");
    let b = Node::start(lan.ns("b"), "bravo").expect("B starts");
    let c = Node::start(lan.ns("c"), "charlie").expect("C starts");
    let up = Instant::now();
    println!("instances up in {:?}", up - started);

    // Discovery: A hears B and C.
    loop {
        let list = a.devices();
        if list.contains(&b.id) && list.contains(&c.id) {
            break;
        }
        assert!(up.elapsed() < Duration::from_secs(15), "A did not discover B and C:\n{list}\n{}", a.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("MEASURED discovery of B and C by A: {:?} after the last instance started", up.elapsed());

    // C is not paired with A: its TLS handshake with A's LAN port fails.
    let probe = helper_lines(helper(&lan.ns("c"), "probe", c.data(), "10.231.0.1:8889", &a.id));
    assert!(probe.iter().any(|l| l.starts_with("KT refused")), "{probe:?}");

    // A shows a code. M, a machine in the middle with its own key, knows the code and relays
    // B's pairing connection to A's pairing port: key confirmation fails (the TLS channel and
    // keys differ on the two legs), nothing is pinned or pending anywhere, and the relayed
    // attempt costs one of the code's five attempts.
    let (mut inviter, code, pairing_port) = a.invite(false);
    let relay = helper(&lan.ns("m"), "relay", Path::new(""), &format!("10.231.0.1:{pairing_port}"), "10.231.0.4:7000");
    let mut relay_out = detach_stdout(relay);
    let line = next_kt(&mut relay_out);
    assert!(line.starts_with("KT listening"), "{line}");
    let relayed_at = Instant::now();
    let relayed = b.cli(&["pair", "10.231.0.4:7000", &code, "--yes"]);
    let relayed_time = relayed_at.elapsed();
    assert!(!relayed.status.success(), "pairing through a machine in the middle succeeded: {}", stdout(&relayed));
    assert!(stdout(&relayed).contains("machine in the middle"), "{}", stdout(&relayed));
    let line = next_kt(&mut relay_out);
    assert!(line.starts_with("KT relayed"), "{line}");
    loop {
        let line = inviter.line();
        assert!(!line.is_empty(), "the inviter stopped: {}", inviter.seen);
        if line.contains("A wrong code was tried; 4 attempts left") {
            break;
        }
    }
    assert!(a.log().contains("wrong pairing code (or a machine in the middle)"), "{}", a.log());
    for node in [&a, &b] {
        let list = node.devices();
        assert!(!list.lines().any(|l| l.starts_with("paired") || l.starts_with("pending")), "{list}");
    }
    println!("MEASURED machine-in-the-middle attempt (B's join through M until refused): {relayed_time:?}");

    // Pair A–B with the same code (4 attempts left). Until both users confirm the check string,
    // neither side lets the other through its data port.
    let pairing = Instant::now();
    let mut joiner = b.interactive(&["pair", "alpha", &code]);
    let b_asks = joiner.until_prompt();
    let pake_time = pairing.elapsed();
    let a_asks = inviter.until_prompt();
    assert_eq!(sas_of(&b_asks), sas_of(&a_asks), "check strings differ:\n{b_asks}\n{a_asks}");
    assert_eq!(sas_of(&a_asks).len(), 7, "{a_asks}");
    assert!(a.devices().lines().any(|l| l.starts_with("pending") && l.contains(&b.id)), "{}", a.devices());
    assert!(b.devices().lines().any(|l| l.starts_with("pending") && l.contains(&a.id)), "{}", b.devices());
    let probe = helper_lines(helper(&lan.ns("b"), "probe", b.data(), "10.231.0.1:8889", &a.id));
    assert!(probe.iter().any(|l| l.starts_with("KT refused")), "B used A's data port before confirming: {probe:?}");
    let probe = helper_lines(helper(&lan.ns("a"), "probe", a.data(), "10.231.0.2:8889", &b.id));
    assert!(probe.iter().any(|l| l.starts_with("KT refused")), "A used B's data port before confirming: {probe:?}");
    let confirming = Instant::now();
    joiner.answer("y");
    inviter.answer("y");
    let (joined, b_says) = joiner.finish();
    let (invited, a_says) = inviter.finish();
    let confirm_time = confirming.elapsed();
    assert!(joined && invited, "{b_says}\n{a_says}\n{}", a.log());
    assert!(a_says.contains("Paired with bravo"), "{a_says}");
    assert!(a.devices().lines().any(|l| l.starts_with("paired") && l.contains(&b.id)));
    assert!(b.devices().lines().any(|l| l.starts_with("paired") && l.contains(&a.id)));
    assert!(!a.devices().lines().any(|l| l.starts_with("pending")), "{}", a.devices());
    let probe = helper_lines(helper(&lan.ns("b"), "probe", b.data(), "10.231.0.1:8889", &a.id));
    assert!(probe.iter().any(|l| l.starts_with("KT connected 200")), "{probe:?}");
    println!("MEASURED pairing A–B (join command to check string: TLS + SPAKE2 + key confirmation): {pake_time:?}");
    println!("MEASURED confirmation on both sides (answers to both pinned): {confirm_time:?}");

    // A wrong code five times burns it; the right code is then refused.
    let (inviter, code, _) = a.invite(false);
    let wrong = if code.starts_with('9') { "1111-1111" } else { "9999-9999" };
    for attempt in 1..=5 {
        let tried = c.cli(&["pair", "alpha", wrong, "--yes"]);
        assert!(!tried.status.success(), "wrong code {attempt} paired");
    }
    let right = c.cli(&["pair", "alpha", &code, "--yes"]);
    assert!(!right.status.success(), "a burned code paired: {}", stdout(&right));
    let (ok, a_says) = inviter.finish();
    assert!(!ok);
    assert!(a_says.contains("attempts left"), "{a_says}");

    // C pairs with A and confirms, but A's user rejects: A forgets C, which never gets in.
    let (mut inviter, code, _) = a.invite(false);
    let joined = c.cli(&["pair", "alpha", &code, "--yes"]);
    assert!(joined.status.success(), "{}", stdout(&joined));
    inviter.until_prompt();
    inviter.answer("n");
    let (ok, a_says) = inviter.finish();
    assert!(!ok, "{a_says}");
    assert!(a.log().contains("pairing rejected"), "{}", a.log());
    let list = a.devices();
    assert!(
        !list.lines().any(|l| (l.starts_with("paired") || l.starts_with("pending")) && l.contains(&c.id)),
        "{list}"
    );
    let probe = helper_lines(helper(&lan.ns("c"), "probe", c.data(), "10.231.0.1:8889", &a.id));
    assert!(probe.iter().any(|l| l.starts_with("KT refused")), "a rejected device got in: {probe:?}");

    // Pair A–C and C–B (both sides with --yes), so C learns of B's revocation.
    for (inviter_node, joiner, name) in [(&a, &c, "alpha"), (&c, &b, "charlie")] {
        let (inviter, code, _) = inviter_node.invite(true);
        let joined = joiner.cli(&["pair", name, &code, "--yes"]);
        assert!(joined.status.success(), "{}", stdout(&joined));
        let (ok, said) = inviter.finish();
        assert!(ok, "{said}");
    }
    assert!(c.devices().lines().any(|l| l.starts_with("paired") && l.contains(&b.id)));
    assert!(a.devices().lines().any(|l| l.starts_with("paired") && l.contains(&c.id)));

    // B holds a connection to A; revoking B closes it at once, then B is refused and C forgets B.
    let hold = helper(&lan.ns("b"), "hold", b.data(), "10.231.0.1:8889", &a.id);
    let mut hold_out = detach_stdout(hold);
    let line = next_kt(&mut hold_out);
    assert!(line.starts_with("KT connected"), "{line}");
    let revoking = Instant::now();
    let revoked = a.cli(&["devices", "revoke", &b.id]);
    assert!(revoked.status.success(), "{}", stdout(&revoked));
    assert!(stdout(&revoked).contains("1 connections closed"), "{}", stdout(&revoked));
    assert!(stdout(&revoked).contains("notice sent to 1 devices"), "{}", stdout(&revoked));
    let line = next_kt(&mut hold_out);
    assert!(line.starts_with("KT closed"), "{line}");
    println!("MEASURED revocation (command to B's connection closed): {:?}", revoking.elapsed());
    let probe = helper_lines(helper(&lan.ns("b"), "probe", b.data(), "10.231.0.1:8889", &a.id));
    assert!(probe.iter().any(|l| l.starts_with("KT refused")), "{probe:?}");
    assert!(!c.devices().lines().any(|l| l.starts_with("paired") && l.contains(&b.id)), "{}", c.devices());
    assert!(c.log().contains("revoked by a signed notice"), "{}", c.log());
    drop((a, b, c));
    drop(lan);
}

fn detach_stdout(mut child: Child) -> BufReader<std::process::ChildStdout> {
    let out = child.stdout.take().expect("stdout");
    // The helper ends by itself once the server closes its connection.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    BufReader::new(out)
}

/// Helper modes run inside a namespace by [`three_devices_discover_pair_and_revoke`].
#[test]
#[ignore = "run inside a namespace by three_devices_discover_pair_and_revoke"]
fn lan_helper() {
    let Ok(mode) = std::env::var("KT_MODE") else { return };
    let data = PathBuf::from(std::env::var("KT_DATA").unwrap_or_default());
    let target = std::env::var("KT_TARGET").unwrap_or_default();
    let peer = std::env::var("KT_PEER").unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        if mode == "relay" {
            return relay(&peer, &target).await;
        }
        let secrets = kintoun::secrets::SecretStore::new(&data, kintoun::secrets::SecretsBackend::File);
        let seed = kintoun::sharing::attach::device_key_seed(&secrets).expect("seed");
        let me = kintoun::sharing::DeviceIdentity::from_seed_hex(&seed).expect("identity");
        match mode.as_str() {
            "probe" | "hold" => lan_request(&me, &target, &peer, mode == "hold").await,
            _ => println!("KT unknown mode {mode}"),
        }
    });
}

/// The machine in the middle: with its own device key, accepts one pairing connection on
/// `listen` and relays every byte of it, over its own TLS connection, to the pairing port `target`.
async fn relay(listen: &str, target: &str) {
    use kintoun::sharing::DeviceIdentity;
    use kintoun::sharing::tls::{ALPN_PAIR, Trust, client_config, server_config, server_name};
    let me = DeviceIdentity::from_seed_hex(&DeviceIdentity::generate_seed_hex()).expect("M's key");
    let listener = tokio::net::TcpListener::bind(listen).await.expect("M listens");
    println!("KT listening {listen} as {}", me.id().display());
    let (joiner_tcp, _) = listener.accept().await.expect("B connects");
    let accept = tokio_rustls::TlsAcceptor::from(server_config(&me, Trust::ProvenKey, ALPN_PAIR).expect("config"));
    let mut joiner = match accept.accept(joiner_tcp).await {
        Ok(tls) => tls,
        Err(err) => return println!("KT relay-failed B's handshake: {err}"),
    };
    let inviter_tcp = tokio::net::TcpStream::connect(target).await.expect("M reaches A");
    let connect = tokio_rustls::TlsConnector::from(client_config(&me, Trust::ProvenKey, ALPN_PAIR).expect("config"));
    let mut inviter = match connect.connect(server_name(), inviter_tcp).await {
        Ok(tls) => tls,
        Err(err) => return println!("KT relay-failed A's handshake: {err}"),
    };
    let started = Instant::now();
    let copied = tokio::io::copy_bidirectional(&mut joiner, &mut inviter).await;
    println!("KT relayed {copied:?} in {:?}", started.elapsed());
}

async fn lan_request(me: &kintoun::sharing::DeviceIdentity, target: &str, peer: &str, hold: bool) {
    use kintoun::sharing::tls::{ALPN_DATA, Trust, client_config, server_name};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let peer = kintoun::sharing::DeviceId::parse(peer).expect("peer id");
    let config = client_config(me, Trust::Exactly(peer), ALPN_DATA).expect("config");
    let tcp = match tokio::net::TcpStream::connect(target).await {
        Ok(tcp) => tcp,
        Err(err) => return println!("KT no-tcp {err}"),
    };
    let mut tls = match tokio_rustls::TlsConnector::from(config).connect(server_name(), tcp).await {
        Ok(tls) => tls,
        Err(err) => return println!("KT refused {err}"),
    };
    let request = format!("GET /v1/ HTTP/1.1\r\nHost: {target}\r\n\r\n");
    if tls.write_all(request.as_bytes()).await.is_err() {
        return println!("KT refused write");
    }
    let mut buffer = vec![0u8; 16384];
    match tls.read(&mut buffer).await {
        Ok(n) if n > 0 => {
            let head = String::from_utf8_lossy(&buffer[..n]).to_string();
            let status = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
            if !hold {
                return println!("KT connected {status}");
            }
            println!("KT connected {status}");
        }
        Ok(_) => return println!("KT refused eof"),
        Err(err) => return println!("KT refused {err}"),
    }
    // Keep the connection open until the server closes it.
    loop {
        match tls.read(&mut buffer).await {
            Ok(0) | Err(_) => return println!("KT closed"),
            Ok(_) => {}
        }
    }
}
