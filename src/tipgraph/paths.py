"""Where the bundled knowledge graph lives: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundle_root() -> Path:
    """The folder that holds ontology/, data/, shapes/ and queries/."""
    installed = _PACKAGE_DIR / "bundle"
    if (installed / "ontology").is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent.parent
    if (checkout / "ontology").is_dir():
        return checkout
    raise FileNotFoundError(
        "tipgraph's bundled ontology/ and data/ were not found next to the package")
