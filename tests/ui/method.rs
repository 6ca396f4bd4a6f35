use isolated::isolated;

struct Server;

impl Server {
    #[isolated]
    fn starts(&self) {}
}

isolated::main!();
