use isolated::isolated;

#[isolated(rootfs = "alpine", rootfs = "debian")]
fn t() {}

isolated::main!();
