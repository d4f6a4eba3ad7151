#!/usr/bin/env bash
# Re-create the four real pull-request cases of tests/fixtures/pr2016 from the 2016 nixpkgs tree.
#
#   scripts/pr-cases.sh GIT_DIR WORK [--trees-only]
#
# GIT_DIR: a git directory holding nixpkgs a1884e63797cbc5f13a5a42663fa109aa2a86481 (master, 2016-06-24; e.g.
# the ericbmerritt/nixpkgs mirror). WORK: a scratch folder (trees and evaluations go there, ~1 GB).
# Steps, as for ../shared/data: export the tree without the generated hackage-packages.nix (absent from the
# mirror) and stub Haskell the same way; copy it once per case and make the edit; evaluate base and each head
# with `impact eval` (nixpkgs jobset for three systems, nixos jobset for x86_64-linux), one at a time under a
# lock; compute Nix's out-path diff with scripts/outpath_diff.py; write the deltas with make_pr_fixture.py.
set -euo pipefail
GIT_DIR=$1
WORK=$2
HERE=$(cd "$(dirname "$0")/.." && pwd)
IMPACT=${IMPACT:-impact}
PYTHON=${PYTHON:-python3}
COMMIT=a1884e63797cbc5f13a5a42663fa109aa2a86481
OUT=$HERE/tests/fixtures/pr2016
mkdir -p "$WORK/trees/base/npm" "$WORK/evals" "$OUT"

# The tree (folder `npm`, as the shared snapshot's source tree is named), Haskell stubbed.
git --git-dir="$GIT_DIR" archive "$COMMIT" -- . ':!pkgs/development/haskell-modules/hackage-packages.nix' \
  | tar -x -C "$WORK/trees/base/npm"
B=$WORK/trees/base/npm
printf '{ pkgs, stdenv, callPackage }: self: {}\n' > "$B/pkgs/development/haskell-modules/hackage-packages.nix"
sed -i 's|^  haskell = callPackage ./haskell-packages.nix { };|  haskell = throw "haskell: hackage-packages.nix is not available (stubbed)";|' \
  "$B/pkgs/top-level/all-packages.nix"

for case in kernel newpkg docker darwin; do
  rm -rf "$WORK/trees/$case" && mkdir -p "$WORK/trees/$case" && cp -a "$B" "$WORK/trees/$case/npm"
done
T=$WORK/trees
# 1. The default kernel 4.4 → 4.6 (an alias edit: linuxPackages re-pointed to a set already built).
sed -i 's|^  linuxPackages = self.linuxPackages_4_4;|  linuxPackages = self.linuxPackages_4_6;|' \
  "$T/kernel/npm/pkgs/top-level/all-packages.nix"
# 2. A new package (nnn, with a maintainer).
mkdir -p "$T/newpkg/npm/pkgs/applications/misc/nnn"
cp "$HERE/tests/fixtures/pr2016/nnn.nix" "$T/newpkg/npm/pkgs/applications/misc/nnn/default.nix"
sed -i 's|^  mdp = callPackage ../applications/misc/mdp { };|&\n\n  nnn = callPackage ../applications/misc/nnn { };|' \
  "$T/newpkg/npm/pkgs/top-level/all-packages.nix"
# 3. docker split into out + man.
f=$T/docker/npm/pkgs/applications/virtualization/docker/default.nix
sed -i 's|^  dontStrip = true;|  outputs = [ "out" "man" ];\n\n  dontStrip = true;|' "$f"
sed -i 's|^    install -Dm644 ./contrib/completion/zsh/_docker $out/share/zsh/site-functions/_docker|&\n\n    # man pages\n    mkdir -p $man/share/man/man1\n    cp man/man1/*.1 $man/share/man/man1/|' "$f"
# 4. A darwin-only edit of libpng (the Linux derivations keep their text).
f=$T/darwin/npm/pkgs/development/libraries/libpng/default.nix
sed -i 's|^  preConfigure = "export bin=$dev";|  preConfigure = "export bin=$dev"\n    + stdenv.lib.optionalString stdenv.isDarwin "\\nexport MACOSX_DEPLOYMENT_TARGET=10.7";|' "$f"

if [ "${3:-}" = --trees-only ]; then exit 0; fi

for case in base kernel newpkg docker darwin; do
  start=$(date +%s)
  flock /work/nixpkgs-eval-2016.lock "$IMPACT" eval "$T/$case/npm" -o "$WORK/evals/$case" \
    --system x86_64-linux --system i686-linux --system x86_64-darwin --nixos
  echo "$case: evaluated in $(( $(date +%s) - start )) s"
done

"$PYTHON" "$HERE/scripts/make_pr_fixture.py" "$HERE/data/nixpkgs-master-2016-06-24.impact" "$WORK/evals/base" \
  "$OUT/base.json.gz" --note "impact eval of nixpkgs $COMMIT over the shipped snapshot"
for case in kernel newpkg docker darwin; do
  "$PYTHON" "$HERE/scripts/make_pr_fixture.py" "$WORK/evals/base" "$WORK/evals/$case" "$OUT/$case.json.gz" \
    --note "impact eval of nixpkgs $COMMIT with the $case edit (scripts/pr-cases.sh)"
done
"$PYTHON" "$HERE/scripts/outpath_diff.py" --expected "$WORK/evals" > "$OUT/expected.json"
