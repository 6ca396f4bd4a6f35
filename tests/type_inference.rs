//! Adding `isolated` changes nothing of how a user's code type-checks: no dependency of ours
//! brings impls such as `serde_json`'s `impl PartialEq<Value> for u8`, which made both of these
//! lines (from nix's own tests) ambiguous in every crate that used `isolated`.

use isolated::isolated;

#[isolated]
fn a_sum_compared_with_a_u8_infers_u8() {
    let buf = [1u8, 2, 3, 14];
    assert_eq!(20u8, buf.iter().sum());
}

#[isolated]
fn a_cast_to_an_inferred_type_infers_the_other_side() {
    let reg: u32 = 0xdeadbeef;
    assert_eq!(reg, 0xdeadbeefu32 as _);
}

isolated::main!();
