//! This run's kept environments (see `kept/`): keeping one once its verdict is known, and
//! ending them when the run ends (after Enter, on a terminal), or leaving them for
//! `ISOLATED_KEEP_FOR`.

use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use super::collect::Paused;
use super::context::RunContext;
use super::limits::Confinement;
use super::veth::Lease;
use crate::child::keeper::{END, KEEP};
use crate::harness::Outcome;
use crate::kept::{self, Record, Records};
use crate::registry::TestDef;
use crate::sys::{self, Child};

/// A test's environment whose body has ended, with what it takes to keep it.
pub(super) struct Environment {
    pub paused: Paused,
    /// The runner's end of the control socket to PID 1.
    pub control: OwnedFd,
    pub confinement: Confinement,
    pub lease: Option<Lease>,
}

/// One kept environment of this run.
struct Kept {
    record: Record,
    child: Child,
    /// Closed, it tells PID 1 the run is over.
    control: OwnedFd,
    confinement: Confinement,
}

static KEPT: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

/// Tells PID 1 to go: the environment is not kept.
pub(super) fn let_go(control: &OwnedFd) {
    let _ = sys::send_with_fds(control.as_fd(), END, &[]);
}

/// Keeps `environment`: `outcome` ends with what it held and the command that enters it. If
/// keeping it fails, it ends as any other, and the outcome says why it was not kept.
pub(super) fn keep(
    context: &RunContext,
    test: &TestDef,
    environment: Environment,
    outcome: Outcome,
) -> Outcome {
    let Environment {
        paused,
        control,
        confinement,
        lease,
    } = environment;
    let records = Records::here();
    let cgroups = confinement.dirs();
    let started = hand_over(&records, test, &paused, &control, lease.as_ref(), cgroups);
    let (record, held) = match started {
        Ok(kept) => kept,
        Err(e) => {
            let_go(&control);
            // It ends as any other; its verdict was taken already.
            let _ = paused.finish();
            confinement.end(&context.cgroups, !test.privileged);
            return with_note(
                outcome,
                &format!("note: the environment could not be kept: {e}"),
            );
        }
    };
    // The output pipe goes with `paused`: PID 1 holds it now.
    let child = paused.into_child();
    let command = enter_command(&record);
    let until = match record.until {
        Some(_) => format!(
            "for {}",
            std::env::var(kept::KEEP_FOR_VAR).unwrap_or_default()
        ),
        None => "until the run ends (ISOLATED_KEEP_FOR=10m keeps it longer)".to_string(),
    };
    let note = format!(
        "kept: the test's environment stays, running, {until}; it held:\n{held}\n\
         enter it with: {command}"
    );
    lock().push(Kept {
        record,
        child,
        control,
        confinement,
    });
    match context.adhoc {
        // `isolated run` says nothing of its environment: the command runs in it.
        Some(_) => outcome,
        None => with_note(outcome, &note),
    }
}

/// Tells PID 1 to stay, with the output pipe and its log, and writes the record; the record
/// and PID 1's description of the environment.
fn hand_over(
    records: &Records,
    test: &TestDef,
    paused: &Paused,
    control: &OwnedFd,
    lease: Option<&Lease>,
    cgroups: Vec<PathBuf>,
) -> Result<(Record, String), String> {
    let child = paused.child();
    let pid = child.pid();
    let keep_for = kept::keep_for()?;
    let record = Record {
        pid,
        start: kept::start_time(pid).ok_or("its PID 1 is gone")?,
        test: test.full_name(),
        binary: std::env::current_exe().unwrap_or_default(),
        runner: std::process::id() as i32,
        until: keep_for.map(|d| kept::now() + d.as_secs().max(1)),
        cwd: PathBuf::from("/"),
        privileged: test.privileged,
        cgroups,
        environ: Vec::new(),
    };
    let dir = records
        .write(&record, "")
        .map_err(|e| format!("write {}: {e}", records.root().display()))?;
    let mut fds: Vec<RawFd> = Vec::new();
    // What the environment prints from now on goes to its log, by way of PID 1.
    let log = match paused.output_pipe() {
        Some(pipe) => {
            let mut log = std::fs::File::create(record.output(records.root()))
                .map_err(|e| format!("create {}: {e}", dir.display()))?;
            let _ = log.write_all(&paused.so_far().output);
            fds.push(pipe.as_raw_fd());
            Some(log)
        }
        None => None,
    };
    if let Some(log) = &log {
        fds.push(log.as_raw_fd());
    }
    fds.extend(lease.map(|l| l.socket().as_raw_fd()));
    let seconds = keep_for.map_or(0, |d| d.as_secs().max(1));
    let word = [
        KEEP,
        format!("{seconds}:{}", 2 * usize::from(log.is_some())).as_bytes(),
    ]
    .concat();
    sys::send_with_fds(control.as_fd(), &word, &fds).map_err(|e| e.to_string())?;
    let answer = answer(control)?;
    let (cwd, environ, held) = parse_answer(&answer).ok_or("PID 1's answer was garbled")?;
    let record = Record {
        cwd,
        environ,
        ..record
    };
    records
        .write(&record, &held)
        .map_err(|e| format!("write {}: {e}", dir.display()))?;
    Ok((record, held))
}

