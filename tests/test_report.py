"""The class report (OUT/report.html): self-contained, escaped, in the batch's language, and working in a real
headless Chromium (Debian's chromium and chromium-driver; the browser tests skip, saying why, without them)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader import batch, report
from grader.feedback import Feedback
from grader.grade import grade_file
from grader.options import Options

from .conftest import SUBMISSIONS

HOSTILE_NAME = "<img src=x onerror=alert(1)>.py"
RAISES_HTML = '\nraise ValueError("<script>alert(2)</script><b onmouseover=alert(3)>x</b>")\n'
MIX = ["bp-torch/correct_seed001_template.py", "bp-torch/seed002_only_w1_zeroed.py", "bp-torch/update_sign_error.py",
       "bp-torch/gradients_never_zeroed.py", "bp-torch/loss_half_applied_twice.py", "bp-torch/correct_list_style.py",
       "bp-torch/relu_correct.py", "bp-torch/notebook_with_magics.ipynb", "bad/corrupted.ipynb", "bad/syntax_error.py"]
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# as root, and with no network: no sandbox, and nothing that phones home
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--window-size=1400,1000"]


@pytest.fixture(scope="module")
def class_of_100(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Feedback]]:
    """A real batch of 100 bp-torch files of mixed quality: right, buggy, broken, a notebook, a file named like an
    HTML tag, one that raises HTML at import."""
    room = tmp_path_factory.mktemp("class") / "submissions"
    room.mkdir()
    template = (SUBMISSIONS / "bp-torch/correct_seed001_template.py").read_text(encoding="utf-8")
    (room / HOSTILE_NAME).write_text(template, encoding="utf-8")
    (room / "raises_html.py").write_text(template + RAISES_HTML, encoding="utf-8")
    for i in range(98):
        src = SUBMISSIONS / MIX[i % len(MIX)]
        shutil.copy(src, room / f"student{i:03d}_{src.name}")
    out = room.parent / "results"
    return out, batch.grade_folder(room, out, Options(assignment="bp-torch"), jobs=2)


class Page(HTMLParser):
    """Every start tag with its attributes, the text, and the script's source."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def test_the_report_is_one_file_that_loads_nothing_and_escapes_what_submissions_say(class_of_100):
    out, results = class_of_100
    html = (out / "report.html").read_text(encoding="utf-8")
    page = Page(html)
    rows = [a for tag, a in page.tags if tag == "tr" and "data-status" in a]
    panels = {a["id"] for tag, a in page.tags if tag == "dialog"}
    assert len(rows) == len(results) == 100 and len(panels) == 100
    links = [a["href"] for tag, a in page.tags if tag == "a"]
    assert {h[1:] for h in links} == panels  # every link opens a panel of this page
    for tag, attrs in page.tags:  # nothing loaded from anywhere, no handler an injection could have added
        assert tag not in ("img", "iframe", "object", "embed", "base", "frame"), tag
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        for key in ("src", "href", "action", "srcset", "data"):
            assert attrs.get(key) is None or attrs[key].startswith(("#", "data:")), (tag, attrs)
    csp = next(a["content"] for tag, a in page.tags if tag == "meta" and a.get("http-equiv") ==
               "Content-Security-Policy")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert len(page.scripts) == 1  # ours, and the policy allows it by its hash: no other script can run
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "<img src=x" not in html and "<script>alert" not in html and "<b onmouseover" not in html
    text = "".join(page.text)
    assert HOSTILE_NAME in text  # shown as the text it is
    raised = results["raises_html"]
    assert "<script>alert(2)</script>" in raised.model_dump_json() and "<script>alert(2)</script>" in text


def test_the_report_counts_what_the_verdicts_say(class_of_100):
    out, results = class_of_100
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    rows = [a for tag, a in page.tags if tag == "tr" and "data-status" in a]
    statuses = [r["data-status"] for r in rows]
    assert statuses.count("error") == sum(fb.status == "error" for fb in results.values()) > 0
    assert statuses.count("pass") == sum(fb.all_passed for fb in results.values()) > 0
    bob = [fb for fb in results.values() if "seed002" in fb.submission]
    assert bob and all(r["data-fails"] == "update" for r, fb in zip(rows, results.values())  # one bug, one check
                       if "seed002" in fb.submission)
    text = "".join(page.text)
    assert f"{len(bob)} submission(s)" in text  # the diagnosis seed 002 gets, with who has it
    assert "Only w1's gradient zeroed after the update" in text
    assert "Most common failures" in text and "Pass rate per check" in text


def test_the_report_speaks_the_batchs_language():
    fbs = {p.stem: grade_file(p, Options(assignment="bp-torch", view="instructor", lang="zh"))
           for p in (SUBMISSIONS / "bp-torch/seed002_only_w1_zeroed.py", SUBMISSIONS / "bad/corrupted.ipynb")}
    html = report.render(fbs, batch.summary(fbs), "zh")
    page = Page(html)
    text = "".join(page.text)
    assert ('html', {'lang': 'zh-Hans'}) in page.tags
    for label in ("全部提交", "各项检查的通过率", "最常见的错误", "诊断出的常见错误", "给定样例上逐轮的训练损失"):
        assert label in text, label
    assert fbs["seed002_only_w1_zeroed"].checks[4].message.splitlines()[0] in text  # the verdict's own words
    assert "Submissions" not in text and "Pass rate" not in text


