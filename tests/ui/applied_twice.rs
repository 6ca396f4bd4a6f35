use isolated::isolated;

#[isolated]
#[isolated(rootfs = "alpine")]
fn t() {}

isolated::main!();
