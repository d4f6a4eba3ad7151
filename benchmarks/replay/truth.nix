# Nix's own answer for the replay benchmark, written apart from impact's jobs.nix on purpose: the jobs of one
# Hydra jobset of a nixpkgs tree, as { attr = { output = path; }; }, walked as hydra-eval-jobs walks a release
# file (every attribute set, each attribute under tryEval). Run by benchmarks/replay.py:
#
#   nix-instantiate --eval --strict --json truth.nix --arg tree ./base --argstr jobset nixpkgs \
#     --arg systems '[ "x86_64-linux" ]' --arg skip '[ ]'
#
# Each job is also traced ("truth-job {json}") as it is found, and each attribute whose evaluation fails, as
# hydra-eval-jobs reports it ("truth-error {json attribute path}"). A job whose error tryEval cannot catch (a missing
# file, an abort) stops Nix: the driver keeps the jobs traced so far, records that job (the last "truth-walk"
# trace) as failing, and evaluates again from just after it (`after`, its attribute path), as Hydra goes on.
#
# `slices`/`slice`: only the jobs whose first two attribute names hash to `slice` modulo `slices` (a job at depth
# one belongs to slice 0), so that the driver can evaluate one tree in parallel processes.
{ tree, jobset, systems, after ? [ ], slices ? 1, slice ? 0 }:
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
      record = { name = concatStringsSep "." path; value = t.value; };
    # The trace is on the list, not its element: the walk builds the whole list before listToAttrs forces any
    # element, so an error that stops Nix later in the walk would otherwise lose every job found before it.
    in if t.success then trace "truth-job ${builtins.toJSON record}" [ record ] else failed path;
  failed = path: trace "truth-error ${builtins.toJSON path}" [ ];
  # Walk order is the order of attribute names at each level: `before a b` when path a comes before path b and
  # is not one of its ancestors.
  before = a: b:
    if a == [ ] || b == [ ] then false
    else if builtins.head a == builtins.head b then before (builtins.tail a) (builtins.tail b)
    else builtins.lessThan (builtins.head a) (builtins.head b);
  done = path: after != [ ] && (path == after || before path after);
  hexDigits = builtins.listToAttrs (builtins.genList (i: { name = builtins.substring i 1 "0123456789abcdef"; value = i; }) 16);
  keyNumber = key:
    let h = builtins.hashString "sha256" key; in
    builtins.foldl' (n: i: n * 16 + hexDigits.${builtins.substring i 1 h}) 0 (builtins.genList (i: i) 7);
  inSlice = path:
    slices <= 1
    || (if builtins.length path == 1 then slice == 0
        else let n = keyNumber (concatStringsSep "." path); in n - (n / slices) * slices == slice);
  walk = path: v0:
    let
      dotted = concatStringsSep "." path;
      t = trace "truth-walk ${builtins.toJSON path}" (tryEval v0);
      v = t.value;
    in
    if done path then [ ]
    else if builtins.length path == 2 && !inSlice path then [ ]
    else if !t.success then (if builtins.length path > 2 || inSlice path then failed path else [ ])
    else if isAttrs v && (v.type or null) == "derivation" then (if builtins.length path < 2 && !inSlice path then [ ] else job path v)
    else if isAttrs v then concatMap (n: walk (path ++ [ n ]) v.${n})
      (builtins.filter (n: path != [ ] || !isLeftOut n) (attrNames v))
    else [ ];
in
listToAttrs (walk [ ] release)
