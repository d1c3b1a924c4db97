"""Docs that are generated from the binary must match it."""
import subprocess
import sys
from pathlib import Path

from conftest import PINCER, ROOT


def test_config_reference_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-config-doc.py"), PINCER],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    committed = (ROOT / "docs" / "config-reference.md").read_text()
    assert r.stdout == committed, "run scripts/gen-config-doc.py ./pincer > docs/config-reference.md"


def test_readme_states_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text
    for link in ("docs/config.md", "docs/CODING_STYLE.md", "docs/getting-started.md"):
        assert link in text and (ROOT / link).exists()


def test_relative_links_resolve():
    """Every relative markdown link in README.md and docs/ names a file that exists."""
    import re
    broken = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", md.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (md.parent / target).exists():
                broken.append("%s -> %s" % (md.relative_to(ROOT), target))
    assert not broken, broken
