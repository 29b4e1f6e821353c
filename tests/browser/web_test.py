#!/usr/bin/env python3
"""The web page of `flowrepo serve` in a real browser.

Makes a repository with the command line (groups with sub-groups, a flow
using another as a subflow, a package whose flows need two topics mapped
and a credential bound, a viewer), starts `flowrepo serve --listen
127.0.0.1:0`, and drives Debian's headless chromium through chromium-driver:

  1. log in with an admin's API token;
  2. check the group Finance, uncheck aml-screening inside it, see the
     dependency the policy adds back when a used flow is unchecked, export,
     and check the downloaded package's zip entries;
  3. import a package into workspace prod: map its two topics, override
     the flow it shares, import onto a draft, bind the credential, publish,
     and see the new version in the flow's history;
  4. log in as a viewer: no checkbox, export, import, revert, copy or
     publish control.

Each step's screenshot goes to --screenshots as NN-step.png. Anything that
does not start (chromium, chromedriver, the server) fails the test: it is
never skipped. The whole run has a 120 s budget.
"""

import argparse
import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BUDGET_S = 120
ADMIN = "alice@example.com"
VIEWER = "vera@example.com"


class Failure(Exception):
    """A check that failed: the message says what was expected."""


class Run:
    def __init__(self, args):
        self.flowrepo = args.flowrepo
        self.source = pathlib.Path(args.source)
        self.shots = pathlib.Path(args.screenshots)
        self.deadline = time.monotonic() + BUDGET_S
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="flowrepo-web-test-"))
        self.repo = self.tmp / "repo"
        self.downloads = self.tmp / "downloads"
        self.downloads.mkdir()
        self.server = None
        self.driver = None
        self.url = None
        self.step = 0

    # ------------------------------------------------------------ helpers

    def left(self):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise Failure(f"the {BUDGET_S} s budget is spent")
        return remaining

    def cli(self, *args, ws=None, user=ADMIN):
        argv = [self.flowrepo, "-C", str(self.repo), "--user", user]
        if ws:
            argv += ["-w", ws]
        r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=self.left())
        if r.returncode != 0:
            raise Failure(f"flowrepo {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def cli_json(self, *args, ws=None, user=ADMIN):
        return json.loads(self.cli(*args, "--json", ws=ws, user=user))

    def wait(self, condition, what):
        try:
            return WebDriverWait(self.driver, min(self.left(), 30)).until(lambda d: condition(d))
        except TimeoutException:
            error = self.text_of("#error")
            raise Failure(f"timed out waiting for {what}" + (f" (the page says: {error})" if error else ""))

    def find(self, css):
        return self.wait(lambda d: _visible(d, css), f"'{css}'")

    def gone(self, css):
        return not any(e.is_displayed() for e in self.driver.find_elements(By.CSS_SELECTOR, css))

    def text_of(self, css):
        try:
            found = self.driver.find_elements(By.CSS_SELECTOR, css)
            return found[0].text if found and found[0].is_displayed() else ""
        except Exception:  # the browser may be gone already
            return ""

    def shot(self, name):
        self.step += 1
        path = self.shots / f"{self.step:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        print(f"screenshot {path}")

    def check(self, condition, message):
        if not condition:
            raise Failure(message)

    # ---------------------------------------------------------------- set up

    def make_repository(self):
        r = subprocess.run([self.flowrepo, "--user", ADMIN, "init", str(self.repo)], capture_output=True, text=True,
                           timeout=self.left())
        if r.returncode != 0:
            raise Failure(f"flowrepo init failed: {r.stderr}")
        self.cli("flow", "put", "--draft", "initial", str(self.source / "fixtures" / "flows"))
        self.cli("publish", "--draft", "initial", "-m", "first")
        self.cli("role", "grant", VIEWER, "viewer")
        # prod lists its topics (main lists none: any topic goes), names the
        # two support topics otherwise and lacks ticket-triage: a package of
        # ticket-triage and aml-screening from main needs both topics
        # mapped, overrides aml-screening and leaves its credential to bind.
        self.cli("workspace", "create", "prod", "--from", "main")
        self.cli("flow", "rm", "ticket-triage", "--draft", "setup", ws="prod")
        self.cli("settings", "topic", "add", "helpdesk.in,helpdesk.out,compliance.alerts", "--draft", "setup",
                 ws="prod")
        self.cli("publish", "--draft", "setup", "-m", "prod topics", ws="prod")
        self.package = self.tmp / "incoming.studiopkg"
        self.cli("export", "ticket-triage,aml-screening", "-o", str(self.package))
        self.admin_token = self.cli_json("serve", "token", "add", ADMIN)["token"]
        self.viewer_token = self.cli_json("serve", "token", "add", VIEWER)["token"]

    def start_server(self):
        self.server_log = open(self.tmp / "serve.log", "w")
        self.server = subprocess.Popen([self.flowrepo, "-C", str(self.repo), "serve", "--listen", "127.0.0.1:0"],
                                       stdout=subprocess.PIPE, stderr=self.server_log, stdin=subprocess.DEVNULL,
                                       text=True)
        ready, _, _ = select.select([self.server.stdout], [], [], min(self.left(), 30))
        line = self.server.stdout.readline().strip() if ready else ""
        prefix = "listening on "
        if not line.startswith(prefix):
            raise Failure(f"flowrepo serve did not start: '{line}' {(self.tmp / 'serve.log').read_text()}")
        self.url = line[len(prefix):]

    def start_browser(self):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--no-first-run", "--disable-extensions"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(self.downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
        })
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(self.downloads)})

    # ----------------------------------------------------------------- steps

    def log_in(self, token):
        box = self.find("#login-token")
        box.clear()
        box.send_keys(token)
        self.driver.find_element(By.ID, "login-submit").click()
        self.find("#tree")

    def log_out(self):
        self.driver.find_element(By.ID, "logout").click()
        self.find("#login-token")

    def state_of(self, kind, key):
        box = self.driver.find_element(By.CSS_SELECTOR, f'input[data-{kind}="{key}"]')
        return box.get_attribute("data-state")

    def click_check(self, kind, key, expect):
        self.driver.find_element(By.CSS_SELECTOR, f'input[data-{kind}="{key}"]').click()
        self.wait(lambda d: self.state_of(kind, key) == expect, f"{kind} {key} to be {expect}")

    def summary_flows(self):
        items = self.driver.find_elements(By.CSS_SELECTOR, "#summary-flows li")
        return sorted(i.get_attribute("data-flow") for i in items)

    def export_selection(self):
        self.driver.get(self.url + "/")
        self.find("#login-token")
        self.shot("login")
        self.log_in(self.admin_token)
        self.shot("tree")

        want = ["banking-assistant", "kyc-check"]
        # A checked flow that uses another: the include policy adds it.
        self.click_check("group", "Finance/Retail", "explicit")
        self.check(self.state_of("flow", "banking-assistant") == "implicit", "banking-assistant is not implicit")
        self.wait(lambda d: "kyc-check" in self.text_of("#summary-added"), "the summary to show kyc-check added")
        self.check(self.summary_flows() == want, f"the summary lists {self.summary_flows()}, not {want}")
        self.shot("dependency-added-by-policy")
        self.click_check("group", "Finance/Retail", "none")

        self.click_check("group", "Finance", "explicit")
        for flow in ("kyc-check", "aml-screening", "banking-assistant"):
            self.check(self.state_of("flow", flow) == "implicit", f"{flow} is not implicit under Finance")
        self.check(self.state_of("group", "Finance/Compliance") == "implicit", "Finance/Compliance is not implicit")
        row = self.driver.find_element(By.CSS_SELECTOR, 'input[data-flow="kyc-check"]').find_element(By.XPATH, "..")
        self.check("(in group)" in row.text, f"an implicit flow is not shown as such: '{row.text}'")
        self.click_check("flow", "aml-screening", "excluded")
        self.wait(lambda d: self.summary_flows() == want and not self.text_of("#summary-added"),
                  f"the summary to list {want}")
        self.shot("group-checked-one-flow-unchecked")

        self.driver.find_element(By.ID, "export-button").click()
        package = self.downloads / "export.studiopkg"
        self.wait(lambda d: package.exists() and not list(self.downloads.glob("*.crdownload")),
                  f"the download {package}")
        self.find("#notice")
        self.shot("exported")
        with zipfile.ZipFile(package) as z:
            names = z.namelist()
            manifest = json.loads(z.read("manifest.json"))
        folders = sorted({n.split("/")[-2] for n in names if n.startswith("flows/") and n.count("/") >= 2})
        self.check(folders == want, f"the package holds {folders}, not {want}: {names}")
        for flow, group in (("kyc-check", "Finance/Compliance"), ("banking-assistant", "Finance/Retail")):
            entry = f"flows/{group}/{flow}/flow_definition.json"
            self.check(entry in names, f"{entry} is not in the package: {names}")
        self.check(not any("aml-screening" in n for n in names), f"aml-screening was exported: {names}")
        self.check(sorted(f["id"] for f in manifest["flows"]) == want, f"manifest flows: {manifest['flows']}")

    def import_package(self):
        before = max((v["version"] for v in self.cli_json("history", "aml-screening", ws="prod")["versions"]), default=0)
        Select(self.driver.find_element(By.ID, "workspace-picker")).select_by_value("prod")
        self.wait(lambda d: d.current_url.endswith("#/ws/prod"), "workspace prod")
        import_link = self.find("#nav-import")
        import_link.click()
        self.find("#import-file").send_keys(str(self.package))
        self.driver.find_element(By.ID, "inspect-button").click()
        self.find("#topic-map")
        topics = sorted(s.get_attribute("data-topic")
                        for s in self.driver.find_elements(By.CSS_SELECTOR, "#topic-map select"))
        self.check(topics == ["compliance.alerts", "support.routed", "support.tickets"], f"topics to map: {topics}")
        Select(self.driver.find_element(By.CSS_SELECTOR, 'select[data-topic="support.tickets"]')).select_by_value(
            "helpdesk.in")
        Select(self.driver.find_element(By.CSS_SELECTOR, 'select[data-topic="support.routed"]')).select_by_value(
            "helpdesk.out")
        mode = Select(self.driver.find_element(By.ID, "import-mode"))
        self.check(mode.first_selected_option.get_attribute("value") == "override-existing",
                   "override is not offered for the flow prod has")
        self.shot("package-checked-topics-mapped")

        self.driver.find_element(By.ID, "dry-run-button").click()
        self.find("#plan-flows")
        actions = {r.get_attribute("data-flow"): r.text
                   for r in self.driver.find_elements(By.CSS_SELECTOR, "#plan-flows tr[data-flow]")}
        self.check("overridden" in actions.get("aml-screening", ""), f"dry run: {actions}")
        self.check("added" in actions.get("ticket-triage", ""), f"dry run: {actions}")
        self.check("support.tickets → helpdesk.in" in actions.get("ticket-triage", ""), f"dry run: {actions}")
        self.shot("dry-run")

        self.wait(lambda d: d.find_element(By.ID, "import-button").is_enabled(), "the import button")
        self.driver.find_element(By.ID, "import-button").click()
        self.find("#bind-table")
        self.check(not self.driver.find_element(By.ID, "import-button").is_enabled(), "Import stays enabled after import")
        nodes = self.driver.find_elements(By.CSS_SELECTOR, "#bind-table input[data-node]")
        self.check([n.get_attribute("data-node") for n in nodes] == ["screen"], "credentials to bind: " +
                   str([n.get_attribute("data-node") for n in nodes]))
        nodes[0].send_keys("screening-eu")  # main has screening-prod: a change
        self.shot("bind")
        self.driver.find_element(By.ID, "bind-button").click()
        self.find("#bind-done")
        publish = self.find('#publish-step button[data-role="publish"]')
        self.driver.find_element(By.CSS_SELECTOR, '#publish-step input[data-role="note"]').send_keys("from the web")
        self.shot("ready-to-publish")
        publish.click()
        self.find("#published")
        self.shot("published")

        link = self.driver.find_element(By.XPATH, "//div[@id='published']//a[starts-with(text(), 'aml-screening ')]")
        link.click()
        new = before + 1
        self.find(f'#history tr[data-version="{new}"]')
        latest = self.driver.find_element(By.CSS_SELECTOR, "input[name=version]:checked").get_attribute("value")
        self.check(latest == str(new), f"the latest version preselected is v{latest}, not v{new}")
        row = self.driver.find_element(By.CSS_SELECTOR, f'#history tr[data-version="{new}"]').text
        self.check("from the web" in row, f"history row: {row}")
        self.shot("history-shows-new-version")
        published = max(v["version"] for v in self.cli_json("history", "aml-screening", ws="prod")["versions"])
        self.check(published == new, f"the command line sees v{published}, not v{new}")

    def viewer_sees_no_controls(self):
        self.log_out()
        self.driver.get(self.url + "/#/ws/main")  # the viewer has no role in prod
        self.log_in(self.viewer_token)
        self.check("viewer" in self.text_of("#who-role"), f"role shown: {self.text_of('#who-role')}")
        self.check(not self.driver.find_elements(By.CSS_SELECTOR, "#tree input[type=checkbox]"), "a viewer has checks")
        self.check(not self.driver.find_elements(By.ID, "export-button"), "a viewer has an Export button")
        self.check(self.gone("#nav-import"), "a viewer has an Import link")
        self.shot("viewer-tree")
        # The API refuses the viewer anyway, even with the session's CSRF token.
        status = self.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch('/api/v1/workspaces/main/export', {method: 'POST', headers: {'Content-Type': 'application/json',
                  'X-CSRF-Token': state.csrf}, body: JSON.stringify({groups: ['Finance']})})
              .then((r) => r.json().then((j) => done([r.status, j.error.code])), (e) => done([0, String(e)]));""")
        self.check(status == [403, "permission-denied"], f"a viewer's export was answered {status}")
        self.driver.find_element(By.LINK_TEXT, "KYC Check").click()
        self.find("#history")
        for control in ("#export-version", "#revert", "#copy-button", 'button[data-role="publish"]', "#import-file"):
            self.check(not self.driver.find_elements(By.CSS_SELECTOR, control), f"a viewer sees {control}")
        self.shot("viewer-flow")

    def run(self):
        self.shots.mkdir(parents=True, exist_ok=True)
        for old in self.shots.glob("*.png"):
            old.unlink()
        self.make_repository()
        self.start_server()
        self.start_browser()
        self.export_selection()
        self.import_package()
        self.viewer_sees_no_controls()

    def close(self, failed):
        if failed and self.driver:
            try:
                self.driver.save_screenshot(str(self.shots / "failure.png"))
                print(f"screenshot {self.shots / 'failure.png'}")
            except Exception:
                pass
        if self.driver:
            self.driver.quit()
        if self.server:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
            self.server_log.close()
            if failed:
                print("server log:\n" + (self.tmp / "serve.log").read_text()[-4000:])
        if failed:
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _visible(driver, css):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found and found[0].is_displayed() else False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flowrepo", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--screenshots", required=True)
    run = Run(parser.parse_args())
    failed = True
    try:
        run.run()
        failed = False
    except Failure as e:
        print(f"FAILED: {e}")
    except Exception:  # chromium, chromedriver or the server did not start, or the page broke
        traceback.print_exc()
    finally:
        run.close(failed)
    print("1 passed, 0 failed" if not failed else "0 passed, 1 failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
