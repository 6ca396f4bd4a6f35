use isolated::isolated;

#[isolated]
const fn a() {}

#[isolated]
unsafe fn b() {}

#[isolated]
extern "C" fn c() {}

isolated::main!();
