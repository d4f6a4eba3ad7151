# Hydra's nixos jobset: the NixOS tests, a small system closure, and the version file, which embeds the nixpkgs
# source tree and so changes with every commit.
{ nixpkgs ? { outPath = ./..; revCount = 1234; shortRev = "abcdef"; }
, supportedSystems ? [ "x86_64-linux" "aarch64-linux" ]
}:

let
  lib = import ../lib;

  forAllSystems = lib.genAttrs supportedSystems;

  pkgsFor = system: import ./.. { inherit system; };

  testsFor = system: import ./tests/all-tests.nix { inherit system; pkgs = pkgsFor system; };

  versionSuffix = "pre${toString nixpkgs.revCount}.${nixpkgs.shortRev}";
in
{
  nixos-version = forAllSystems (system: (pkgsFor system).stdenv.mkDerivation {
    name = "nixos-19.09${versionSuffix}";
    src = builtins.path { path = ./..; };
  });

  closures.minimal = forAllSystems (system:
    (import ./lib/eval-config.nix { inherit system; modules = [ ]; }).config.system.build.toplevel);

  tests = builtins.mapAttrs
    (name: _: forAllSystems (system: (testsFor system).${name}))
    (testsFor (builtins.head supportedSystems));
}
