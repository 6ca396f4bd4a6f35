use isolated::isolated;

#[isolated]
#[should_panic(message = "boom")]
fn a() {}

#[isolated]
#[should_panic = 3]
fn b() {}

isolated::main!();
