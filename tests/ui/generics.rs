use isolated::isolated;

#[isolated]
fn t<T: Default>() {
    let _ = T::default();
}

isolated::main!();
