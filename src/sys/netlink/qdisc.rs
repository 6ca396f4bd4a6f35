//! Root queueing disciplines: netem's delay, jitter and loss on a link's egress.

use std::time::Duration;

use netlink_packet_core::{DefaultNla, Emitable, NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage};
use netlink_packet_route::RouteNetlinkMessage;

use super::Netlink;
use crate::sys::error::{Errno, SysError, SysResult};

/// The error's `op` when the kernel lacks netem, which it reports as ENOENT ("unknown qdisc").
pub(crate) const NO_NETEM: &str = "netlink RTM_NEWQDISC (netem): the kernel has no netem qdisc \
                                   (module sch_netem): delay and loss need it";

const NETEM_OP: &str = "netlink RTM_NEWQDISC (netem)";

/// `TCA_OPTIONS`: netem's is a bare `struct tc_netem_qopt` followed by attributes, not the
/// attribute list `netlink-packet-route` models, so it is built here.
const TCA_OPTIONS: u16 = 2;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;
/// Packets netem may hold back at once: tc's default.
const NETEM_LIMIT: u32 = 1000;

impl Netlink {
    /// Delay (± jitter) and random loss on the egress of the interface `name`, as a netem root
    /// qdisc replacing whatever root qdisc it had.
    pub(crate) fn set_netem(
        &mut self,
        name: &str,
        delay: Duration,
        jitter: Duration,
        loss_percent: f32,
    ) -> SysResult<()> {
        if !(0.0..=100.0).contains(&loss_percent) {
            return Err(SysError::at(NETEM_OP, name, Errno::EINVAL));
        }
        let options = netem_options(delay, jitter, loss_percent);
        match self.replace_root_qdisc(NETEM_OP, name, "netem", Some(options)) {
            Err(e) if e.errno == Errno::ENOENT => Err(SysError::new(NO_NETEM, Errno::ENOENT)),
            result => result,
        }
    }

    /// Removes the root qdisc of the interface `name`, back to the kernel's default; a link that
    /// has only the default already is left as it is.
    pub(crate) fn clear_qdisc(&mut self, name: &str) -> SysResult<()> {
        const OP: &str = "netlink RTM_DELQDISC (root)";
        let mut message = TcMessage::with_index(self.tc_index(OP, name)?);
        message.header.parent = TcHandle::ROOT;
        let delete = RouteNetlinkMessage::DelQueueDiscipline(message);
        match self.request(OP, name, delete, 0) {
            // The kernel's "cannot delete qdisc with handle of zero": the default is in place.
            Err(e) if e.errno == Errno::ENOENT => Ok(()),
            result => result.map(drop),
        }
    }

    /// Replaces the root qdisc of `name` with one of `kind`, with raw `TCA_OPTIONS`.
    pub(super) fn replace_root_qdisc(
        &mut self,
        op: &'static str,
        name: &str,
        kind: &str,
        options: Option<Vec<u8>>,
    ) -> SysResult<()> {
        let mut message = TcMessage::with_index(self.tc_index(op, name)?);
        message.header.parent = TcHandle::ROOT;
        message.attributes.push(TcAttribute::Kind(kind.to_owned()));
        if let Some(options) = options {
            let raw = DefaultNla::new(TCA_OPTIONS, options);
            message.attributes.push(TcAttribute::Other(raw));
        }
        let replace = RouteNetlinkMessage::NewQueueDiscipline(message);
        self.request(op, name, replace, NLM_F_CREATE | NLM_F_REPLACE)?;
        Ok(())
    }

