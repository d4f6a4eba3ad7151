# Nix's own answer for the replay benchmark, written apart from impact's jobs.nix on purpose: the jobs of one
# Hydra jobset of a nixpkgs tree, as { attr = { output = path; }; }, walked as hydra-eval-jobs walks a release
# file (every attribute set, each attribute under tryEval). Run by benchmarks/replay.py:
#
#   nix-instantiate --eval --strict --json truth.nix --arg tree ./base --argstr jobset nixpkgs \
#     --arg systems '[ "x86_64-linux" ]' --arg skip '[ ]'
#
# `skip`: attribute paths (dotted) left out, for the jobs whose errors tryEval cannot catch (the driver finds
# them from the last "truth-walk" trace and evaluates again without them).
{ tree, jobset, systems, skip ? [ ] }:
let
  inherit (builtins) attrNames concatMap concatStringsSep elem isAttrs listToAttrs tryEval trace;
  # The jobs the shared evaluations leave out (../shared/data/README.md).
  leftOut = {
    nixpkgs = [ "tarball" "metrics" "manual" "lib-tests" "unstable" ];
    nixos = [ "channel" "manual" "manpages" "options" "iso_graphical" "ova" "tested" ];
  }.${jobset};
  isLeftOut = name: elem name leftOut;
  source = { outPath = tree; revCount = 1; shortRev = "snapshot"; };
  file = if jobset == "nixpkgs" then "/pkgs/top-level/release.nix" else "/nixos/release.nix";
  release = let f = import (tree + file); in
    f (builtins.intersectAttrs (builtins.functionArgs f) { supportedSystems = systems; nixpkgs = source; });
  job = path: v:
    let
      outs = listToAttrs (map (o: { name = o; value = v.${o}.outPath; }) (v.outputs or [ "out" ]));
      t = tryEval (builtins.deepSeq outs outs);
    in if t.success then [ { name = concatStringsSep "." path; value = t.value; } ] else [ ];
  walk = path: v0:
    let
      dotted = concatStringsSep "." path;
      t = trace "truth-walk ${dotted}" (tryEval v0);
      v = t.value;
    in
    if elem dotted skip then [ ]
    else if !t.success then [ ]
    else if isAttrs v && (v.type or null) == "derivation" then job path v
    else if isAttrs v then concatMap (n: walk (path ++ [ n ]) v.${n})
      (builtins.filter (n: path != [ ] || !isLeftOut n) (attrNames v))
    else [ ];
in
listToAttrs (walk [ ] release)
