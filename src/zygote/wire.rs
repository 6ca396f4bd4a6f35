//! What the runner and a zygote say to each other: one `SOCK_SEQPACKET` message each way per
//! test, the descriptors attached.

use std::ffi::CString;

/// Start one test environment.
#[derive(Debug, PartialEq)]
pub(super) struct Request {
    /// `CLONE_NEW*` flags.
    pub namespaces: i32,
    /// Rootless: the uid and gid maps the new process writes for itself.
    pub user: Option<(CString, CString)>,
    /// Where the first `targets.len()` attached descriptors go in the new process; the ones
    /// after them are open `cgroup.procs` files it joins.
    pub targets: Vec<i32>,
    /// The new process's whole environment.
    pub envp: Vec<CString>,
    /// The test needs a user and network namespace pair: the zygote hands over the one it
    /// made ahead (see `sys/namespace_pair.rs`).
    pub pair: bool,
}

/// The answer: the new process's pid (its pidfd attached), or why there is none.
#[derive(Debug, PartialEq)]
pub(super) enum Reply {
    Started { pid: i32 },
    Failed { op: String, errno: i32 },
}

impl Request {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_u32(&mut out, self.namespaces as u32);
        let (uid, gid) = match &self.user {
            Some((uid, gid)) => (uid.as_bytes(), gid.as_bytes()),
            None => (&[][..], &[][..]),
        };
        put_bytes(&mut out, uid);
        put_bytes(&mut out, gid);
        put_u32(&mut out, self.targets.len() as u32);
        for &target in &self.targets {
            put_u32(&mut out, target as u32);
        }
        put_u32(&mut out, self.envp.len() as u32);
        for var in &self.envp {
            put_bytes(&mut out, var.as_bytes());
        }
        put_u32(&mut out, self.pair as u32);
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Request, String> {
        let mut input = Reader(bytes);
        let namespaces = input.u32()? as i32;
        let uid = input.cstring()?;
        let gid = input.cstring()?;
        let user = (!uid.is_empty()).then_some((uid, gid));
        let targets = (0..input.u32()?)
            .map(|_| input.u32().map(|t| t as i32))
            .collect::<Result<_, _>>()?;
        let envp = (0..input.u32()?)
            .map(|_| input.cstring())
            .collect::<Result<_, _>>()?;
        let pair = input.u32()? != 0;
        input.end()?;
        Ok(Request {
            namespaces,
            user,
            targets,
            envp,
            pair,
        })
    }
}

impl Reply {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Reply::Started { pid } => {
                out.push(b'P');
                put_u32(&mut out, *pid as u32);
            }
            Reply::Failed { op, errno } => {
                out.push(b'E');
                put_u32(&mut out, *errno as u32);
                put_bytes(&mut out, op.as_bytes());
            }
        }
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Reply, String> {
        let (&tag, rest) = bytes.split_first().ok_or("an empty reply")?;
        let mut input = Reader(rest);
        let reply = match tag {
            b'P' => Reply::Started {
                pid: input.u32()? as i32,
            },
            b'E' => Reply::Failed {
                errno: input.u32()? as i32,
                op: String::from_utf8_lossy(input.bytes()?).into_owned(),
            },
            other => return Err(format!("a reply tagged {other:#04x}")),
        };
        input.end()?;
        Ok(reply)
    }
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, bytes.len() as u32);
    out.extend_from_slice(bytes);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "a message cut short ({} bytes left, {n} needed)",
                self.0.len()
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("four bytes")))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn cstring(&mut self) -> Result<CString, String> {
        CString::new(self.bytes()?).map_err(|_| "a NUL inside a string".to_string())
    }

    fn end(&self) -> Result<(), String> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(format!("{n} bytes after the message's end")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_come_back_as_sent() {
        let request = Request {
            namespaces: libc::CLONE_NEWNS | libc::CLONE_NEWPID,
            user: Some((c"0 1000 1\n".into(), c"0 100 1\n".into())),
            targets: vec![0, 3, 4],
            envp: vec![c"PATH=/bin".into(), c"EMPTY=".into()],
            pair: true,
        };
        assert_eq!(Request::decode(&request.encode()), Ok(request));
        let plain = Request {
            namespaces: 0,
            user: None,
            targets: vec![],
            envp: vec![],
            pair: false,
        };
        assert_eq!(Request::decode(&plain.encode()), Ok(plain));
        for reply in [
            Reply::Started { pid: 4242 },
            Reply::Failed {
                op: "clone3".into(),
                errno: libc::EPERM,
            },
        ] {
            assert_eq!(Reply::decode(&reply.encode()), Ok(reply));
        }
    }

    #[test]
    fn a_cut_or_padded_message_is_an_error() {
        let bytes = Reply::Started { pid: 7 }.encode();
        assert!(Reply::decode(&bytes[..3])
            .unwrap_err()
            .contains("cut short"));
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(Reply::decode(&padded)
            .unwrap_err()
            .contains("after the message's end"));
        assert!(Reply::decode(b"X").unwrap_err().contains("tagged"));
    }
}
