//! How a program is isolated: bubblewrap's namespaces (user, PID, mount, network, IPC, UTS, cgroup) with a
//! read-only view of the system and a private size-limited `/tmp`, run under a user id of its own when the
//! runner is root — or, only when asked for, nothing at all.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where the program runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// In namespaces made by bubblewrap.
    Namespaces {
        bwrap: PathBuf,
        /// The user id programs run as outside their namespace.
        users: Users,
    },
    /// Directly on the host (rlimits and the whole-process-group kill only): `--unsafe-local-exec`.
    UnsafeLocal,
}

/// Which user id a program runs as outside its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Users {
    /// The runner is root: each concurrent program gets its own otherwise-unused user id
    /// (`base`, `base + 1`, …), so it can read nothing private to root, its process limit counts only its
    /// own processes, and anything it left behind can be found and killed by user id.
    OwnIds { base: u32 },
    /// The runner is an ordinary user: programs run as that user (in their namespaces); the process limit
    /// then counts the user's other processes too (it is raised by their number at each start).
    Runner { uid: u32 },
}

impl Isolation {
    /// A short description for messages and run records.
    pub fn describe(&self) -> String {
        match self {
            Isolation::Namespaces { bwrap, users } => {
                let who = match users {
                    Users::OwnIds { base } => format!("own user ids from {base}"),
                    Users::Runner { uid } => format!("the runner's user id {uid}"),
                };
                format!(
                    "bubblewrap ({}): user, PID, mount, network, IPC and UTS namespaces; {who}",
                    bwrap.display()
                )
            }
            Isolation::UnsafeLocal => {
                "NONE (--unsafe-local-exec): programs run on the host with rlimits only".to_string()
            }
        }
    }
}

/// One worker's place: with [`Users::OwnIds`], the user id its programs run as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) uid: Option<u32>,
}

/// The workers' slots. Own user ids are reserved machine-wide for the sandbox's lifetime (an exclusive
/// `flock` on a file per id), so two runs on one machine never share one — each kills whatever is left
/// under its ids after every program.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Mutex<Vec<Slot>>,
    pub(crate) uids: Vec<u32>,
    _locks: Vec<std::fs::File>,
}

/// How many ids above the base are tried before giving up.
const UID_RANGE: u32 = 65_536;

impl Slots {
    pub(crate) fn new(n: usize, own_ids_from: Option<u32>) -> Result<Slots, crate::SandboxError> {
        let (uids, locks) = match own_ids_from {
            Some(base) => reserve_uids(n, base)?,
            None => (Vec::new(), Vec::new()),
        };
        let mut free: Vec<Slot> = if uids.is_empty() {
            (0..n).map(|_| Slot { uid: None }).collect()
        } else {
            uids.iter().map(|&u| Slot { uid: Some(u) }).collect()
        };
        free.reverse();
        Ok(Slots {
            free: Mutex::new(free),
            uids,
            _locks: locks,
        })
    }

    /// Take a free slot. The caller holds a worker permit, so there is always one.
    pub(crate) fn take(&self) -> Option<Slot> {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    pub(crate) fn give_back(&self, slot: Slot) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(slot);
    }
}

/// Reserve `n` user ids from `base` up: ids no process runs as and no other sandbox holds.
fn reserve_uids(
    n: usize,
    base: u32,
) -> Result<(Vec<u32>, Vec<std::fs::File>), crate::SandboxError> {
    use std::os::unix::fs::DirBuilderExt;
    use std::os::unix::io::AsRawFd;
    let dir = lock_dir();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(crate::SandboxError::io(format!(
            "creating {}",
            dir.display()
        )))?;
    let (mut uids, mut locks) = (Vec::new(), Vec::new());
    for uid in (0..UID_RANGE).filter_map(|k| base.checked_add(k)) {
        if uids.len() == n {
            break;
        }
        let path = dir.join(format!("uid-{uid}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(crate::SandboxError::io(format!(
                "opening {}",
                path.display()
            )))?;
        // SAFETY: flock on a descriptor we own.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if locked && processes_of(uid, true).is_empty() {
            uids.push(uid);
            locks.push(file);
        }
    }
    if uids.len() < n {
        return Err(crate::SandboxError::Config(format!(
            "only {} free sandbox user ids in {base}..{}; lower --sandbox-workers or stop other runs",
            uids.len(),
            base.saturating_add(UID_RANGE)
        )));
    }
    Ok((uids, locks))
}

fn lock_dir() -> PathBuf {
    let run = Path::new("/run");
    if run.is_dir() {
        run.join("yardstick-sandbox")
    } else {
        std::env::temp_dir().join("yardstick-sandbox-ids")
    }
}

/// The directories of the system a program sees (read-only), beside `/usr`.
#[derive(Clone, Debug)]
pub(crate) struct View {
    /// Extra directories bound read-only at the same path (e.g. an interpreter outside `/usr`).
    pub(crate) extra: Vec<PathBuf>,
}

