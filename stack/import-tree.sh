#!/usr/bin/env bash
# mypy and import-linter find a package by walking its folder, so they cannot follow
# setuptools' package-dir mapping (bundlestream.api -> api/). This builds a tree of
# links with the installed layout, .typecheck/bundlestream/{api,core,...}, for them.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=.typecheck/bundlestream
rm -rf .typecheck
mkdir -p "$tree"
for entry in bundlestream/*; do
  ln -s "../../$entry" "$tree/"
done
for folder in core adapters api streams projections schemas console; do
  ln -s "../../$folder" "$tree/$folder"
done
