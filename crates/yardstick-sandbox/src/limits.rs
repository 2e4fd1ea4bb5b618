//! What a sandboxed program may use, and how the limits reach it (`setrlimit` in the child before `exec`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Resource limits of one program run. Every limit is enforced by the kernel (rlimits, the size of the
/// private tmpfs) except `wall` and `output_bytes`, which the runner enforces by killing the whole tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time from start to kill.
    #[serde(with = "millis")]
    pub wall: Duration,
    /// CPU time of each process (`RLIMIT_CPU`; SIGXCPU at the limit, SIGKILL one second later).
    #[serde(with = "millis")]
    pub cpu: Duration,
    /// Address space of each process (`RLIMIT_AS`), bytes.
    pub memory_bytes: u64,
    /// Processes and threads the program may have at once, itself included (`RLIMIT_NPROC` of a user id
    /// of its own).
    pub processes: u32,
    /// Largest file it may write (`RLIMIT_FSIZE`), bytes.
    pub file_size_bytes: u64,
    /// Size of its private writable `/tmp` (a tmpfs), bytes.
    pub tmp_bytes: u64,
    /// Open file descriptors per process (`RLIMIT_NOFILE`).
    pub open_files: u32,
    /// Total stdout + stderr bytes before the run is killed.
    pub output_bytes: u64,
    /// Bytes of each stream kept in the result (the head; the rest is counted and dropped).
    pub keep_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall: Duration::from_secs(10),
            cpu: Duration::from_secs(10),
            memory_bytes: 1 << 30,
            processes: 32,
            file_size_bytes: 16 << 20,
            tmp_bytes: 64 << 20,
            open_files: 64,
            output_bytes: 8 << 20,
            keep_output_bytes: 8 << 10,
        }
    }
}

impl Limits {
    /// A time limit scaled from how long the reference solution took here: `factor × reference`, never below
    /// `floor` — a slow machine then does not fail correct code, and a fast one still catches an infinite loop
    /// quickly. The CPU limit follows the wall limit.
    pub fn with_time_scaled(mut self, reference: Duration, factor: f64, floor: Duration) -> Limits {
        let scaled = reference.mul_f64(factor.max(0.0));
        self.wall = scaled.max(floor);
        self.cpu = self.wall;
        self
    }

    /// A stable text of every limit, for cache keys (a result obtained under other limits is another result).
    pub fn key_text(&self) -> String {
        format!(
            "wall_ms={};cpu_ms={};mem={};procs={};fsize={};tmp={};nofile={};out={};keep={}",
            self.wall.as_millis(),
            self.cpu.as_millis(),
            self.memory_bytes,
            self.processes,
            self.file_size_bytes,
            self.tmp_bytes,
            self.open_files,
            self.output_bytes,
            self.keep_output_bytes
        )
    }
}

/// The rlimits to set in the child, prepared before `fork` so that the child only makes system calls.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RlimitPlan {
    entries: [(libc::__rlimit_resource_t, libc::rlim_t, libc::rlim_t); 6],
}

impl RlimitPlan {
    /// `extra_processes`: processes of the same user id that are not the program's (the sandbox's own
    /// supervisor processes, or, without a user id of its own, everything else the user runs).
    pub(crate) fn new(limits: &Limits, extra_processes: u64) -> RlimitPlan {
        let cpu = limits.cpu.as_secs().max(1);
        let nproc = u64::from(limits.processes) + extra_processes;
        RlimitPlan {
            entries: [
                (libc::RLIMIT_CPU, cpu, cpu + 1),
                (libc::RLIMIT_AS, limits.memory_bytes, limits.memory_bytes),
                (libc::RLIMIT_NPROC, nproc, nproc),
                (
                    libc::RLIMIT_FSIZE,
                    limits.file_size_bytes,
                    limits.file_size_bytes,
                ),
                (
                    libc::RLIMIT_NOFILE,
                    u64::from(limits.open_files),
                    u64::from(limits.open_files),
                ),
                (libc::RLIMIT_CORE, 0, 0),
            ],
        }
    }

    /// Apply every limit to the calling process. Only system calls: safe between `fork` and `exec`.
    pub(crate) fn apply(&self) -> std::io::Result<()> {
        for &(resource, soft, hard) in &self.entries {
            let lim = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            // SAFETY: setrlimit reads a valid, initialised struct.
            if unsafe { libc::setrlimit(resource, &lim) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_time_has_a_floor() {
        let l = Limits::default().with_time_scaled(
            Duration::from_millis(20),
            10.0,
            Duration::from_secs(3),
        );
        assert_eq!(l.wall, Duration::from_secs(3));
        assert_eq!(l.cpu, Duration::from_secs(3));
        let l = Limits::default().with_time_scaled(
            Duration::from_millis(900),
            10.0,
            Duration::from_secs(3),
        );
        assert_eq!(l.wall, Duration::from_secs(9));
    }

    #[test]
    fn key_text_changes_with_every_limit() {
        let base = Limits::default();
        let mut other = base.clone();
        other.tmp_bytes += 1;
        assert_ne!(base.key_text(), other.key_text());
        let mut other = base.clone();
        other.keep_output_bytes += 1;
        assert_ne!(base.key_text(), other.key_text());
    }
}
