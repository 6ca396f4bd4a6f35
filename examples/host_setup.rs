//! A suite with host-side set-up and teardown: the set-up starts a TCP service on the host,
//! which a `net = "veth"` test reaches, and is stopped after the last test. tests/host_setup.rs
//! runs it. `ISOLATED_SETUP_LOG` names a file each step appends a line to.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use isolated::isolated;

/// Where the service listens, on the host.
const PORT: u16 = 47_311;

/// The running service; dropped after the last test, which stops it.
struct Service {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        // Wake the accept loop, then wait for it.
        let _ = TcpStream::connect(("127.0.0.1", PORT));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        log("service stopped");
    }
}

fn start_service() -> Service {
    log(&format!("set-up in process {}", std::process::id()));
    let listener = TcpListener::bind(("0.0.0.0", PORT)).expect("the service's port");
    let (stop, stopped) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopped.try_recv().is_ok() {
                return;
            }
            if let Ok(mut stream) = stream {
                let _ = stream.write_all(b"hello from the host");
            }
        }
    });
    Service {
        stop,
        thread: Some(thread),
    }
}

fn teardown() {
    log("teardown");
}

fn log(line: &str) {
    if let Some(path) = std::env::var_os("ISOLATED_SETUP_LOG") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "{line}").unwrap();
    }
}

#[isolated(net = "veth")]
fn reaches_the_host_service() {
    let host = isolated::net::host_addr().unwrap();
    let mut reply = String::new();
    TcpStream::connect((host, PORT))
        .unwrap()
        .read_to_string(&mut reply)
        .unwrap();
    assert_eq!(reply, "hello from the host");
}

#[isolated]
fn does_not_see_it_on_its_own_loopback() {
    assert!(TcpStream::connect(("127.0.0.1", PORT)).is_err());
}

isolated::main!(setup = start_service, teardown = teardown);
