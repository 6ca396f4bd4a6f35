use isolated::isolated;

#[isolated(timeout = 10, rootfs = alpine, env = "K=V")]
fn t() {}

isolated::main!();
