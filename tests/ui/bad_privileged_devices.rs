use isolated::isolated;

#[isolated(privileged = "yes", devices = ["/dev/net/tun", "/dev/../sda", "tun"])]
fn t() {}

isolated::main!();
