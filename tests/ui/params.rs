use isolated::isolated;

#[isolated]
fn t(path: &str, retries: u32) {
    let _ = (path, retries);
}

isolated::main!();
