//! Each outcome twice, an `async fn` and a plain `fn` of the same name under `sync_`: the
//! runner must tell them alike. Fails on purpose; tests/async_tests.rs runs it.

use std::time::Duration;

use isolated::isolated;

#[isolated]
async fn passes() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[isolated]
fn sync_passes() {}

/// A server and a client over the test's own loopback, on the current-thread runtime.
#[isolated(rootfs = "alpine")]
async fn serves_on_its_own_loopback() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:80").await.unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(b"hello").await.unwrap();
    });
    let mut client = tokio::net::TcpStream::connect("127.0.0.1:80").await.unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).await.unwrap();
    server.await.unwrap();
    assert_eq!(reply, "hello");
}

#[isolated(runtime = "tokio-multi")]
async fn runs_on_worker_threads() {
    let worker = tokio::spawn(async { std::thread::current().id() }).await.unwrap();
    assert_eq!(tokio::runtime::Handle::current().runtime_flavor(), tokio::runtime::RuntimeFlavor::MultiThread);
    let _ = worker;
}

/// Any runtime's `block_on`: here a small one of the suite's own.
#[isolated(runtime = block_on::run)]
async fn runs_on_a_runtime_of_its_own() -> Result<(), String> {
    std::future::ready(Ok(())).await
}

#[isolated]
async fn panics() {
    tokio::task::yield_now().await;
    panic!("boom {}", 42);
}

#[isolated]
fn sync_panics() {
    panic!("boom {}", 42);
}

#[isolated]
async fn returns_err() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("the config was wrong"))
}

#[isolated]
fn sync_returns_err() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("the config was wrong"))
}

#[isolated]
#[should_panic(expected = "boom")]
async fn should_panic_passes() {
    panic!("a boom happened");
}

#[isolated]
#[should_panic(expected = "boom")]
fn sync_should_panic_passes() {
    panic!("a boom happened");
}

#[isolated(timeout = "500ms")]
async fn times_out() {
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[isolated(timeout = "500ms")]
fn sync_times_out() {
    std::thread::sleep(Duration::from_secs(3600));
}

#[isolated(memory = "64M")]
async fn hits_the_memory_limit() {
    tokio::task::yield_now().await;
    hog();
}

#[isolated(memory = "64M")]
fn sync_hits_the_memory_limit() {
    hog();
}

#[isolated(pids = 16)]
async fn hits_the_pids_limit() {
    tokio::task::yield_now().await;
    fork_until_refused();
}

#[isolated(pids = 16)]
fn sync_hits_the_pids_limit() {
    fork_until_refused();
}

/// Touches memory until the limit stops it.
fn hog() {
    let mut blocks = Vec::new();
    loop {
        blocks.push(vec![1u8; 1 << 20]);
    }
}

/// Starts processes until one is refused, which fails the test.
fn fork_until_refused() {
    let mut children = Vec::new();
    loop {
        children.push(
            std::process::Command::new("sleep")
                .arg("60")
                .spawn()
                .expect("fork refused"),
        );
    }
}

mod block_on {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::Thread;

    struct Unpark(Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Polls `future` on this thread until it is ready, parking in between.
    pub fn run<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut context = Context::from_waker(&waker);
        loop {
            match future.as_mut().poll(&mut context) {
                Poll::Ready(output) => return output,
                Poll::Pending => std::thread::park(),
            }
        }
    }
}

isolated::main!();
