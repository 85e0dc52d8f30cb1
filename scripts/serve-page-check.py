#!/usr/bin/env python3
"""Drives the page of `bandsaw serve` in a real headless Chromium (Selenium, Debian's chromedriver).

usage: serve-page-check.py URL IMAGE BAD_FILE DOWNLOAD_DIR

Loads the page, waits for the filters from /v1/ops, adds a gaussian:sigma=2 stage after the
default sobel, chooses IMAGE, submits, waits for the output beside the input with the phase
table, downloads the result into DOWNLOAD_DIR; then submits BAD_FILE and reads the error shown.
Prints one JSON object with what it saw (the Swift test ServeTests checks it).
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def main():
    url, image, bad, downloads = sys.argv[1:5]
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    seen = {}
    try:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        wait = WebDriverWait(driver, 60)
        driver.get(url)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#filter option")) > 0)
        seen["filters"] = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#filter option")]
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#stages .stage")) == 1)
        Select(driver.find_element(By.ID, "filter")).select_by_value("gaussian")
        driver.find_element(By.ID, "add").click()
        sigma = driver.find_element(By.CSS_SELECTOR, "#stages .stage:nth-child(2) input[name=sigma]")
        sigma.clear()
        sigma.send_keys("2")
        seen["stages"] = [s.get_attribute("data-name") for s in driver.find_elements(By.CSS_SELECTOR, "#stages .stage")]

        driver.find_element(By.ID, "file").send_keys(image)
        wait.until(lambda d: d.execute_script("return document.getElementById('input-image').naturalWidth") > 0)
        driver.find_element(By.ID, "submit").click()
        wait.until(lambda d: d.find_element(By.ID, "status").text in ("done", "") and
                   (d.find_element(By.ID, "error").text or
                    d.execute_script("return document.getElementById('output-image').naturalWidth") > 0))
        seen["error_after_good"] = driver.find_element(By.ID, "error").text
        seen["input_width"] = driver.execute_script("return document.getElementById('input-image').naturalWidth")
        seen["output_width"] = driver.execute_script("return document.getElementById('output-image').naturalWidth")
        seen["phases"] = [r.find_element(By.CSS_SELECTOR, "td").text
                          for r in driver.find_elements(By.CSS_SELECTOR, "#phases tbody tr")]
        seen["side_by_side"] = driver.execute_script(
            "const a = document.getElementById('input-image').getBoundingClientRect();"
            "const b = document.getElementById('output-image').getBoundingClientRect();"
            "return b.left >= a.right && Math.abs(a.top - b.top) < 40;")

        link = driver.find_element(By.ID, "download")
        seen["download_name"] = link.get_attribute("download")
        link.click()
        target = os.path.join(downloads, seen["download_name"])
        deadline = time.time() + 30
        while time.time() < deadline and not os.path.exists(target):
            time.sleep(0.1)
        seen["downloaded"] = target if os.path.exists(target) else None

        driver.find_element(By.ID, "file").send_keys(bad)
        driver.find_element(By.ID, "submit").click()
        wait.until(lambda d: d.find_element(By.ID, "error").text != "")
        seen["error_after_bad"] = driver.find_element(By.ID, "error").text
    finally:
        driver.quit()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
