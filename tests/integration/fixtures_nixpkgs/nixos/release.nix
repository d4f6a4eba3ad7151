# Hydra's nixos jobset: a VM test and a version file that embeds the nixpkgs source tree.
{ nixpkgs ? { outPath = ./..; }, supportedSystems ? [ "x86_64-linux" ] }:
let
  system = builtins.head supportedSystems;
  pkgs = import ../. { inherit system; };
  source = builtins.path { path = nixpkgs.outPath; name = "nixpkgs"; };
in
{
  nixos-version.${system} = pkgs.stdenv.mkDerivation {
    name = "nixos-16.09pre-git";
    src = source;
  };
  tests.bar.${system} = pkgs.stdenv.mkDerivation {
    name = "vm-test-run-bar";
    requiredSystemFeatures = [ "kvm" "nixos-test" ];
    buildInputs = [ pkgs.bar pkgs.hello ];
  };
}
