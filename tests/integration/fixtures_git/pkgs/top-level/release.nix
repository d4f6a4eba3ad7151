/* Hydra's nixpkgs jobset: every derivation of the package set for every supported system, as `<attr>.<system>`
   (`pyPackages.<attr>.<system>` for a set marked recurseForDerivations); what nixpkgs' release-lib.nix does with
   packagePlatforms and mapTestOn, in a few lines.

   To evaluate all jobs:
     nix-instantiate pkgs/top-level/release.nix --arg supportedSystems '[ "x86_64-linux" ]'
*/
{ nixpkgs ? { outPath = ../..; revCount = 1234; shortRev = "abcdef"; }
, supportedSystems ? [ "x86_64-linux" "aarch64-linux" ]
}:

let
  lib = import ../../lib;

  pkgsFor = system: import ../.. { inherit system; };

  # The jobs of the value at `path` (of the first system's package set): one a system for a derivation, a set of
  # jobs for a set marked recurseForDerivations, nothing for anything else or a value that fails to evaluate.
  jobsOf = path: value:
    let
      kind = builtins.tryEval (
        if lib.isDerivation value then "derivation"
        else if builtins.isAttrs value && (value.recurseForDerivations or false) then "set"
        else "other");
    in
    if !kind.success || kind.value == "other" then null
    else if kind.value == "derivation"
    then lib.genAttrs supportedSystems (system: lib.getAttrFromPath path (pkgsFor system))
    else builtins.mapAttrs (n: jobsOf (path ++ [ n ])) (removeAttrs value [ "recurseForDerivations" ]);

  jobs = builtins.mapAttrs (n: jobsOf [ n ]) (pkgsFor (builtins.head supportedSystems));
in
jobs
