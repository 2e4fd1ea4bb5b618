//! Hostile programs, run in the real sandbox side by side: each must end as a failure with its reason, the
//! host and this test process must be unaffected, a listener on the host's loopback must see no connection,
//! and nothing may be left running afterwards.

mod common;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use yardstick_sandbox::{Execution, Failure, Limits, Program, Sandbox};

fn limits(wall_s: u64) -> Limits {
    Limits {
        wall: Duration::from_secs(wall_s),
        cpu: Duration::from_secs(20),
        ..Limits::default()
    }
}

async fn run(sb: &Sandbox, source: &str, l: Limits) -> Execution {
    sb.run(&Program::python(source), &l)
        .await
        .expect("the sandbox runs the program")
}

fn reason(e: &Execution) -> &Failure {
    e.failure.as_ref().unwrap_or_else(|| {
        panic!(
            "expected a failure, it passed; stdout {:?} stderr {:?}",
            e.stdout.text, e.stderr.text
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_are_contained() {
    let Some(sb) = common::sandbox(4).await else {
        return;
    };
    eprintln!("isolation: {}", sb.isolation().describe());
    // A process of the runner's that a program might try to kill.
    let mut canary = std::process::Command::new("sleep")
        .arg("120")
        .spawn()
        .expect("sleep starts");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let canary_pid = canary.id();
    let escape = std::env::temp_dir().join(format!("yardstick-escape-{}", std::process::id()));
    let escape_s = escape.display().to_string();

    let fork_bomb = "import os\nwhile True:\n    os.fork()\n";
    let memory_bomb = "x = bytearray(8 << 30)\n";
    let memory_creep = "l = []\nwhile True:\n    l.append(' ' * 10_000_000)\n";
    let infinite = "while True:\n    pass\n";
    let stubborn = "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):\n    \
                    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n";
    let cpu_hog = "while True:\n    pass\n";
    let write_outside = format!(
        "open({escape_s:?}, 'w').write('x')\nopen('/usr/yardstick-owned', 'w').write('x')\n"
    );
    let read_secrets = "import os, glob\nfound = []\nfor p in ['/etc/shadow', '/etc/passwd', \
                        os.path.expanduser('~/.ssh/id_rsa'), '/root/.ssh/id_rsa'] + glob.glob('/root/.ssh/*') + \
                        glob.glob('/home/*/.ssh/*'):\n    try:\n        found.append(open(p).read())\n    \
                        except OSError:\n        pass\nprint(found)\nassert found, 'no secret readable'\n";
    let connect = format!(
        "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\ns.sendall(b'hi')\n"
    );
    let daemon = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        \
                  time.sleep(60)\n        os._exit(0)\n    os._exit(0)\ntime.sleep(0.2)\nraise SystemExit(1)\n";
    let flood =
        "import sys\nchunk = 'x' * 65536\nfor _ in range(16384):\n    sys.stdout.write(chunk)\n";
    let raise_limits = "import resource\nfor r in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, \
                        resource.RLIMIT_CPU):\n    resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n";
    let kill_parent = format!(
        "import os, signal, time\nfor pid in (os.getppid(), 1, {canary_pid}):\n    try:\n        \
         os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\ntry:\n    os.kill(-1, signal.SIGKILL)\n\
         except OSError:\n    pass\ntime.sleep(0.2)\nraise SystemExit(3)\n"
    );
    let fill_disk = "import os\nchunk = b'x' * (1 << 20)\ni = 0\nwhile True:\n    with open(f'/tmp/f{i}', 'wb') as f:\n        \
                     for _ in range(8):\n            f.write(chunk)\n    i += 1\n";
    let big_file =
        "with open('/tmp/big', 'wb') as f:\n    while True:\n        f.write(b'x' * (1 << 20))\n";
    let user_ns = "import os\nos.unshare(os.CLONE_NEWUSER)\n";

    let cpu_limits = Limits {
        wall: Duration::from_secs(20),
        cpu: Duration::from_secs(1),
        ..Limits::default()
    };
    let started = Instant::now();
    // Without a user id per program (not root: every program runs as the runner's own uid), RLIMIT_NPROC
    // counts the processes of all of them together, so a fork bomb running beside the others can leave them
    // unable to fork their own first process: it runs alone first. As root each program has a uid of its own
    // and the fork bomb runs beside the others.
    // SAFETY: geteuid cannot fail.
    let shared_uid = unsafe { libc::geteuid() } != 0;
    let fork_bomb_alone = if shared_uid {
        Some(run(&sb, fork_bomb, limits(10)).await)
    } else {
        None
    };
    let fork_bomb_beside = async {
        match &fork_bomb_alone {
            Some(r) => r.clone(),
            None => run(&sb, fork_bomb, limits(10)).await,
        }
    };
    let (a, b, c, d, e, f, g, h) = tokio::join!(
        fork_bomb_beside,
        run(&sb, memory_bomb, limits(10)),
        run(&sb, memory_creep, limits(20)),
        run(&sb, infinite, limits(2)),
        run(&sb, stubborn, limits(2)),
        run(&sb, cpu_hog, cpu_limits),
        run(&sb, &write_outside, limits(10)),
        run(&sb, read_secrets, limits(10)),
    );
    let (i, j, k, l, m, n, o, p) = tokio::join!(
        run(&sb, &connect, limits(10)),
        run(&sb, daemon, limits(10)),
        run(&sb, flood, limits(30)),
        run(&sb, raise_limits, limits(10)),
        run(&sb, &kill_parent, limits(10)),
        run(&sb, fill_disk, limits(30)),
        run(&sb, big_file, limits(30)),
        run(&sb, user_ns, limits(10)),
    );
    eprintln!("16 hostile programs in {:.1?}", started.elapsed());

    assert_eq!(reason(&a), &Failure::ProcessLimit, "fork bomb: {a:?}");
    assert_eq!(reason(&b), &Failure::Memory, "memory bomb");
    assert_eq!(reason(&c), &Failure::Memory, "memory creep");
    assert!(
        matches!(reason(&d), Failure::Timeout { limit_ms: 2000 }),
        "infinite loop: {d:?}"
    );
    assert!(
        matches!(reason(&e), Failure::Timeout { .. }),
        "SIGTERM-proof loop: {e:?}"
    );
    assert_eq!(reason(&f), &Failure::CpuTime, "CPU hog");
    assert!(
        matches!(reason(&g), Failure::Exception { name, message } if name == "OSError" && message.contains("Read-only")),
        "write outside /tmp: {g:?}"
    );
    assert!(!escape.exists(), "{escape_s} was written on the host");
    assert!(
        matches!(reason(&h), Failure::Assertion { message } if message == "no secret readable"),
        "secrets: {h:?}"
    );
    assert!(
        matches!(reason(&i), Failure::Exception { name, .. } if name.contains("Error")),
        "connect: {i:?}"
    );
    match listener.accept() {
        Err(err) if err.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the loopback listener saw a connection: {other:?}"),
    }
    assert_eq!(reason(&j), &Failure::Exit { code: 1 }, "daemon's parent");
    assert!(
        matches!(reason(&k), Failure::OutputLimit { .. }),
        "flood: {k:?}"
    );
    assert!(k.stdout.truncated && k.stdout.text.len() <= Limits::default().keep_output_bytes);
    assert!(
        matches!(reason(&l), Failure::Exception { name, .. } if name == "ValueError"),
        "raising limits: {l:?}"
    );
    assert_eq!(reason(&m), &Failure::Exit { code: 3 }, "killing its parent");
    assert_eq!(
        reason(&n),
        &Failure::FileSize,
        "filling /tmp: {:?}",
        n.stderr.text
    );
    assert_eq!(reason(&o), &Failure::FileSize, "one big file");
    assert!(
        matches!(reason(&p), Failure::Exception { name, .. } if name.contains("Error")),
        "user namespace inside: {p:?}"
    );

    // The runner and its other processes are unaffected; nothing of the programs is left.
    assert!(
        canary.try_wait().expect("canary status").is_none(),
        "the canary was killed"
    );
    canary.kill().ok();
    canary.wait().ok();
    let still = std::process::Command::new("true")
        .status()
        .expect("the runner can still fork");
    assert!(still.success());
    if let Some(left) = sb.processes_left() {
        assert!(left.is_empty(), "processes left running: {left:?}");
    }
    // And the sandbox still works.
    let ok = run(&sb, "print(sum(range(10)))", limits(10)).await;
    assert!(ok.passed(), "{ok:?}");
    assert_eq!(ok.stdout.text, "45\n");
}

#[tokio::test]
async fn the_program_sees_a_minimal_system() {
    let Some(sb) = common::sandbox(1).await else {
        return;
    };
    let src = "import os, socket\nprint(sorted(os.listdir('/')))\nprint(os.getcwd(), os.environ.get('HOME'))\n\
               print(sorted(k for k in os.environ if k != 'LC_CTYPE'))\nprint(os.getpid())\n\
               print([n for _, n in socket.if_nameindex()])\nprint(open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n";
    let e = sb
        .run(&Program::python(src), &Limits::default())
        .await
        .expect("runs");
    assert!(e.passed(), "{e:?}");
    let lines: Vec<&str> = e.stdout.text.lines().collect();
    assert!(
        !lines[0].contains("'root'") && !lines[0].contains("'home'"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("'sandbox'") && lines[0].contains("'tmp'"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "/tmp /tmp");
    // bubblewrap adds PWD for its --chdir.
    assert_eq!(lines[2], "['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR']");
    // Its own PID namespace: bubblewrap's reaper is 1, the program 2.
    assert_eq!(lines[3], "2");
    assert_eq!(lines[4], "['lo']");
    assert_eq!(lines[5], "0000000000000000");
}

#[tokio::test]
async fn files_arguments_and_stdin_reach_the_program() {
    let Some(sb) = common::sandbox(1).await else {
        return;
    };
    let mut p = Program::python(
        "import sys\nprint(open(sys.argv[1] + '/data.txt').read(), sys.argv[2], sys.stdin.read())\n",
    );
    p.files.push(("data.txt".into(), "payload".into()));
    p.args = vec![Program::DIR.into(), "arg".into()];
    p.stdin = Some(b"from stdin".to_vec());
    let e = sb.run(&p, &Limits::default()).await.expect("runs");
    assert!(e.passed(), "{e:?}");
    assert_eq!(e.stdout.text, "payload arg from stdin\n");
    // The program's directory is read-only, and a file may not take the main file's name.
    let e = sb
        .run(
            &Program::python(format!("open('{}/x', 'w')\n", Program::DIR)),
            &Limits::default(),
        )
        .await
        .expect("runs");
    assert!(
        matches!(e.failure, Some(Failure::Exception { ref message, .. }) if message.contains("Read-only")),
        "{e:?}"
    );
    let mut bad = Program::python("pass\n");
    bad.files.push(("main.py".into(), "x".into()));
    assert!(sb.run(&bad, &Limits::default()).await.is_err());
}

/// Run as root, the suite above also runs as an ordinary user (uid 65534 through `setpriv`): the sandbox
/// then uses the runner's own user id in its namespaces, and every hostile program must still be contained.
#[test]
fn an_unprivileged_user_gets_the_same_containment() {
    if std::env::var_os("YARDSTICK_SANDBOX_UNPRIVILEGED_CHILD").is_some() {
        return;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP: not root; this process already is the unprivileged case");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let probe = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "test",
            "-x",
        ])
        .arg(&exe)
        .status();
    match probe {
        Ok(s) if s.success() => {}
        Ok(_) => {
            eprintln!(
                "SKIP: uid 65534 cannot execute {} (a parent directory is private)",
                exe.display()
            );
            return;
        }
        Err(e) => {
            eprintln!("SKIP: setpriv (util-linux) is not available: {e}");
            return;
        }
    }
    let out = std::process::Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "--exact",
            "hostile_programs_are_contained",
            "the_program_sees_a_minimal_system",
            "files_arguments_and_stdin_reach_the_program",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/tmp")
        .env("YARDSTICK_SANDBOX_UNPRIVILEGED_CHILD", "1")
        .current_dir("/tmp")
        .output()
        .expect("the test binary runs as uid 65534");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "as uid 65534:\n{text}");
    assert!(text.contains("the runner's user id 65534"), "{text}");
    assert!(text.contains("3 passed"), "{text}");
}
