# A NixOS VM test: its machine evaluated by eval-config.nix, and the test run as a derivation.
{ system, pkgs }:

{ name, machine ? { }, testScript }:

let
  node = import ./eval-config.nix { inherit system pkgs; modules = [ machine ]; };
in
pkgs.stdenv.mkDerivation {
  name = "vm-test-run-${name}";
  requiredSystemFeatures = [ "kvm" "nixos-test" ];
  machine = node.config.system.build.toplevel;
  inherit testScript;
}
