//! A real ext4 file system on a loop device, mounted in a private mount namespace held
//! by a child process, for tests of what the server does when its disk misbehaves (an
//! error that turns the file system read-only, a power cut). Needs root, a loop device,
//! `mkfs.ext4`, `unshare`, `mount`, `findmnt`; without them the tests are skipped
//! through [`crate::prereq::skip`] (a failure under `AUDITRAIL_REQUIRE_ROOT_TESTS=1`,
//! as in CI). Shared by the CLI's tests and the end-to-end ones
//! (whose node process, `es-node`, runs in the namespace through [`Ext4::command`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Why this process cannot mount an ext4 image on a loop device here, if it cannot.
pub fn unavailable() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not root: cannot mount a loop device".into());
    }
    if let Some(p) =
        crate::prereq::missing_program(&["mkfs.ext4", "unshare", "mount", "findmnt", "losetup"])
    {
        return Some(format!("`{p}` is not installed"));
    }
    if !std::path::Path::new("/dev/loop-control").exists() {
        return Some("no /dev/loop-control: no loop devices here".into());
    }
    None
}

/// Whether the calling test can mount an ext4 image here; when not, the test is
/// skipped ([`crate::prereq::skip`]: a failure under `AUDITRAIL_REQUIRE_ROOT_TESTS=1`)
/// and should return.
#[track_caller]
pub fn can_mount() -> bool {
    match unavailable() {
        None => true,
        Some(why) => {
            crate::prereq::skip(&why);
            false
        }
    }
}

/// A disk for a power-cut test: a temp folder holding an ext4 image, mounted at
/// `mnt` with `data=writeback` (a file's data reaches the disk only when that file is
/// synced, as on XFS, not with another file's journal commit).
#[derive(Debug)]
pub struct Disk {
    /// The temp folder (the image, and what a test keeps outside the cut disk).
    pub dir: tempfile::TempDir,
    /// The image file.
    pub image: PathBuf,
    /// Where the image is mounted, inside the namespace.
    pub mnt: PathBuf,
}

impl Disk {
    /// A new disk of `bytes`, mounted; `None` when this process cannot mount a loop
    /// device (see [`can_mount`]: the test is skipped, or fails in CI).
    #[track_caller]
    pub fn new(bytes: u64) -> Option<(Disk, Ext4)> {
        if !can_mount() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("fs.img");
        let mnt = dir.path().join("mnt");
        let ns = Ext4::create(&image, bytes, &mnt, "data=writeback");
        Some((Disk { dir, image, mnt }, ns))
    }

    /// Cuts the power of `ns` (see [`Ext4::power_cut`]), and boots: the file system
    /// mounted again, its journal replayed.
    pub fn power_cut_and_boot(&self, ns: Ext4) -> Ext4 {
        ns.power_cut();
        self.boot(ns)
    }

    /// The boot after a power cut of `ns` (every process in it must have ended).
    pub fn boot(&self, ns: Ext4) -> Ext4 {
        ns.unmount();
        Ext4::mount(&self.image, &self.mnt, "data=writeback")
    }
}

/// A process holding a private mount namespace where an ext4 image is mounted.
#[derive(Debug)]
pub struct Ext4 {
    holder: Child,
    /// The loop device's name (`loop3`).
    pub device: String,
    /// Where the image is mounted, inside the namespace.
    pub dir: PathBuf,
    /// The image file.
    image: PathBuf,
}

impl Ext4 {
    /// A new ext4 file system of `bytes` in `image`, mounted at `dir` with `options`
    /// (`-o loop,OPTIONS`).
    pub fn create(image: &Path, bytes: u64, dir: &Path, options: &str) -> Ext4 {
        std::fs::File::create(image)
            .unwrap()
            .set_len(bytes)
            .unwrap();
        let status = Command::new("mkfs.ext4")
            .args(["-q", "-F"])
            .arg(image)
            .status()
            .unwrap();
        assert!(status.success(), "mkfs.ext4 failed");
        Ext4::mount(image, dir, options)
    }

    /// Mounts the ext4 file system in `image` at `dir` (a mount after a crash replays
    /// the journal, as at a boot).
    pub fn mount(image: &Path, dir: &Path, options: &str) -> Ext4 {
        std::fs::create_dir_all(dir).unwrap();
        let mut holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount -o "loop,$2" "$0" "$1" && findmnt -n -o SOURCE "$1" && exec sleep 600"#)
            .arg(image)
            .arg(dir)
            .arg(options)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let device = line.trim().trim_start_matches("/dev/").to_owned();
        assert!(
            device.starts_with("loop"),
            "the image was not mounted: {line:?}"
        );
        Ext4 {
            holder,
            device,
            dir: dir.to_owned(),
            image: image.to_owned(),
        }
    }

