"""The documentation as a user reads it: its code runs, and the built site is complete offline."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")  # moto never calls AWS; boto3 wants credentials
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def test_compliance_page_report_only_mode_lists_every_finding(tmp_path):
    usage = importlib.import_module("examples.snippets.compliance_usage")
    report = usage.report_only(str(tmp_path))
    assert sorted(f.rule for f in report.findings) == sorted([
        "AwsSolutions-KMS5", "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
        "NIST.800.53.R5-KMSBackingKeyRotationEnabled", "PCI.DSS.321-KMSBackingKeyRotationEnabled",
    ])  # the five findings docs/compliance.md names


def test_compliance_page_fixed_and_acknowledged_queue_synthesizes_with_the_reason_in_the_report(tmp_path):
    usage = importlib.import_module("examples.snippets.compliance_usage")
    report = usage.enforced(str(tmp_path))  # would raise on any open finding
    assert report.clean
    assert [(f.rule, f.path) for f in report.acknowledged] == [("Serverless-SQSRedrivePolicy", "Jobs/DeadLetters/Resource")]
    assert "dead-letter queue has no dead-letter queue" in report.acknowledged[0].reason


def test_acknowledge_refuses_an_empty_reason_and_an_unknown_pack():
    from aws_cdk import App, Stack

    from serverless_patterns.compliance import acknowledge

    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match="reason is required"):
        acknowledge(stack, "AwsSolutions-S1", " ")
    with pytest.raises(ValueError, match="names no known pack"):
        acknowledge(stack, "Nope-S1", "because")


def test_emulator_page_registers_a_document_through_the_emulated_api():
    usage = importlib.import_module("examples.snippets.emulator_usage")
    status, body = usage.run()
    assert status == 201, body
    assert body["upload"]["url"] and body["upload"]["fields"]["key"].startswith(f"documents/{body['document_id']}/")


# ---- the built site, offline -----------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_APPS = sorted(p.parent.name for p in (ROOT / "examples").glob("*/app.py"))


def _offline_prefix() -> list[str]:
    """``unshare --net`` (no network at all) where the machine allows it; proxies that refuse otherwise."""
    if shutil.which("unshare") and subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0:
        return ["unshare", "--net"]
    return []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """``mkdocs build --strict`` with no network and no test results: every generated part comes from the build."""
    out = tmp_path_factory.mktemp("site")
    dead = "http://127.0.0.1:9"  # nothing listens: any download attempt fails
    env = {**os.environ, "SERVERLESS_PATTERNS_COMPLIANCE_RESULTS": str(out / "no-results.json"),
           "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead, "NO_PROXY": ""}
    result = subprocess.run(
        [*_offline_prefix(), sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return out / "site"


def _pages(site: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in site.rglob("index.html") if p.parent != site / "404"}


def _article_text(html: str) -> str:
    article = re.search(r'<article class="md-content__inner[^"]*">(.*?)</article>', html, re.S)
    assert article, "no article"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", article.group(1))).strip()


def test_every_page_has_content_no_placeholder_and_no_empty_include(site):
    pages = _pages(site)
    assert len(pages) >= len(yaml_nav_pages()), sorted(str(p) for p in pages)
    for path, html in pages.items():
        text = _article_text(html)
        name = path.parent.relative_to(site)
        assert len(text) > 400, f"{name}: only {len(text)} characters"
        for marker in ("No results yet", "--8<--", "compliance-results", "cost-figures", "least-privilege-results", "TODO"):
            assert marker not in text, f"{name}: {marker!r}"
        assert not re.search(r"<code>\s*</code>", html), f"{name}: an empty code block (an include that found nothing)"
        assert 'class="mermaid"' not in html, f"{name}: Mermaid needs a script from a CDN"


def test_security_page_is_checked_by_the_docs_build_itself(site):
    page = (site / "security" / "index.html").read_text()
    assert "Checked by this documentation build" in page
    for app in EXAMPLE_APPS:
        row = re.search(rf"<tr>\s*<td><code>examples/{app}</code></td>(.*?)</tr>", page, re.S)
        assert row, app
        assert "<strong>" not in row.group(1), f"{app} has unacknowledged findings"  # open counts are bold


def _rows(html: str) -> list[list[str]]:
    """Every table row of a page, as the text of its cells."""
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL)]


def test_cost_page_figures_are_priced_by_the_docs_build_for_every_example_app(site):
    from serverless_patterns.cost import PRICES_AS_OF

    page = (site / "cost" / "index.html").read_text()
    assert "Priced by this documentation build" in page and PRICES_AS_OF in page
    money = re.compile(r"\$\d[\d,]*\.\d{2,4}")
    rows = {(row[0], row[1]): row for row in _rows(page) if len(row) == 6 and row[0] in EXAMPLE_APPS}
    assert {app for app, _ in rows} == set(EXAMPLE_APPS)
    for (app, stacks), row in rows.items():
        assert money.fullmatch(row[2]) and money.fullmatch(row[3]), (app, row)  # idle year 1 and year 3+
    flagship = {stacks.split("-")[0]: row for (app, stacks), row in rows.items() if app == "document_pipeline"}
    assert {"dev", "prod"} <= set(flagship)
    for configuration in ("dev", "prod"):
        assert money.fullmatch(flagship[configuration][4]), flagship[configuration]  # per 1,000 documents
    idle = {c: float(flagship[c][2].lstrip("$").replace(",", "")) for c in ("dev", "prod")}
    assert 0 < idle["dev"] < idle["prod"], idle  # prod adds the VPC endpoints, the trail and the WAF
    assert "AWS::KMS::Key" in page and "Largest per-document charges" in page


def test_least_privilege_page_shows_each_flagship_function_from_the_committed_record(site):
    page = (site / "least_privilege" / "index.html").read_text()
    text = _article_text(page)
    assert "Recorded from the dev configuration of the flagship" in text
    for handler in ("api_key_authorizer", "documents_api", "document_processor", "document_notifier"):
        assert re.search(rf'<h2 id="{handler}"', page), f"no section for {handler}"
    rows = _rows(page)
    assert any(row[:2] == ["presigned", "s3:PutObject"] for row in rows), "the recorded calls"
    assert any(len(row) == 3 and row[0] == "logs:PutLogEvents" and "Lambda runtime" in row[2] for row in rows), "a reason"
    assert sum(1 for row in rows if len(row) == 3 and row[2] == "yes") >= 20, "the used permissions"


def test_each_diagram_is_a_self_contained_svg_embedded_in_its_page(site):
    embedded = {}
    for path, html in _pages(site).items():
        for src in re.findall(r'<img[^>]+src="([^"]+\.svg)"', html):
            embedded[(path.parent / src).resolve()] = path
    for app in EXAMPLE_APPS:
        svg_path = (site / "diagrams" / f"{app}.svg").resolve()
        svg = svg_path.read_text()
        assert "<svg" in svg and "</svg>" in svg, app
        assert "data:image/png;base64," in svg, f"{app}: no icons"
        assert not re.search(r'href="(?!data:|#)', svg), f"{app}: refers to a file or URL outside itself"
        assert svg_path in embedded, f"{app}.svg is on no page"
    flagship = (site / "document_pipeline" / "index.html").resolve()
    assert embedded[(site / "diagrams" / "document_pipeline.svg").resolve()] in {flagship, (site / "examples" / "index.html").resolve()}
    assert 'src="../diagrams/document_pipeline.svg"' in flagship.read_text()


def test_every_internal_link_and_anchor_resolves(site):
    broken = []
    for path in site.rglob("*.html"):
        html = path.read_text()
        for target in re.findall(r'(?:href|src)="([^"]+)"', html):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
                continue  # external, data: or mailto:
            url, _, fragment = target.partition("#")
            base = site if url.startswith("/") else path.parent  # 404.html links from the site root
            file = (base / url.split("?")[0].lstrip("/")).resolve() if url else path
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                broken.append(f"{path.relative_to(site)}: {target}")
            elif fragment and file.suffix == ".html" and f'id="{fragment}"' not in file.read_text():
                broken.append(f"{path.relative_to(site)}: {target} (no such anchor)")
    assert not broken, "\n".join(broken)


def test_committed_diagrams_match_the_example_apps():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "diagram_svg.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]


def yaml_nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text()
    return re.findall(r":\s+([a-z_]+\.md)$", text, re.M)


def test_every_included_file_is_also_linked_for_readers_of_the_raw_markdown():
    """On GitHub an include is a bare ``--8<--`` line: the page links the file it includes."""
    unlinked = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text()
        for included in sorted(set(re.findall(r'--8<-- "([^":]+)(?::[a-z_]+)?"', text))):
            url = f"https://github.com/serverless-patterns/serverless-patterns/blob/main/{included}"
            if url not in text:
                unlinked.append(f"{page.name}: {included}")
    assert not unlinked, "\n".join(unlinked)
