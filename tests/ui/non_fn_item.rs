use isolated::isolated;

#[isolated]
struct NotATest;

isolated::main!();