/// Where the program's own files are mounted inside the sandbox.
pub(crate) const PROGRAM_DIR: &str = "/sandbox";

/// bubblewrap's arguments for one run: `program_dir` (host) is mounted read-only at [`PROGRAM_DIR`], the
/// working directory is a fresh tmpfs of `tmp_bytes` at `/tmp`, and `command` runs in it.
pub(crate) fn bwrap_args(
    view: &View,
    program_dir: &Path,
    tmp_bytes: u64,
    command: &[OsString],
) -> Vec<OsString> {
    fn push(a: &mut Vec<OsString>, xs: &[&str]) {
        a.extend(xs.iter().map(OsString::from));
    }
    let mut a: Vec<OsString> = Vec::new();
    push(
        &mut a,
        &[
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--ro-bind",
            "/usr",
            "/usr",
        ],
    );
    // Merged-/usr systems have /bin, /lib… as links into /usr; others have them as directories.
    for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = Path::new("/").join(top);
        match std::fs::read_link(&host) {
            Ok(target) => {
                a.push("--symlink".into());
                a.push(target.into_os_string());
                a.push(host.into_os_string());
            }
            Err(_) if host.is_dir() => {
                a.push("--ro-bind".into());
                a.push(host.clone().into_os_string());
                a.push(host.into_os_string());
            }
            Err(_) => {}
        }
    }
    // The few files of /etc a program may need; nothing else of it (no passwd secrets, no shadow).
    for file in ["/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"] {
        a.push("--ro-bind-try".into());
        a.push(file.into());
        a.push(file.into());
    }
    for dir in &view.extra {
        a.push("--ro-bind".into());
        a.push(dir.clone().into_os_string());
        a.push(dir.clone().into_os_string());
    }
    push(&mut a, &["--proc", "/proc", "--dev", "/dev", "--size"]);
    a.push(tmp_bytes.to_string().into());
    push(&mut a, &["--tmpfs", "/tmp", "--ro-bind"]);
    a.push(program_dir.as_os_str().to_owned());
    a.push(PROGRAM_DIR.into());
    push(&mut a, &["--chdir", "/tmp", "--"]);
    a.extend(command.iter().cloned());
    a
}

/// `bwrap` from `$YARDSTICK_BWRAP`, else from `PATH`.
pub(crate) fn find_bwrap() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("YARDSTICK_BWRAP") {
        return Some(PathBuf::from(p));
    }
    find_on_path("bwrap")
}

pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A process as `/proc` shows it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Proc {
    pub(crate) pid: i32,
    pub(crate) ppid: i32,
    /// Dead, waiting to be reaped.
    pub(crate) zombie: bool,
}

/// Processes whose real user id is `uid`, zombies only if `with_zombies`.
pub(crate) fn processes_of(uid: u32, with_zombies: bool) -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|v| v.split_whitespace().next())
            };
            if field("Uid:")?.parse::<u32>().ok()? != uid {
                return None;
            }
            let zombie = matches!(field("State:"), Some("Z" | "X"));
            let ppid = field("PPid:")?.parse().ok()?;
            (with_zombies || !zombie).then_some(Proc { pid, ppid, zombie })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_handed_out_once() {
        let s = Slots::new(2, None).unwrap();
        let a = s.take().unwrap();
        let b = s.take().unwrap();
        assert_eq!((a.uid, b.uid), (None, None));
        assert_eq!(s.take(), None);
        s.give_back(a);
        assert_eq!(s.take(), Some(a));
    }

    #[test]
    fn own_ids_are_never_shared_between_pools() {
        // Works without root: only lock files and /proc are involved.
        let base = 3_900_000 + (std::process::id() % 1000) * 16;
        let a = Slots::new(3, Some(base)).unwrap();
        let b = Slots::new(2, Some(base)).unwrap();
        assert_eq!(a.uids.len(), 3);
        assert!(
            b.uids.iter().all(|u| !a.uids.contains(u)),
            "{:?} {:?}",
            a.uids,
            b.uids
        );
        drop(a);
        let c = Slots::new(3, Some(base)).unwrap();
        assert!(c.uids.iter().all(|u| !b.uids.contains(u)));
    }

    #[test]
    fn arguments_mount_the_program_read_only_and_end_with_the_command() {
        let view = View {
            extra: vec![PathBuf::from("/opt/py")],
        };
        let args = bwrap_args(
            &view,
            Path::new("/tmp/x"),
            1234,
            &["python3".into(), "main.py".into()],
        );
        let s: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = s.join(" ");
        assert!(joined.contains("--ro-bind /tmp/x /sandbox"), "{joined}");
        assert!(joined.contains("--size 1234 --tmpfs /tmp"), "{joined}");
        assert!(joined.contains("--ro-bind /opt/py /opt/py"), "{joined}");
        assert!(joined.contains("--unshare-all"));
        assert!(!joined.contains("--share-net"));
        assert!(!joined.contains("/etc/shadow"));
        assert_eq!(&s[s.len() - 3..], ["--", "python3", "main.py"]);
    }
}