    /// The command prefix that runs a program inside the namespace.
    pub fn enter(&self) -> Vec<String> {
        let pid = self.holder.id().to_string();
        ["nsenter", "-t", &pid, "-m", "--"]
            .map(str::to_owned)
            .to_vec()
    }

    /// `program` as a command that runs inside the namespace (its arguments still to
    /// be added): `nsenter ... -- program`, which execs it (same pid).
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.holder.id().to_string(), "-m", "--"])
            .arg(program);
        cmd
    }

    /// `auditrail ARGS` run inside the namespace, fed `stdin`.
    pub fn run_auditrail(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut cmd = self.command(&crate::server::auditrail_bin());
        cmd.args(args);
        crate::process::output_fed(cmd, stdin)
    }

    /// `path` under the mount as this process can read it (through the holder's root).
    pub fn outside(&self, path: &Path) -> PathBuf {
        let inside = path.strip_prefix("/").unwrap_or(path);
        Path::new(&format!("/proc/{}/root", self.holder.id())).join(inside)
    }

    /// An error as the file system would record it after a failed write
    /// (`/sys/fs/ext4/<dev>/trigger_fs_error`).
    pub fn fail(&self) {
        std::fs::write(
            format!("/sys/fs/ext4/{}/trigger_fs_error", self.device),
            "1",
        )
        .unwrap();
    }

    /// A power cut: ext4's shutdown ioctl (`EXT4_IOC_SHUTDOWN`) with
    /// `EXT4_GOING_FLAGS_NOLOGFLUSH`, the way xfstests' fsync tests simulate a crash
    /// ("godown"): from this instant nothing more reaches the disk, neither data nor
    /// the journal, and every later operation fails with `EIO`. What a mount finds
    /// afterwards is what was durable before. Issued from inside the namespace by
    /// Python's `fcntl.ioctl`, which keeps `unsafe` out of the tests.
    pub fn power_cut(&self) {
        // _IOR('X', 125, __u32) and EXT4_GOING_FLAGS_NOLOGFLUSH (include/uapi/linux/ext4.h).
        let script = "import fcntl, os, struct, sys\n\
                      fd = os.open(sys.argv[1], os.O_RDONLY)\n\
                      fcntl.ioctl(fd, 0x8004587D, struct.pack('I', 2))\n";
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.holder.id().to_string(), "-m", "--"])
            .args(["python3", "-c", script])
            .arg(&self.dir);
        let status = cmd.status().unwrap();
        assert!(status.success(), "the shutdown ioctl failed");
    }

    /// A power cut as the processes `pids` live it: each is frozen first (`SIGSTOP`,
    /// and every one of its threads seen stopped), then the disk stops taking writes
    /// ([`Ext4::power_cut`]). Kill them afterwards (`SIGKILL` ends a stopped process).
    ///
    /// The shutdown ioctl stops the disk, not the machine: a process left running
    /// goes on past the cut instant, and a system call in flight across it can return
    /// success for what never reached the disk (an `fdatasync` whose journal commit
    /// the shutdown aborted, once that commit is no longer pending, returns 0: seen
    /// with strace, a node printed acknowledgements after its first `EIO` for spooled
    /// records the boot after did not have). No real power cut lets a process
    /// acknowledge anything after it; a frozen one cannot either. What a frozen
    /// process acknowledged before it stopped was acknowledged before the cut, and
    /// must be on the disk after the boot.
    pub fn power_cut_freezing(&self, pids: &[u32]) {
        use rustix::process::{kill_process, Pid, Signal};
        for &pid in pids {
            let p = Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
            kill_process(p, Signal::STOP).unwrap();
        }
        for &pid in pids {
            let stopped =
                crate::server::wait_until(Duration::from_secs(10), || all_threads_stopped(pid));
            assert!(stopped, "process {pid} did not stop within 10 s");
        }
        self.power_cut();
    }

    /// Ends the namespace (the file system is unmounted with it) and waits until the
    /// loop device has let the image go, so that it can be mounted again.
    pub fn unmount(mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        // Until the device no longer names this image: it may be detached, or already
        // attached to another test's image (`mount -o loop` takes the lowest free one).
        let backing = format!("/sys/block/{}/loop/backing_file", self.device);
        let image = std::fs::canonicalize(&self.image).unwrap_or_else(|_| self.image.clone());
        for _ in 0..200 {
            match std::fs::read_to_string(&backing) {
                Ok(named) if Path::new(named.trim_end_matches('\n')) == image => {}
                _ => return,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} still holds the image after 10 s", self.device);
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Whether every thread of process `pid` is stopped (state `T` or `t` in
/// `/proc/PID/task/TID/stat`), or gone.
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return true;
    };
    tasks.flatten().all(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // `PID (COMMAND) STATE ...`: the command may hold spaces and parentheses.
        let state = stat
            .rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next());
        matches!(state, None | Some("T" | "t" | "Z" | "X"))
    })
}