/// PID 1's answer to `keep`, within a few seconds.
fn answer(control: &OwnedFd) -> Result<Vec<u8>, String> {
    let ready = sys::poll_readable(&[control.as_fd()], Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    if !ready[0] {
        return Err("its PID 1 did not answer".to_string());
    }
    let mut buf = vec![0u8; 256 * 1024];
    match sys::recv_with_fds(control.as_fd(), &mut buf) {
        Ok(Some((len, _))) => Ok(buf[..len].to_vec()),
        Ok(None) => Err("its PID 1 is gone".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// `CWD \0 VAR=value \0 ... \0\0 DESCRIPTION`.
fn parse_answer(answer: &[u8]) -> Option<(PathBuf, Vec<String>, String)> {
    let split = answer.windows(2).position(|w| w == b"\0\0")?;
    let (head, description) = (&answer[..split], &answer[split + 2..]);
    let mut fields = head
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let cwd = PathBuf::from(fields.next()?);
    Some((
        cwd,
        fields.filter(|v| !v.is_empty()).collect(),
        String::from_utf8_lossy(description).into_owned(),
    ))
}

/// The command that enters `record`'s environment: `isolated enter ID` if the command is
/// installed, else the test binary's own `--isolated enter ID`; under sudo, with sudo.
fn enter_command(record: &Record) -> String {
    let installed = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("isolated").is_file()));
    let program = match installed {
        true => "isolated enter".to_string(),
        false => format!("{} --isolated enter", record.binary.display()),
    };
    let sudo = match (sys::geteuid_is_root(), std::env::var_os("SUDO_USER")) {
        (true, Some(_)) => "sudo ",
        _ => "",
    };
    format!("{sudo}{program} {}", record.id())
}

fn with_note(outcome: Outcome, note: &str) -> Outcome {
    match outcome {
        Outcome::Failed { output, reason } => {
            let reason = match reason.is_empty() {
                true => note.to_string(),
                false => format!("{reason}\n{note}"),
            };
            Outcome::Failed { output, reason }
        }
        Outcome::Passed { output } => {
            eprintln!("isolated: {note}");
            Outcome::Passed { output }
        }
    }
}

/// `isolated run`'s environment, kept: its record. It ends with [`end_all`].
pub(super) fn take_only() -> Option<Record> {
    lock().first().map(|kept| kept.record.clone())
}

/// At the end of the run: the kept environments end, after Enter when the run has a
/// terminal; with `ISOLATED_KEEP_FOR`, they are left to end by themselves.
pub(super) fn end_of_run(cgroups: &Result<sys::cgroup::Cgroups, String>) {
    let kept = std::mem::take(&mut *lock());
    if kept.is_empty() {
        return;
    }
    if let Ok(Some(keep_for)) = kept::keep_for() {
        eprintln!(
            "isolated: {} kept environment(s) stay for {} after the run: `isolated list` \
             shows them, `isolated clean` ends them",
            kept.len(),
            super::verdict::format_duration(keep_for)
        );
        for kept in kept {
            // PID 1 leaves at its deadline; the next run, or `isolated clean`, removes the
            // rest.
            kept.child.release();
            kept.confinement.leave();
        }
        return;
    }
    let names: Vec<String> = kept
        .iter()
        .map(|k| format!("{} ({})", k.record.test, enter_command(&k.record)))
        .collect();
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        eprint!(
            "isolated: kept, running: {}\nisolated: press Enter to end them and the run \
             (ISOLATED_KEEP_FOR=10m keeps them after it) ",
            names.join(", ")
        );
        let _ = std::io::stderr().flush();
        let _ = std::io::stdin().read_line(&mut String::new());
    } else {
        eprintln!(
            "isolated: {} kept environment(s) end with this run (ISOLATED_KEEP_FOR=10m keeps \
             them after it)",
            kept.len()
        );
    }
    end(kept, cgroups);
}

/// Ends every kept environment of this run, now.
pub(super) fn end_all(cgroups: &Result<sys::cgroup::Cgroups, String>) {
    let kept = std::mem::take(&mut *lock());
    end(kept, cgroups);
}

fn end(kept: Vec<Kept>, cgroups: &Result<sys::cgroup::Cgroups, String>) {
    let records = Records::here();
    for kept in kept {
        // PID 1 sees the socket close and leaves; the kernel takes the rest.
        drop(kept.control);
        let mut child = kept.child;
        let _ = child.wait();
        let _ = kept.confinement.end(cgroups, !kept.record.privileged);
        records.remove(&kept.record);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Kept>> {
    KEPT.lock().unwrap_or_else(|e| e.into_inner())
}
