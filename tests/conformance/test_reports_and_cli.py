"""Report renderings, the command line, and OAuth 1.0a signing against RFC 5849's own example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote

import pytest

from conformance import cli
from conformance.oauth1 import authorization_header
from conformance.report import render_html
from conformance.runner import FAIL, CheckResult, Context, Exchange, Suite
from tests.conformance import rfc5849 as oauth1
from tests.conformance.csv_packages import build, valid_rows
from tests.conformance.fake_oneroster import KEY, SECRET, FakeOneRoster
from tests.conformance.servers import serve

ROOT = Path(__file__).resolve().parents[2]


def test_rfc5849_signature_base_string():
    """RFC 5849 section 3.4.1.1: query, form body and oauth parameters, %20 for spaces."""
    url = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
    params = (
        parse_qsl(url.split("?", 1)[1], keep_blank_values=True)
        + [("c2", ""), ("a3", "2 q")]
        + [
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
        ]
    )
    assert oauth1.signature_base_string("post", url, params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26"
        "b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26"
        "oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D"
        "137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    )


def test_base_string_uri_normalisation():
    assert (
        oauth1.base_string_uri("HTTP://Example.COM:80/r%20v/X?id=123")
        == "http://example.com/r%20v/X"
    )
    assert (
        oauth1.base_string_uri("https://www.example.net:8080/?q=1")
        == "https://www.example.net:8080/"
    )
    assert oauth1.percent_encode("a b+c~") == "a%20b%2Bc~"


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_runner_signature_agrees_with_the_rfc_reading(method):
    """The runner signs with Authlib; the hand-written RFC 5849 reading gets the same value."""
    url = "http://127.0.0.1:9/ims/oneroster/v1p1/users?filter=givenName%3D%27a+b%27&limit=2"
    header = authorization_header("GET", url, "key 1", "s&cret", signature_method=method)
    fields = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}
    assert fields["oauth_signature_method"] == method and fields["oauth_nonce"]
    params = parse_qsl(url.split("?", 1)[1], keep_blank_values=True) + [
        (k, v) for k, v in fields.items() if k != "oauth_signature"
    ]
    assert ("filter", "givenName='a b'") in params
    assert fields["oauth_signature"] == oauth1.sign("GET", url, params, "s&cret", method)


def _suite_with_failure() -> Suite:
    suite = Suite("Demo", "http://example.test", Context({}))
    suite.results = [
        CheckResult("area one", "passes", "pass"),
        CheckResult("area one", "is skipped", "skip", "no data"),
        CheckResult(
            "area two",
            "fails <b>loudly</b>",
            FAIL,
            "expected 404",
            ["x.csv line 2: bad"],
            [
                Exchange(
                    "GET",
                    "http://example.test/orgs/x",
                    {"Accept": "*/*"},
                    "",
                    200,
                    {"Content-Type": "application/json"},
                    '{"org": "<script>"}',
                )
            ],
        ),
    ]
    return suite


def test_html_report_is_self_contained_and_escaped():
    page = render_html([_suite_with_failure()])
    assert page.startswith("<!DOCTYPE html>")
    # No external assets: no scripts, links or URLs in src/href attributes.
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"""(src|href)\s*=""", page)
    assert not re.search(r"url\(", page)
    # Request/response excerpts of the failure are there, escaped.
    assert "GET http://example.test/orgs/x" in page and "&lt;script&gt;" in page
    assert "fails &lt;b&gt;loudly&lt;/b&gt;" in page
    assert page.index("area one") < page.index("area two")
    assert "x.csv line 2: bad" in page


def test_html_and_json_reports_from_a_real_run(tmp_path, capsys):
    html_path, json_path = tmp_path / "r.html", tmp_path / "r.json"
    with serve(FakeOneRoster({"bad_limit_ok"})) as url:
        code = cli.main(
            [
                "oneroster",
                "--base-url",
                url,
                "--key",
                KEY,
                "--secret",
                SECRET,
                "--html",
                str(html_path),
                "--json",
                str(json_path),
            ]
        )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  [paging] limit 0, negative or non-integer, offset negative → 400 (imsx)" in out
    assert re.search(r"^PASS  \[endpoints\] GET /orgs: ", out, re.M)
    assert out.rstrip().splitlines()[-1].endswith("NOT CONFORMANT")
    report = json.loads(json_path.read_text())
    assert report["summary"]["fail"] == 1 and report["ok"] is False
    page = html_path.read_text()
    assert "limit=0" in page and "<details>" in page
    assert not re.search(r"<(script|link|img)\b|(src|href)\s*=", page)
    assert SECRET not in page and SECRET not in json_path.read_text()


def test_json_to_stdout(tmp_path, capsys):
    code = cli.main(["csv", str(build(tmp_path / "p.zip", valid_rows())), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    assert report["suite"] == "OneRoster v1.1 CSV" and report["ok"] is True
    assert "PASS" in captured.err


def test_python_dash_m_and_usage_errors(tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "conformance", "csv", str(build(tmp_path / "p.zip"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "CONFORMANT" in ok.stdout
    usage = subprocess.run(
        [sys.executable, "-m", "conformance", "oneroster", "--base-url", "http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert usage.returncode == 2 and "--key and --secret, or --token" in usage.stderr


def test_an_unreachable_server_fails_cleanly(run_cli):
    code, checks = run_cli(
        "oneroster", "--base-url", "http://127.0.0.1:9", "--token", "t", "--timeout", "2"
    )
    assert code == 1
    login = checks["credentials are accepted (OAuth 2 token, OAuth 1.0a or bearer)"]
    assert login["status"] == "fail" and "no response" in login["reason"]


def test_several_json_reports_render_as_one_page(tmp_path, capsys):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    rows = valid_rows()
    assert cli.main(["csv", str(build(tmp_path / "ok.zip", rows)), "--json", str(good)]) == 0
    rows["orgs"][0]["type"] = "campus"
    assert cli.main(["csv", str(build(tmp_path / "ko.zip", rows)), "--json", str(bad)]) == 1
    page_path = tmp_path / "all.html"
    capsys.readouterr()
    code = cli.main(["report", str(good), str(bad), "--html", str(page_path)])
    assert code == 1
    page = page_path.read_text()
    assert page.count("<h1>") == 2 and "ok.zip" in page and "ko.zip" in page
    assert "orgs.csv line 2, column 5 (type): &#x27;campus&#x27;" in page
    assert capsys.readouterr().out.count("OneRoster v1.1 CSV:") == 2
