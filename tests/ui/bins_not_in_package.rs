use isolated::isolated;

#[isolated(rootfs = "alpine", bins = ["no-such-binary"])]
fn t() {}

isolated::main!();
