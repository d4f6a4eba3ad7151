# The package set of one system: all-packages.nix as the fixed point of `self: pkgs:` (stage.nix, in short).
{ system }:
let
  lib = import ../../lib;
  stdenv = import ../stdenv { inherit system lib; };
  allPackages = import ./all-packages.nix { inherit lib stdenv; };
in
lib.fix (pkgs: allPackages pkgs pkgs)
