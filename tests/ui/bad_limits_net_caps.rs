use isolated::isolated;

#[isolated(memory = "1.5G", pids = 0, cpu = "half", caps = ["SYS_TIME", "+NOPE"], net = "bridge")]
fn t() {}

isolated::main!();
