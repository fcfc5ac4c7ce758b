#!/usr/bin/env python3
"""Headless-Chromium walks through the cloud's pages (Selenium + Debian's chromium-driver).

    drive.py console BASE OUT_DIR USER PASSWORD APPROVE_ID REJECT_ID IMEI
        logs in, sees the public lookup answer "clear", approves one case and rejects another with a
        reason, and sees the lookup answer turn "stolen".
    drive.py check BASE OUT_DIR IMAGE
        uploads a cheque image on the public check page, watches the progress bar reach 100 % and sees
        the annotated image on the result page.

Screenshots go to OUT_DIR. Exits non-zero with a message on the first thing that is not as expected.
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1200,1600", "--lang=en-US"):
        opts.add_argument(a)
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=opts)


def shot(d, out, name):
    path = os.path.join(out, name + ".png")
    d.save_screenshot(path)
    print("screenshot", path)


def lookup(d, base, imei):
    d.get(f"{base}/api/v1/lookup?imei={imei}")
    return json.loads(d.find_element(By.TAG_NAME, "body").text)["status"]


def expect(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def console(base, out, user, password, approve_id, reject_id, imei):
    d = browser()
    wait = WebDriverWait(d, 30)
    try:
        expect(lookup(d, base, imei) == "clear", "the IMEI is clear before the approval")
        d.get(f"{base}/admin")
        wait.until(EC.presence_of_element_located((By.ID, "username")))
        expect("/admin/login" in d.current_url, "the console sends a stranger to the login page")
        d.find_element(By.ID, "username").send_keys(user)
        d.find_element(By.ID, "password").send_keys(password)
        shot(d, out, "01-login")
        d.find_element(By.ID, "login").click()
        wait.until(EC.presence_of_element_located((By.ID, f"case-{approve_id}")))
        shot(d, out, "02-queue")
        expect(d.find_elements(By.ID, f"case-{reject_id}"), "both cases are queued")

        case = d.find_element(By.ID, f"case-{approve_id}")
        case.find_element(By.NAME, "reason").send_keys("GD copy confirmed with the thana")
        case.find_element(By.CSS_SELECTOR, "button.approve").click()
        wait.until(EC.staleness_of(case))
        wait.until(lambda d: not d.find_elements(By.ID, f"case-{approve_id}"))
        shot(d, out, "03-approved")

        case = d.find_element(By.ID, f"case-{reject_id}")
        case.find_element(By.NAME, "reason").send_keys("the GD number belongs to another case")
        case.find_element(By.CSS_SELECTOR, "button.reject").click()
        wait.until(EC.staleness_of(case))
        wait.until(lambda d: not d.find_elements(By.ID, f"case-{reject_id}"))
        shot(d, out, "04-rejected")

        d.get(f"{base}/admin/audit")
        text = d.find_element(By.ID, "audit").text
        expect("approved" in text and "rejected" in text, "the audit log shows both decisions")
        shot(d, out, "05-audit")
        d.get(f"{base}/admin/audit?lang=bn")
        expect("নিরীক্ষা" in d.page_source, "the console speaks Bengali")
        shot(d, out, "06-audit-bn")

        expect(lookup(d, base, imei) == "stolen", "the approved IMEI is stolen in the public lookup")
        shot(d, out, "07-lookup-stolen")
    finally:
        d.quit()


def check(base, out, image):
    d = browser()
    wait = WebDriverWait(d, 30)
    try:
        d.get(f"{base}/check")
        Select(d.find_element(By.ID, "kind")).select_by_value("cheque")
        d.find_element(By.ID, "file").send_keys(os.path.abspath(image))
        shot(d, out, "11-check-form")
        d.find_element(By.ID, "send").click()
        seen = []
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                v = d.execute_script("const b = document.getElementById('bar'); return b ? b.value : null;")
            except Exception:
                v = None
            if v is None and "/check/" in d.current_url:
                break
            if v is not None and (not seen or seen[-1] != v):
                seen.append(v)
                if v == 100:
                    shot(d, out, "12-progress-100")
            time.sleep(0.02)
        print("progress bar values:", seen)
        expect(seen and seen[-1] == 100, f"the progress bar reaches 100 % (saw {seen})")
        expect(all(a <= b for a, b in zip(seen, seen[1:])), f"the bar only moves forward ({seen})")
        wait.until(EC.presence_of_element_located((By.ID, "annotated")))
        wait.until(lambda d: d.execute_script(
            "const i = document.getElementById('annotated'); return i.complete && i.naturalWidth > 0;"))
        expect(d.find_element(By.ID, "verdict").text, "the verdict is shown")
        expect(d.find_elements(By.ID, "original"), "the original is shown beside it")
        expect(d.find_element(By.ID, "raw").get_attribute("download"), "raw JSON can be downloaded")
        shot(d, out, "13-result")
    finally:
        d.quit()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    os.makedirs(args[1], exist_ok=True)
    {"console": console, "check": check}[mode](*args)
    print("ok")
