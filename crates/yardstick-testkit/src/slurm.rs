//! A one-host Slurm cluster for tests: a private munged (own key and socket), slurmctld and slurmd, configured
//! in a temporary directory with no cgroups, stopped (slurmd, slurmctld, munged) on drop. Needs Debian's
//! `slurm-wlm` and `munge` (CI installs them) and root (slurmd runs jobs as their user).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SlurmCluster {
    dir: tempfile::TempDir,
    children: Vec<Child>,
}

/// Why a Slurm cluster cannot start here (None when it can).
pub fn unavailable() -> Option<String> {
    for bin in [
        "slurmctld",
        "slurmd",
        "munged",
        "mungekey",
        "sbatch",
        "squeue",
    ] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
            .unwrap_or(false)
            || Path::new("/usr/sbin").join(bin).is_file();
        if !found {
            return Some(format!(
                "{bin} is not installed (apt-get install slurm-wlm munge)"
            ));
        }
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("a one-host Slurm cluster needs root here (slurmd runs the jobs)".into());
    }
    None
}

fn bin(name: &str) -> PathBuf {
    let sbin = Path::new("/usr/sbin").join(name);
    if sbin.is_file() {
        sbin
    } else {
        PathBuf::from(name)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(16817)
}

impl SlurmCluster {
    /// Start the cluster and wait until its node is idle.
    pub fn start() -> Result<SlurmCluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("ys-slurm-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let d = dir.path();
        for sub in ["munge", "state", "spool", "log"] {
            std::fs::create_dir_all(d.join(sub)).map_err(|e| e.to_string())?;
        }
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(d.join("munge"), std::fs::Permissions::from_mode(0o711));
        let host = Command::new("hostname")
            .arg("-s")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .map_err(|e| e.to_string())?;
        let mem_mib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
            .map_or(4096, |kb| (kb / 1024).saturating_sub(1024));
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (ctld, slurmd) = (free_port(), free_port());
        let p = |s: &str| d.join(s).display().to_string();
        let conf = format!(
            "ClusterName=yardstick-test\nSlurmctldHost={host}\nSlurmUser=root\nSlurmdUser=root\n\
             SlurmctldPort={ctld}\nSlurmdPort={slurmd}\nAuthType=auth/munge\nCredType=cred/munge\n\
             AuthInfo=socket={sock}\nStateSaveLocation={state}\nSlurmdSpoolDir={spool}\n\
             SlurmctldPidFile={ctldpid}\nSlurmdPidFile={dpid}\nSlurmctldLogFile={ctldlog}\nSlurmdLogFile={dlog}\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nJobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\nJobCompType=jobcomp/none\nSelectType=select/cons_tres\n\
             SelectTypeParameters=CR_Core\nMpiDefault=none\nReturnToService=2\nSchedulerType=sched/backfill\n\
             MailProg=/bin/true\nMinJobAge=600\nNodeName={host} CPUs={cpus} RealMemory={mem_mib} State=UNKNOWN\n\
             PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            sock = p("munge/munge.socket"),
            state = p("state"),
            spool = p("spool"),
            ctldpid = p("slurmctld.pid"),
            dpid = p("slurmd.pid"),
            ctldlog = p("log/slurmctld.log"),
            dlog = p("log/slurmd.log"),
        );
        std::fs::write(d.join("slurm.conf"), conf).map_err(|e| e.to_string())?;
        let key = d.join("munge/munge.key");
        let ok = Command::new(bin("mungekey"))
            .arg("--create")
            .arg(format!("--keyfile={}", key.display()))
            .status()
            .map_err(|e| format!("mungekey: {e}"))?;
        if !ok.success() {
            return Err("mungekey --create failed".into());
        }
        let mut cluster = SlurmCluster {
            dir,
            children: Vec::new(),
        };
        let d = cluster.dir.path().to_path_buf();
        let spawn = |c: &mut Command| {
            c.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("{c:?}: {e}"))
        };
        cluster.children.push(spawn(
            Command::new(bin("munged"))
                .args(["-F", "-f"])
                .arg(format!(
                    "--socket={}",
                    d.join("munge/munge.socket").display()
                ))
                .arg(format!("--key-file={}", key.display()))
                .arg(format!(
                    "--log-file={}",
                    d.join("munge/munged.log").display()
                ))
                .arg(format!(
                    "--pid-file={}",
                    d.join("munge/munged.pid").display()
                ))
                .arg(format!(
                    "--seed-file={}",
                    d.join("munge/munged.seed").display()
                )),
        )?);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !d.join("munge/munge.socket").exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let conf = d.join("slurm.conf");
        cluster.children.push(spawn(
            Command::new(bin("slurmctld"))
                .arg("-D")
                .arg("-f")
                .arg(&conf),
        )?);
        cluster.children.push(spawn(
            Command::new(bin("slurmd")).arg("-D").arg("-f").arg(&conf),
        )?);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = cluster
                .command("sinfo")
                .args(["-h", "-o", "%T"])
                .output()
                .map_err(|e| format!("sinfo: {e}"))?;
            let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if state == "idle" {
                return Ok(cluster);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the Slurm node did not become idle in 60 s (sinfo says {state:?}); slurmctld log:\n{}",
                    cluster.log("slurmctld.log")
                ));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The cluster's configuration file (clients need `SLURM_CONF`).
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("slurm.conf")
    }

    /// A Slurm client command (sbatch, squeue, …) pointed at this cluster.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", self.conf());
        c
    }

    /// A daemon's log (for failure messages).
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("log").join(name)).unwrap_or_default()
    }

    /// Wait until job `id` has left the queue (finished one way or another).
    pub fn wait_gone(&self, id: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self
                .command("squeue")
                .args(["-h", "-j", id, "-o", "%i %T %r"])
                .output()
                .map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if text.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let all = self
                    .command("squeue")
                    .args(["-h", "-o", "%i %T %r"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                return Err(format!(
                    "job {id} still queued after {timeout:?}: {text}\nqueue:\n{all}"
                ));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for SlurmCluster {
    fn drop(&mut self) {
        // slurmd, then slurmctld, then munged
        for child in self.children.iter_mut().rev() {
            // SAFETY: kill on a child's own pid.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
