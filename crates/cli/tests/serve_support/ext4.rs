//! A real ext4 file system on a loop device, mounted in a private mount namespace held
//! by a child process, for tests of what the server does when its disk misbehaves (an
//! error that turns the file system read-only, a power cut). Needs root; the tests say
//! so and check nothing otherwise.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether this process may mount a loop device.
pub(crate) fn can_mount() -> bool {
    rustix::process::geteuid().as_raw() == 0
}

/// A disk for a power-cut test: a temp folder holding an ext4 image, mounted at
/// `mnt` with `data=writeback` (a file's data reaches the disk only when that file is
/// synced, as on XFS, not with another file's journal commit).
pub(crate) struct Disk {
    pub dir: tempfile::TempDir,
    pub image: PathBuf,
    /// Where the image is mounted, inside the namespace.
    pub mnt: PathBuf,
}

impl Disk {
    /// A new disk of `bytes`, mounted; `None` (said on stderr) when this process may
    /// not mount a loop device (not root), so that the test checks nothing.
    pub(crate) fn new(bytes: u64) -> Option<(Disk, Ext4)> {
        if !can_mount() {
            eprintln!("not root: cannot mount a loop device; nothing checked");
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
    pub(crate) fn power_cut_and_boot(&self, ns: Ext4) -> Ext4 {
        ns.power_cut();
        self.boot(ns)
    }

    /// The boot after a power cut of `ns` (every process in it must have ended).
    pub(crate) fn boot(&self, ns: Ext4) -> Ext4 {
        ns.unmount();
        Ext4::mount(&self.image, &self.mnt, "data=writeback")
    }
}

/// A process holding a private mount namespace where an ext4 image is mounted.
pub(crate) struct Ext4 {
    holder: Child,
    /// The loop device's name (`loop3`).
    pub device: String,
    /// Where the image is mounted, inside the namespace.
    pub dir: PathBuf,
}

impl Ext4 {
    /// A new ext4 file system of `bytes` in `image`, mounted at `dir` with `options`
    /// (`-o loop,OPTIONS`).
    pub(crate) fn create(image: &Path, bytes: u64, dir: &Path, options: &str) -> Ext4 {
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
    pub(crate) fn mount(image: &Path, dir: &Path, options: &str) -> Ext4 {
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
        }
    }

    /// The command prefix that runs a program inside the namespace.
    pub(crate) fn enter(&self) -> Vec<String> {
        let pid = self.holder.id().to_string();
        ["nsenter", "-t", &pid, "-m", "--"]
            .map(str::to_owned)
            .to_vec()
    }

    /// `auditrail ARGS` run inside the namespace, fed `stdin`.
    pub(crate) fn run_auditrail(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.holder.id().to_string(), "-m", "--"])
            .arg(auditrail_testkit::server::auditrail_bin())
            .args(args);
        crate::common::output_fed(cmd, stdin)
    }

    /// `path` under the mount as this process can read it (through the holder's root).
    pub(crate) fn outside(&self, path: &Path) -> PathBuf {
        let inside = path.strip_prefix("/").unwrap_or(path);
        Path::new(&format!("/proc/{}/root", self.holder.id())).join(inside)
    }

    /// An error as the file system would record it after a failed write
    /// (`/sys/fs/ext4/<dev>/trigger_fs_error`).
    pub(crate) fn fail(&self) {
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
    pub(crate) fn power_cut(&self) {
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

    /// Ends the namespace (the file system is unmounted with it) and waits until the
    /// loop device has let the image go, so that it can be mounted again.
    pub(crate) fn unmount(mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let backing = format!("/sys/block/{}/loop/backing_file", self.device);
        for _ in 0..200 {
            if !Path::new(&backing).exists() {
                return;
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
