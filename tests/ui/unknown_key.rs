use isolated::isolated;

#[isolated(rootfs = "alpine", foo = "bar")]
fn t() {}

isolated::main!();
