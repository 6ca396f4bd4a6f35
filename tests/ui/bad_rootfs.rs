use isolated::isolated;

#[isolated(rootfs = "../etc")]
fn a() {}

#[isolated(rootfs = "")]
fn b() {}

isolated::main!();