# ---------------------------------------------------------------- in a real browser


def chromium(profile: Path):
    """Headless Chromium driven by the system chromedriver (selenium finds or fetches nothing itself), its console
    kept; a fresh profile folder. Also used by benchmarks/bench_report.py."""
    from selenium import webdriver

    assert CHROMIUM and CHROMEDRIVER
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver); .ci/run does")
    driver = chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


def _open(browser, out: Path, fragment: str = "") -> None:
    browser.get((out / "report.html").resolve().as_uri() + fragment)
    assert browser.execute_script("return document.readyState") == "complete"


def _errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def _rows(browser) -> list:
    return browser.find_elements("css selector", "#students tbody tr")


def test_in_chromium_one_row_per_submission_and_no_error(browser, class_of_100):
    from selenium.common.exceptions import NoAlertPresentException

    out, results = class_of_100
    _open(browser, out)
    assert len(_rows(browser)) == len(results) == 100
    names = [r.find_element("css selector", "a").text for r in _rows(browser)]
    assert sorted(names) == sorted(fb.submission for fb in results.values())
    assert HOSTILE_NAME in names  # its name as text: no image, no handler ran
    assert browser.execute_script("return document.images.length") == 0
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    browser.save_screenshot(str(out / "report.png"))
    assert (out / "report.png").stat().st_size > 10_000
    assert _errors(browser) == []


def test_in_chromium_sorting_by_score(browser, class_of_100):
    out, results = class_of_100
    _open(browser, out)
    header = browser.find_element("xpath", "//table[@id='students']//th[4]/button")
    assert header.text == "score"

    def scores() -> list[float]:
        return [float(r.find_elements("tag name", "td")[3].get_attribute("data-v")) for r in _rows(browser)]

    everyone = sorted(fb.score for fb in results.values())
    header.click()
    assert scores() == everyone
    header.click()
    assert scores() == everyone[::-1]
    top = _rows(browser)[0].find_elements("tag name", "td")[3].text
    assert top == "10/10"
    assert _errors(browser) == []


def test_in_chromium_a_students_panel_opens_with_every_check(browser, class_of_100):
    out, results = class_of_100
    _open(browser, out)
    key, fb = next((k, fb) for k, fb in results.items() if "seed002" in fb.submission)
    row = next(r for r in _rows(browser) if r.find_element("css selector", "a").text == fb.submission)
    assert browser.execute_script("return document.querySelectorAll('dialog[open]').length") == 0
    row.find_element("css selector", "a").click()
    panel = browser.find_element("css selector", "dialog[open]")
    assert panel.is_displayed() and fb.submission in panel.find_element("tag name", "h2").text
    text = panel.text
    for c in fb.checks:
        assert c.message.splitlines()[0] in text, c.id
    update = next(c for c in fb.checks if c.id == "update")
    assert update.hints[0] in text  # a failed check's hints
    assert len(panel.find_elements("css selector", "svg polyline")) == 2  # the loss curve and the reference's
    assert browser.execute_script("return location.hash") == "#" + panel.get_attribute("id")
    panel.find_element("css selector", "button.close").click()
    assert browser.execute_script("return document.querySelectorAll('dialog[open]').length") == 0
    _open(browser, out, "#s0")  # a link to one student's panel opens it
    assert browser.find_element("css selector", "dialog[open]").get_attribute("id") == "s0"
    assert _errors(browser) == []


def _choose(browser, control: str, value: str) -> int:
    """Set a filter control as a user would (its input event) and count the rows left."""
    browser.execute_script("const c = document.getElementById(arguments[0]); c.value = arguments[1];"
                           "c.dispatchEvent(new Event('input'))", control, value)
    return sum(r.is_displayed() for r in _rows(browser))


def test_in_chromium_filtering(browser, class_of_100):
    out, results = class_of_100
    _open(browser, out)
    browser.find_element("id", "q").send_keys("SEED002")  # typed: case does not matter
    seed002 = sum("seed002" in fb.submission for fb in results.values())
    assert sum(r.is_displayed() for r in _rows(browser)) == seed002 > 0
    assert browser.find_element("id", "shown").text == f"{seed002} of 100 shown"
    assert _choose(browser, "q", "") == 100
    assert _choose(browser, "status", "error") == sum(fb.status == "error" for fb in results.values())
    assert _choose(browser, "status", "") == 100
    failing_update = sum(any(c.id == "update" and c.status in ("fail", "error") for c in fb.checks)
                         for fb in results.values())
    assert _choose(browser, "check", "update") == failing_update > 0
    assert _errors(browser) == []
