"""Optional C speedups: every ``hrviz/**/_c*.c`` becomes the extension module of the same dotted name.

Each one has a pure-Python twin that gives the very same results (tests hold them equal); the C one
only makes ingest's per-reading loops cheaper. ``optional=True``: without a compiler the install
still succeeds and hrviz runs on the Python code (``hrviz.core.speedups`` says which is in use).
Everything else about the package is in pyproject.toml.
"""

from pathlib import Path

from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent
SOURCES = sorted(p.relative_to(ROOT) for p in (ROOT / "hrviz").rglob("_c*.c"))
HEADERS = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "hrviz").rglob("_c*.h")
)  # shared by kernels: any change rebuilds

setup(
    ext_modules=[
        Extension(
            ".".join(src.with_suffix("").parts),
            [str(src)],
            depends=HEADERS,
            optional=True,
            extra_compile_args=["-O2", "-std=c11"],
        )
        for src in SOURCES
    ]
)
