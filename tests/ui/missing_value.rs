use isolated::isolated;

#[isolated(rootfs)]
fn t() {}

isolated::main!();
