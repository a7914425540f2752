//! Helpers of the web console's browser tests: a real headless Chromium driven over
//! WebDriver (`chromedriver` on a loopback port it picks, one per test) with `fantoccini`,
//! waits for DOM conditions with bounded deadlines, and screenshots saved under
//! `<target>/console-screenshots/`.
//!
//! `cargo xtask test` installs Debian's `chromium` and `chromium-driver` when they are
//! missing and passes their paths in [`CHROMEDRIVER_ENV`] and [`CHROMIUM_ENV`]; without
//! them the tests fail with how to install them (they never skip silently).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// The chromedriver binary (default `/usr/bin/chromedriver`).
pub(crate) const CHROMEDRIVER_ENV: &str = "AUDITRAIL_CHROMEDRIVER";
/// The Chromium binary (default `/usr/bin/chromium`).
pub(crate) const CHROMIUM_ENV: &str = "AUDITRAIL_CHROMIUM";

/// How long any one DOM condition may take to hold.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

const INSTALL: &str = "run the tests with `cargo xtask test` (it installs them), or install \
     them with `apt-get install -y --no-install-recommends chromium chromium-driver`";

/// The flags Chromium needs here: as root (no sandbox), headless, and with none of its
/// background connections (they are refused on a closed network and slow it down).
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
];

fn binary(env: &str, default: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{what} not found at {} (set {env} to its path): {INSTALL}",
        path.display()
    );
    path
}

/// A chromedriver process and the Chromium session it drives. Dropping it (also when a
/// test panics) kills the browser processes of its profile and the driver.
pub(crate) struct Browser {
    pub client: Client,
    driver: Child,
    profile: tempfile::TempDir,
    log: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a loopback port of its choice and a new Chromium session with an
    /// empty profile of its own.
    pub(crate) async fn start() -> Browser {
        let chromedriver = binary(CHROMEDRIVER_ENV, "/usr/bin/chromedriver", "chromedriver");
        let chromium = binary(CHROMIUM_ENV, "/usr/bin/chromium", "chromium");
        let profile = tempfile::tempdir().unwrap();
        let log = profile.path().with_extension("chromedriver.log");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!(
            "--user-data-dir={}",
            profile.path().join("p").display()
        ));
        // Stops the driver should a step below fail.
        let (started, port) = start_driver(&chromedriver, &log);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver did not start a Chromium session: {e}; its log: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Browser {
            client,
            driver: started.take(),
            profile,
            log,
        }
    }

    /// Posts `body` (JSON lines, answered `200`) to the server at `addr`, then opens its
    /// console at `path` in a new browser and waits until the element `#id` is `state`
    /// (`name` names the wait, as in [`Browser::wait_state`]): what a console test does
    /// before it looks.
    pub(crate) async fn posted_and_shown(
        addr: &str,
        body: &str,
        path: &str,
        (name, id, state): (&str, &str, &str),
    ) -> Browser {
        let (status, answer) = crate::serve_support::post_events(addr, body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
        let browser = Browser::start().await;
        browser.open(addr, path).await;
        browser.wait_state(name, id, state).await;
        browser
    }

    /// Opens `http://ADDR/PATH`.
    pub(crate) async fn open(&self, addr: &str, path: &str) {
        self.client
            .goto(&format!("http://{addr}{path}"))
            .await
            .unwrap();
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page.
    pub(crate) async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// The text of every element matching `css`, in document order.
    pub(crate) async fn texts(&self, css: &str) -> Vec<String> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent);",
                vec![json!(css)],
            )
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// The cells' texts of each body row of the table `css`.
    pub(crate) async fn table(&self, css: &str) -> Vec<Vec<String>> {
        let v = self
            .js(
                "const t = document.querySelector(arguments[0]);\
                 return Array.from(t.tBodies[0].rows, r => Array.from(r.cells, c => c.textContent));",
                vec![json!(css)],
            )
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// Waits (bounded by [`DEADLINE`]) until the JavaScript expression `condition`
    /// holds in the page; on timeout saves a screenshot `NAME-timeout` and fails with
    /// `what` and the page's text.
    pub(crate) async fn wait_for(&self, name: &str, what: &str, condition: &str) {
        let script = format!("return !!({condition});");
        let until = Instant::now() + DEADLINE;
        loop {
            if self.js(&script, vec![]).await == Value::Bool(true) {
                return;
            }
            if Instant::now() > until {
                self.screenshot(&format!("{name}-timeout")).await;
                let body = self.js("return document.body.innerText;", vec![]).await;
                panic!(
                    "waited {} s for {what} ({condition}); the page shows:\n{}",
                    DEADLINE.as_secs(),
                    body.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element `#id` has `data-state` = `state`.
    pub(crate) async fn wait_state(&self, name: &str, id: &str, state: &str) {
        self.wait_for(
            name,
            &format!("#{id} to be {state}"),
            &format!("document.getElementById('{id}').dataset.state === '{state}'"),
        )
        .await;
    }

    /// Types `text` into the input `css` (replacing what it holds).
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let input = self.client.find(Locator::Css(css)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Clicks the element `css`.
    pub(crate) async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Saves a screenshot of the viewport as `<target>/console-screenshots/NAME.png`.
    pub(crate) async fn screenshot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            save(name, &png);
        }
    }

    /// Saves a screenshot of the element `css` as `<target>/console-screenshots/NAME.png`.
    pub(crate) async fn screenshot_of(&self, css: &str, name: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        let png = element.screenshot().await.unwrap();
        save(name, &png);
    }

    /// Ends the session (Chromium quits) and stops the driver.
    pub(crate) async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop kills whatever is left.
    }
}

fn save(name: &str, png: &[u8]) {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// `<target>/console-screenshots`: the target folder from `CARGO_TARGET_DIR`, else from
/// this test executable's path (`<target>/<profile>/deps/<test>`).
pub(crate) fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("console-screenshots")
}

/// Kills the driver when the start fails half-way (panics before [`Browser`] exists).
struct DriverGuard(Option<Child>);

impl DriverGuard {
    fn take(mut self) -> Child {
        self.0.take().unwrap()
    }
}

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Browser {
    /// A failed (panicking) test never reaches `close`: kill the Chromium processes of
    /// this test's profile (found by their `--user-data-dir`, so only ours), then the
    /// driver.
    fn drop(&mut self) {
        let marker = format!(
            "--user-data-dir={}",
            self.profile.path().join("p").display()
        );
        for pid in processes_with_arg(&marker) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The ids of the processes one of whose arguments is `arg` exactly.
fn processes_with_arg(arg: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == arg.as_bytes()))
        })
        .collect()
}

