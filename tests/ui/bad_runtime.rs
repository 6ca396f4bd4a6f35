use isolated::isolated;

#[isolated(runtime = "tokio")]
fn not_async() {}

#[isolated(runtime = "async-std")]
async fn unknown_runtime() {}

#[isolated(runtime = 3)]
async fn not_a_runtime() {}

#[isolated(runtime = "tokio-multi")]
async fn without_the_feature() {}

#[isolated(keep = "yes")]
fn keep_is_a_flag() {}

isolated::main!();