    /// The kinds of the qdiscs attached to `name`, the root one first.
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn qdisc_kinds(&mut self, name: &str) -> SysResult<Vec<String>> {
        let index = self.tc_index("netlink RTM_GETQDISC", name)?;
        let get = RouteNetlinkMessage::GetQueueDiscipline(TcMessage::default());
        let replies = self.dump("netlink RTM_GETQDISC (dump)", get)?;
        let mut on_link: Vec<TcMessage> = replies
            .into_iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewQueueDiscipline(tc) if tc.header.index == index => Some(tc),
                _ => None,
            })
            .collect();
        on_link.sort_by_key(|tc| tc.header.parent != TcHandle::ROOT);
        Ok(on_link.iter().filter_map(qdisc_kind).collect())
    }

    /// tc messages carry the interface index as a signed int.
    fn tc_index(&mut self, op: &'static str, name: &str) -> SysResult<i32> {
        let index = self.index_of(op, name)?;
        i32::try_from(index).map_err(|_| SysError::at(op, name, Errno::ERANGE))
    }
}

#[cfg(test)] // read-backs and operations only the tests use so far
fn qdisc_kind(message: &TcMessage) -> Option<String> {
    message.attributes.iter().find_map(|a| match a {
        TcAttribute::Kind(kind) => Some(kind.clone()),
        _ => None,
    })
}

/// `struct tc_netem_qopt` then the 64-bit latency and jitter in nanoseconds, which the kernel
/// prefers to the struct's 32-bit fields in scheduler ticks (64 ns each).
fn netem_options(delay: Duration, jitter: Duration, loss_percent: f32) -> Vec<u8> {
    let ticks = |d: Duration| u32::try_from(d.as_nanos() >> 6).unwrap_or(u32::MAX);
    let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    // Loss is a probability scaled to the whole u32 range; `as` saturates, as wanted.
    let loss = (f64::from(loss_percent) / 100.0 * f64::from(u32::MAX)).round() as u32;
    let (gap, duplicate) = (0u32, 0u32);
    let qopt = [
        ticks(delay),
        NETEM_LIMIT,
        loss,
        gap,
        duplicate,
        ticks(jitter),
    ];
    let mut options: Vec<u8> = qopt.iter().flat_map(|field| field.to_ne_bytes()).collect();

    let extra = [
        DefaultNla::new(TCA_NETEM_LATENCY64, nanos(delay).to_ne_bytes().to_vec()),
        DefaultNla::new(TCA_NETEM_JITTER64, nanos(jitter).to_ne_bytes().to_vec()),
    ];
    let start = options.len();
    options.resize(start + extra.as_slice().buffer_len(), 0);
    extra.as_slice().emit(&mut options[start..]);
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netem_options_are_the_qopt_struct_then_64_bit_times() {
        let options = netem_options(Duration::from_millis(100), Duration::from_millis(10), 50.0);
        let u32_at = |i: usize| u32::from_ne_bytes(options[i..i + 4].try_into().unwrap());
        let u16_at = |i: usize| u16::from_ne_bytes(options[i..i + 2].try_into().unwrap());
        let i64_at = |i: usize| i64::from_ne_bytes(options[i..i + 8].try_into().unwrap());
        assert_eq!(options.len(), 24 + 12 + 12);
        assert_eq!(u32_at(0), 100_000_000 / 64, "latency in ticks");
        assert_eq!(u32_at(4), 1000, "limit");
        assert_eq!(u32_at(8), u32::MAX / 2 + 1, "loss");
        assert_eq!((u32_at(12), u32_at(16)), (0, 0), "gap, duplicate");
        assert_eq!(u32_at(20), 10_000_000 / 64, "jitter in ticks");
        assert_eq!((u16_at(24), u16_at(26), i64_at(28)), (12, 10, 100_000_000));
        assert_eq!((u16_at(36), u16_at(38), i64_at(40)), (12, 11, 10_000_000));
    }

    #[test]
    fn netem_loss_spans_the_u32_range() {
        let loss = |percent| {
            let options = netem_options(Duration::ZERO, Duration::ZERO, percent);
            u32::from_ne_bytes(options[8..12].try_into().unwrap())
        };
        assert_eq!((loss(0.0), loss(100.0)), (0, u32::MAX));
    }
}
