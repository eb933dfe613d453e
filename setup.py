"""Packaging for Beam workers (`--setup_file`, added automatically on remote runners): the project's
packages and the dependencies the pipeline's DoFns import. Metadata and dependencies: pyproject.toml."""

import setuptools

setuptools.setup()
