//! The messages a test environment sends back to the runner over the report pipe.
//!
//! Each message is a tag byte followed by length-prefixed UTF-8 fields. The body sends one
//! [`Message::Verdict`]; PID 1 (the init) sends [`Message::SetupFailed`] if building the sandbox
//! failed, and [`Message::BodyEnded`] with the body's exit status once it is gone.

use std::io::{self, Read, Write};

/// How the test body judged itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Passed,
    /// Panicked when it should not have.
    Panicked {
        message: String,
        location: String,
    },
    /// Returned `Err(..)`.
    Returned {
        error: String,
    },
    /// `#[should_panic]` but returned normally.
    DidNotPanic,
    /// `#[should_panic(expected = ..)]` but the message did not contain `expected`.
    WrongPanic {
        message: String,
        location: String,
        expected: String,
    },
}

/// How a process ended, as seen by its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Exited(i32),
    Signaled(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Message {
    Verdict(Verdict),
    SetupFailed { step: String, error: String },
    BodyEnded(Ended),
}

impl Message {
    /// Serializes the message into one buffer, so a single `write` sends it whole.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let (tag, fields): (u8, Vec<&str>) = match self {
            Message::Verdict(Verdict::Passed) => (b'P', vec![]),
            Message::Verdict(Verdict::Panicked { message, location }) => {
                (b'K', vec![message, location])
            }
            Message::Verdict(Verdict::Returned { error }) => (b'E', vec![error]),
            Message::Verdict(Verdict::DidNotPanic) => (b'N', vec![]),
            Message::Verdict(Verdict::WrongPanic {
                message,
                location,
                expected,
            }) => (b'W', vec![message, location, expected]),
            Message::SetupFailed { step, error } => (b'S', vec![step, error]),
            Message::BodyEnded(Ended::Exited(code)) => return encode_status(b'X', *code),
            Message::BodyEnded(Ended::Signaled(sig)) => return encode_status(b'G', *sig),
        };
        out.push(tag);
        for field in fields {
            out.extend_from_slice(&(field.len() as u32).to_le_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// Sends the message on `out`.
    pub(crate) fn send(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.encode())
    }

    /// Decodes every message in `bytes`; a truncated or unknown message is an error.
    pub(crate) fn decode_all(mut bytes: &[u8]) -> io::Result<Vec<Message>> {
        let mut messages = Vec::new();
        while !bytes.is_empty() {
            messages.push(Message::decode(&mut bytes)?);
        }
        Ok(messages)
    }

    fn decode(input: &mut &[u8]) -> io::Result<Message> {
        let mut tag = [0u8];
        input.read_exact(&mut tag)?;
        let mut field = || read_field(input);
        Ok(match tag[0] {
            b'P' => Message::Verdict(Verdict::Passed),
            b'K' => Message::Verdict(Verdict::Panicked {
                message: field()?,
                location: field()?,
            }),
            b'E' => Message::Verdict(Verdict::Returned { error: field()? }),
            b'N' => Message::Verdict(Verdict::DidNotPanic),
            b'W' => Message::Verdict(Verdict::WrongPanic {
                message: field()?,
                location: field()?,
                expected: field()?,
            }),
            b'S' => Message::SetupFailed {
                step: field()?,
                error: field()?,
            },
            b'X' => Message::BodyEnded(Ended::Exited(read_i32(input)?)),
            b'G' => Message::BodyEnded(Ended::Signaled(read_i32(input)?)),
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unknown report message tag {other:#04x}"),
                ))
            }
        })
    }
}

fn encode_status(tag: u8, value: i32) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&value.to_le_bytes());
    out
}

fn read_i32(input: &mut &[u8]) -> io::Result<i32> {
    let mut raw = [0u8; 4];
    input.read_exact(&mut raw)?;
    Ok(i32::from_le_bytes(raw))
}

fn read_field(input: &mut &[u8]) -> io::Result<String> {
    let len = read_i32(input)? as u32 as usize;
    if len > input.len() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let (field, rest) = input.split_at(len);
    *input = rest;
    String::from_utf8(field.to_vec()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_round_trips() {
        let messages = vec![
            Message::Verdict(Verdict::Passed),
            Message::Verdict(Verdict::Panicked {
                message: "boom ✓".into(),
                location: "a.rs:1:2".into(),
            }),
            Message::Verdict(Verdict::Returned {
                error: "Error: \"x\"".into(),
            }),
            Message::Verdict(Verdict::DidNotPanic),
            Message::Verdict(Verdict::WrongPanic {
                message: "a".into(),
                location: "b".into(),
                expected: "".into(),
            }),
            Message::SetupFailed {
                step: "pivot".into(),
                error: "EINVAL".into(),
            },
            Message::BodyEnded(Ended::Exited(-3)),
            Message::BodyEnded(Ended::Signaled(6)),
        ];
        let bytes: Vec<u8> = messages.iter().flat_map(Message::encode).collect();
        assert_eq!(Message::decode_all(&bytes).unwrap(), messages);
    }

    #[test]
    fn truncated_input_is_an_error() {
        let bytes = Message::SetupFailed {
            step: "s".into(),
            error: "e".into(),
        }
        .encode();
        assert!(Message::decode_all(&bytes[..bytes.len() - 1]).is_err());
        assert!(Message::decode_all(b"?").is_err());
    }
}
