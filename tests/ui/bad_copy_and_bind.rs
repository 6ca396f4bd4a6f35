use isolated::isolated;

#[isolated(copy = ["no-target"], bind = ["/etc:relative", ":/x"], bins = ["a/b"])]
fn t() {}

isolated::main!();