/// How many times chromedriver is started before a test gives up (see [`start_driver`]).
const DRIVER_STARTS: u32 = 5;

/// Starts chromedriver on a loopback port of its choice (`--port=0`) and waits for the
/// port it reports. With port 0 chromedriver picks a free port and then binds it, and
/// another test's socket can take the port in between: it then exits ("IPv4 port not
/// available. Exiting...", CI run 46 of 2026-12-05). It is started again then, up to
/// [`DRIVER_STARTS`] times.
fn start_driver(chromedriver: &Path, log: &Path) -> (DriverGuard, u16) {
    let mut attempt = 1;
    loop {
        let driver = Command::new(chromedriver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut started = DriverGuard(Some(driver));
        match reported_port(log, &mut started) {
            Ok(port) => return (started, port),
            Err(text) if attempt < DRIVER_STARTS => {
                eprintln!("chromedriver exited before listening (start {attempt}); again: {text}");
                attempt += 1;
            }
            Err(text) => panic!("chromedriver exited {attempt} times before listening: {text}"),
        }
    }
}

/// The port chromedriver reports in its log ("ChromeDriver was started successfully on
/// port N."), once it listens there; `Err` with its log when it exited without. (A port
/// picked by the test and released before chromedriver binds it could be taken by
/// another socket.)
fn reported_port(log: &Path, driver: &mut DriverGuard) -> Result<u16, String> {
    let until = Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let port = text.lines().find_map(|l| {
            l.split_once("started successfully on port ")
                .and_then(|(_, p)| p.trim().trim_end_matches('.').parse::<u16>().ok())
        });
        if let Some(port) = port {
            return Ok(port);
        }
        let exited = driver
            .0
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
        if exited {
            // Its last words may land after the exit is seen.
            return Err(std::fs::read_to_string(log).unwrap_or(text));
        }
        assert!(
            Instant::now() < until,
            "chromedriver did not report its port; its log: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
