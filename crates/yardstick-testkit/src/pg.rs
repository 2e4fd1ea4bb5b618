//! PostgreSQL for tests: a private cluster ([`PgCluster`]: `initdb` + `pg_ctl` in a temporary directory, on
//! a free port, stopped and removed on drop) and [`test_store`], the store location a store-using test
//! opens — a SQLite file normally, a fresh database on a shared server when `YARDSTICK_TEST_PG_URL` is set
//! (`scripts/test-all`'s postgres phase runs the store-using tests so).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The directory holding `initdb` and `pg_ctl`: `$YARDSTICK_PG_BIN`, else the `PATH`, else Debian's
/// `/usr/lib/postgresql/VERSION/bin` (the newest).
pub fn pg_bin_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("YARDSTICK_PG_BIN") {
        return Some(PathBuf::from(d));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if d.join("initdb").is_file() && d.join("pg_ctl").is_file() {
                return Some(d);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A private PostgreSQL cluster, stopped and deleted on drop.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    next_db: AtomicU64,
}

impl PgCluster {
    /// Start a cluster, or `None` (having printed why, or panicked in CI) when PostgreSQL is not
    /// installed.
    pub fn start_or_skip() -> Option<PgCluster> {
        match pg_bin_dir() {
            Some(_) => Some(PgCluster::start().unwrap_or_else(|e| panic!("{e}"))),
            None => {
                crate::skip_or_fail(
                    "PostgreSQL is not installed (no initdb/pg_ctl on PATH or under /usr/lib/postgresql; \
                     apt-get install postgresql, or set YARDSTICK_PG_BIN)",
                );
                None
            }
        }
    }

    /// Start a cluster for tests (fsync off: nothing here needs to survive a power cut).
    pub fn start() -> Result<PgCluster, String> {
        PgCluster::start_with(&["-c", "fsync=off", "-c", "synchronous_commit=off"])
    }

    /// Start a cluster with these extra server options (`-c name=value` pairs).
    pub fn start_with(options: &[&str]) -> Result<PgCluster, String> {
        let bin = pg_bin_dir().ok_or("PostgreSQL is not installed (no initdb/pg_ctl)")?;
        let dir = tempfile::Builder::new()
            .prefix("yardstick-pg-")
            .tempdir()
            .map_err(|e| format!("tempdir: {e}"))?;
        let root = is_root();
        // PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user, who must
        // be able to reach the directory.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("chmod: {e}"))?;
        }
        if root {
            let st = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !st.success() {
                return Err("chown postgres: failed (is there a `postgres` user?)".into());
            }
        }
        let port = free_port()?;
        let cluster = PgCluster {
            dir,
            bin,
            port,
            next_db: AtomicU64::new(0),
        };
        let data = cluster.dir.path().join("data");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        let mut server_opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            cluster.dir.path().display()
        );
        for o in options {
            server_opts.push(' ');
            server_opts.push_str(o);
        }
        let log = cluster.dir.path().join("server.log");
        cluster
            .run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    server_opts.as_ref(),
                    "-w".as_ref(),
                    "start".as_ref(),
                ],
            )
            .map_err(|e| {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                format!("{e}\nserver log:\n{log}")
            })?;
        Ok(cluster)
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(self.dir.path());
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({}): {}{}",
                exe.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// A fresh, empty database; its URL.
    pub fn create_database(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{n}");
        create_database(&self.url("postgres"), &name).unwrap_or_else(|e| panic!("{e}"));
        self.url(&name)
    }

    /// Where the cluster lives (data directory `data/`, log `server.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

/// `CREATE DATABASE name` on the server `server_url` is connected to (on a thread of its own: the
/// synchronous client cannot run inside a tokio runtime).
pub fn create_database(server_url: &str, name: &str) -> Result<(), String> {
    let url = server_url.to_string();
    let sql = format!("CREATE DATABASE \"{name}\"");
    std::thread::spawn(move || -> Result<(), String> {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .map_err(|e| format!("connect to {url}: {e}"))?;
        client
            .batch_execute(&sql)
            .map_err(|e| format!("{sql}: {e}"))
    })
    .join()
    .map_err(|_| "create_database panicked".to_string())?
}

/// `url` with its database (path) replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{db}{query}", &base[..host_end])
}

static STORES: AtomicU64 = AtomicU64::new(0);

/// The databases [`test_store`] created in this process, by (dir, name): asked again, it answers the same.
static CREATED: std::sync::Mutex<Vec<(PathBuf, String, String)>> =
    std::sync::Mutex::new(Vec::new());

/// The store a test opens, named `name`: `dir/name` (a SQLite file) normally; when `YARDSTICK_TEST_PG_URL`
/// is set (a PostgreSQL server URL whose user may create databases), the URL of a new, empty database on
/// that server (the same one when this process asks again for the same `dir` and `name`, as the same file
/// would be). Pass it wherever a store location goes (`Store::open_location`, `--store`).
pub fn test_store(dir: &Path, name: &str) -> String {
    match std::env::var("YARDSTICK_TEST_PG_URL") {
        Ok(server) if !server.is_empty() => {
            let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, _, url)) = created.iter().find(|(d, n, _)| d == dir && n == name) {
                return url.clone();
            }
            let n = STORES.fetch_add(1, Ordering::SeqCst);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let clean: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .take(24)
                .collect();
            let db = format!("ys_{clean}_{}_{n}_{nanos}", std::process::id());
            create_database(&server, &db).unwrap_or_else(|e| panic!("YARDSTICK_TEST_PG_URL: {e}"));
            let url = with_database(&server, &db);
            if dir != Path::new("") {
                created.push((dir.to_path_buf(), name.to_string(), url.clone()));
            }
            url
        }
        _ => dir.join(name).display().to_string(),
    }
}

/// A new, empty database on the `YARDSTICK_TEST_PG_URL` server when it is set (its URL), else `None`: for
/// tests that otherwise use an in-memory SQLite store (`Store::open_in_memory`).
pub fn test_database() -> Option<String> {
    testing_postgres().then(|| test_store(Path::new(""), "mem"))
}

/// Whether store-using tests run against PostgreSQL (`YARDSTICK_TEST_PG_URL` is set): tests that inspect
/// a SQLite file itself (its size, permissions, a corrupted file) skip then, saying so.
pub fn testing_postgres() -> bool {
    std::env::var("YARDSTICK_TEST_PG_URL").is_ok_and(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres", "x"),
            "postgres://u@h:5/x"
        );
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
    }
}
