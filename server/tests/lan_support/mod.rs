//! The harness of the namespace tests (devices_lan.rs, sync_lan.rs): a small LAN of network
//! namespaces on a bridge that lives in its own namespace (nothing runs in the root one, mDNS
//! included), Kintoun instances started in them through the `kintoun` binary, and interactive
//! CLI commands answered like a user would.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "owner-secret-pw";

/// Whether this process may create network namespaces (root), else why not.
pub fn can_create_namespaces() -> Result<(), String> {
    if Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0")) {
        Ok(())
    } else {
        Err("network namespaces need root".into())
    }
}

pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

/// The namespaces; deleted on drop.
pub struct Lan {
    prefix: String,
    nodes: Vec<&'static str>,
}

impl Lan {
    pub fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A namespace per node, each with `eth0` at 10.231.0.<index + 1>/24 on the bridge.
    pub fn create(nodes: &[&'static str]) -> Result<Lan, String> {
        let lan = Lan { prefix: format!("kt{}", std::process::id()), nodes: nodes.to_vec() };
        let bridge = lan.ns("br");
        ip(&["netns", "add", &bridge])?;
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"])?;
        ip(&["-n", &bridge, "link", "set", "br0", "up"])?;
        for (index, node) in nodes.iter().enumerate() {
            let ns = lan.ns(node);
            ip(&["netns", "add", &ns])?;
            let peer = format!("v{node}");
            ip(&["-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", &peer, "netns", &bridge])?;
            ip(&["-n", &bridge, "link", "set", &peer, "master", "br0", "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("10.231.0.{}/24", index + 1), "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(lan)
    }
}

impl Lan {
    /// Plugs a node's cable in or out (its `eth0` up or down).
    pub fn link(&self, node: &Node, up: bool) -> Result<(), String> {
        ip(&["-n", &node.ns, "link", "set", "eth0", if up { "up" } else { "down" }])
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for node in self.nodes.iter().chain(std::iter::once(&"br")) {
            let _ = ip(&["netns", "del", &self.ns(node)]);
        }
    }
}

pub fn kintoun() -> &'static str {
    env!("CARGO_BIN_EXE_kintoun")
}

/// One Kintoun instance in a namespace.
pub struct Node {
    pub ns: String,
    pub dir: tempfile::TempDir,
    pub child: Child,
    pub id: String,
    pub name: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kintoun serve` in `ns` on `data` with LAN sharing on `eth0` (log appended to
/// `<data>/server.log`).
fn serve(ns: &str, data: &Path, name: &str, env: &[(&str, &str)]) -> Result<Child, String> {
    let log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(data.join("server.log"))
        .map_err(|e| e.to_string())?;
    in_ns(ns, kintoun())
        .args(["serve", "--data-dir", data.to_str().unwrap_or_default()])
        .env("KINTOUN_LAN_SHARING", "1")
        .env("KINTOUN_DEVICE_NAME", name)
        .env("KINTOUN_LAN_INTERFACES", "eth0")
        .env("KINTOUN_LOG", "info,kintoun=debug")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| e.to_string())
}

pub fn in_ns(ns: &str, program: &str) -> Command {
    let mut command = Command::new("ip");
    command.args(["netns", "exec", ns, program]);
    // Servers, CLI and helpers share each data dir's secrets through the 0600 files.
    command.env("KINTOUN_SECRETS_BACKEND", "file");
    command
}

impl Node {
    pub fn start(ns: String, name: &str) -> Result<Node, String> {
        Node::start_with(ns, name, &[])
    }

    /// Starts with extra environment variables (settings).
    pub fn start_with(ns: String, name: &str, env: &[(&str, &str)]) -> Result<Node, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().to_str().unwrap_or_default().to_owned();
        let mut add = in_ns(&ns, kintoun())
            .args(["account", "add", "admin", "--data-dir", &data])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        if let Some(stdin) = add.stdin.as_mut() {
            writeln!(stdin, "{PASSWORD}").map_err(|e| e.to_string())?;
        }
        add.wait().map_err(|e| e.to_string())?;
        let child = serve(&ns, dir.path(), name, env)?;
        let mut node = Node { ns, dir, child, id: String::new(), name: name.to_owned() };
        let devices = node.ready()?;
        node.id = devices.split_whitespace().nth(1).unwrap_or_default().to_owned();
        Ok(node)
    }

    /// Waits until the server answers `kintoun devices`; its output.
    fn ready(&self) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self.cli(&["devices"]);
            if out.status.success() {
                return Ok(String::from_utf8_lossy(&out.stdout).to_string());
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not start: {}", self.name, String::from_utf8_lossy(&out.stderr)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the server again on the same data dir (after its process was killed).
    pub fn restart(mut self, env: &[(&str, &str)]) -> Result<Node, String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = serve(&self.ns, self.dir.path(), &self.name, env)?;
        self.ready()?;
        Ok(self)
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = in_ns(&self.ns, kintoun());
        command.args(args).args(["--data-dir", self.data().to_str().unwrap_or_default()]);
        command
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap_or_else(|e| panic!("cannot run kintoun: {e}"))
    }

    pub fn devices(&self) -> String {
        String::from_utf8_lossy(&self.cli(&["devices"]).stdout).to_string()
    }

    /// Starts an interactive `kintoun` command (stdin and stdout piped).
    pub fn interactive(&self, args: &[&str]) -> Prompted {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("kintoun command");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        Prompted { child, out, seen: String::new() }
    }

    /// Starts `kintoun pair` (showing a code, `--yes` or asking); returns it, the code and the
    /// pairing port.
    pub fn invite(&self, yes: bool) -> (Prompted, String, u16) {
        let mut inviter = self.interactive(if yes { &["pair", "--yes"] } else { &["pair"] });
        let line = inviter.line();
        let code = line.split_whitespace().nth(2).unwrap_or_default().to_owned();
        assert_eq!(code.len(), 9, "{line}");
        let port = line.split("pairing port ").nth(1).and_then(|rest| rest.split(';').next());
        let port = port.and_then(|port| port.trim().parse().ok()).unwrap_or_else(|| panic!("no port in {line}"));
        (inviter, code, port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data().join("server.log")).unwrap_or_default()
    }
}

/// A running CLI command that may ask questions.
pub struct Prompted {
    pub child: Child,
    pub out: BufReader<std::process::ChildStdout>,
    pub seen: String,
}

impl Prompted {
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).expect("a line");
        self.seen.push_str(&line);
        line
    }

    /// Reads up to the `[y/N]` question; returns what was printed since the last read.
    pub fn until_prompt(&mut self) -> String {
        let mut text = Vec::new();
        self.out.read_until(b']', &mut text).expect("a prompt");
        let text = String::from_utf8_lossy(&text).to_string();
        self.seen.push_str(&text);
        assert!(text.ends_with("[y/N]"), "no confirmation prompt: {}", self.seen);
        text
    }

    pub fn answer(&mut self, answer: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{answer}").expect("answer");
    }

    /// Waits for the end; returns success and everything it printed.
    pub fn finish(mut self) -> (bool, String) {
        let mut rest = String::new();
        while self.out.read_line(&mut rest).unwrap_or(0) > 0 {}
        self.seen.push_str(&rest);
        let ok = self.child.wait().expect("command exits").success();
        (ok, std::mem::take(&mut self.seen))
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

pub fn sas_of(text: &str) -> String {
    text.split("Check string: ").nth(1).map(|rest| rest.chars().take(7).collect()).unwrap_or_default()
}
