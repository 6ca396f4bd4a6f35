use isolated::isolated;

// Every problem is reported at once, and `t` still exists for the rest of the code.
#[isolated(rootfs = "a/b", rootfs = "c", timeout = "1 hour", colour = "red")]
#[ignore = 1]
async fn t(x: u8) -> u8 {
    x
}

fn uses_t() {
    let _ = t(1);
}

isolated::main!();
