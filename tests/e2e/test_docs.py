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
